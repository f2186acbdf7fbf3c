// Package quant turns desktop-trained float models (ONNX from PyTorch or Keras, float TensorFlow
// Lite) into edgeinfer's int8 models: import, graph transforms (BatchNorm folding, RepVGG branch
// fusion), float reference execution, calibration and quantization, accuracy reports.
//
// Built so far, the float side (the project's issue "Quantize desktop-trained models"):
//
//   - quant/graph: a float32 graph IR shaped for transforms (nodes with ONNX op types and attributes,
//     named tensors, float32 initializers), with Validate and Run, a plain-loop NCHW reference
//     execution that calibration and accuracy reports will measure the int8 model against;
//   - quant/onnx: Read/ReadFile import ONNX opsets 11 to 17 (Conv including grouped and depthwise,
//     BatchNormalization, Relu, Clip, Add, Mul by a constant, the pools, Flatten, Reshape, Gemm,
//     MatMul, Concat, Pad, ReduceMean, Identity, Constant, Dropout), tested against ONNX Runtime;
//   - quant/onnx/onnxpb: Go types generated from ONNX's onnx.proto;
//   - quant/onnx/onnxtest: small ONNX models built in Go, for tests.
//
// Not built yet: BatchNorm folding, RepVGG fusion, calibration, quantization into models.Model,
// float TensorFlow Lite import. Today edgeinfer runs models that TensorFlow Lite's converter already
// quantized (models/tflite).
package quant

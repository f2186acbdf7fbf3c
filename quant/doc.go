// Package quant turns desktop-trained float models (ONNX from PyTorch or Keras, float TensorFlow
// Lite) into edgeinfer's int8 models: import, graph transforms (BatchNorm folding, RepVGG branch
// fusion), float reference execution, calibration and quantization, accuracy reports.
//
// The packages, in the order a model goes through them:
//
//   - quant/onnx: Read/ReadFile import ONNX opsets 11 to 17 (Conv including grouped and depthwise,
//     BatchNormalization, Relu, Clip, Add, Mul, the pools, Flatten, Reshape, Gemm, MatMul, Concat,
//     Pad, ReduceMean, Identity, Constant, Dropout; for ViTs Softmax, LayerNormalization, Sub, Div,
//     Pow, Sqrt, Erf, Tanh, Transpose, Gather), tested against ONNX Runtime;
//     quant/onnx/onnxpb holds the generated protobuf types, quant/onnx/onnxtest builds small ONNX
//     models (and MobileNetV2- and RepVGG-shaped test networks) in Go;
//   - quant/graph: a float32 graph IR shaped for transforms, with Validate and Run, the NCHW
//     reference execution that calibration and accuracy reports measure the int8 model against;
//   - quant/transform: BatchNorm folding, RepVGG branch fusion, activation fusion, Pad and constant
//     folding, each keeping the float outputs (Simplify runs them all);
//   - quant/dataset: calibration and evaluation images (ImageFolder directories, CIFAR-10 batches);
//   - quant/calibrate: per-tensor statistics and range selection (minmax, percentile, KL, cosine);
//   - quant/quantize: calibration runs, the int8 models.Model (per-channel weights, TFLite
//     semantics), the eq search, bias correction, per-layer comparison, classifiers for accuracy;
//   - quant/report: the HTML accuracy report of `edgeinfer quantize --report`;
//   - quant/tflitegraph: float TensorFlow Lite models (read by models/tflite) as graphs.
package quant

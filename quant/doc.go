// Package quant will turn desktop-trained float models (ONNX from PyTorch or Keras, float TensorFlow
// Lite) into edgeinfer's int8 models: import, graph transforms (BatchNorm folding, RepVGG branch
// fusion), float reference execution, calibration and quantization, accuracy reports.
//
// Nothing is implemented here yet: the work is described in the project's issue "Quantize
// desktop-trained models". Today edgeinfer runs models that TensorFlow Lite's converter already
// quantized (models/tflite).
package quant

// Package tflite imports float32 TensorFlow Lite models into quant/graph's float IR, so that a model
// trained with Keras and converted without quantization can be calibrated and quantized like an ONNX
// one. The flatbuffer is read (and checked) by models/tflite; this package turns the float ops into
// the graph's ONNX-spelled nodes and its NCHW layout:
//
//   - the graph input keeps its name and becomes N, C, H, W (TensorFlow Lite's is N, H, W, C);
//   - CONV_2D filters (O, H, W, I) become Conv weights (O, I, H, W); DEPTHWISE_CONV_2D filters
//     (1, H, W, C*M) become grouped Conv weights (C*M, 1, H, W) with group C;
//   - FULLY_CONNECTED becomes Gemm (transB = 1) after a Flatten; when it reads an N, H, W, C tensor
//     flattened with H*W > 1, its weight columns are permuted from H, W, C order to C, H, W order;
//   - fused activations become Relu or Clip nodes after the op (quant/transform fuses them back);
//   - AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, ADD, CONCATENATION, PAD, RESHAPE/SQUEEZE and SOFTMAX
//     map to their ONNX namesakes with axes moved to NCHW.
//
// Anything the graph cannot express (an int8 or uint8 model, a quantize op, a reshape that mixes
// dimensions, a softmax beta other than 1) is an error naming the op.
package tflite

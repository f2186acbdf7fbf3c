// Package tflitegraph imports float TensorFlow Lite models into quant/graph, so that they can be
// calibrated and quantized like ONNX models. models/tflite reads the flatbuffer (explicit pads,
// fused activations, RELU folded); FromModel then rewrites its float32 NHWC ops as NCHW graph
// nodes with ONNX's names and attributes:
//
//   - CONV_2D (OHWI filter) and DEPTHWISE_CONV_2D ([1, KH, KW, C*M] filter) become Conv (OIHW,
//     group C for depthwise); FULLY_CONNECTED becomes Gemm with transB, its weight columns
//     reordered from HWC to CHW when its input is a flattened 4-D tensor;
//   - ADD, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN over H and W, CONCATENATION, PAD, RESHAPE (to 2-D)
//     and SOFTMAX become Add, AveragePool, MaxPool, ReduceMean, Concat, Pad, Flatten and Softmax;
//   - TRANSPOSE, SLICE, STRIDED_SLICE, SPLIT, SPLIT_V and RESHAPE between other ranks become
//     Transpose, Slice and Reshape on the tensor in the file's NHWC order (a 4-D input transposed
//     to NHWC first, a 4-D output back to NCHW; the quantizer's lowering makes these free where it
//     can: a float ShuffleNet's shuffle keeps one Transpose in int8);
//   - fused activations become graph.ActMin and graph.ActMax.
//
// Quantized models are not for this package (convert them with `edgeinfer convert`): an int8 or
// uint8 tensor, a QUANTIZE or DEQUANTIZE op, is an error naming the op.
package tflitegraph

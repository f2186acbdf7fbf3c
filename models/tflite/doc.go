// Package tflite reads TensorFlow Lite models (.tflite flatbuffers) into edgeinfer's model IR
// (package models).
//
// # What is read
//
// Subgraph 0 only, through the Go bindings of TensorFlow Lite's official schema
// (internal/tflite/schema/tflitefb). Its inputs and outputs are the model's. Tensors keep their
// name, shape and quantization (scales, zero points narrowed from int64 to int32 with a range
// check, quantized_dimension as Quant.Axis; no scale means no quantization, a nil Quant). FLOAT32,
// FLOAT16, INT8, UINT8, INT32, INT16 and INT64 map to the DTypes of the same name; other types are
// an error naming the tensor. A tensor whose buffer is empty (buffer 0, or an empty data vector) is
// an activation; otherwise its bytes are the buffer's data, or, for files above 2 GB, the bytes at
// the buffer's offset and size in the file. Constant data aliases the file's bytes.
//
// # Operators
//
// The opcode is max(deprecated_builtin_code, builtin_code). CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, ADD, CONCATENATION, SOFTMAX, QUANTIZE and
// DEQUANTIZE map to the op of the same name; RESHAPE and SQUEEZE to OpReshape (the output tensor's
// shape is the new shape: the shape input is dropped); PAD and PADV2 to OpPad (Paddings from the
// constant [rank, 2] input; PADV2's value must be the output's zero point, the value OpPad pads
// with); TRANSPOSE to OpTranspose (Axes from the constant permutation); SLICE and STRIDED_SLICE
// to OpSlice (Paddings begin, end per dimension from the constant inputs; STRIDED_SLICE's positive
// strides in Axes, its begin, end and shrink-axis masks applied, ellipsis and new-axis masks
// refused); SPLIT and SPLIT_V to one OpSlice per output (shuffle.go). SAME and VALID padding become explicit Pad [top, left, bottom, right] by TensorFlow Lite's
// rule (tensorflow/lite/kernels/padding.h): out = SAME ? ceil(in/stride) : ceil((in-k'+1)/stride)
// with k' = (k-1)*dilation+1, total = max((out-1)*stride+k'-in, 0), top = total/2, bottom = the
// rest. The output shape the file states must be the one these rules compute. Axes (MEAN) and Axis
// (CONCATENATION) are made non-negative. Fused activations NONE, RELU, RELU6 and RELU_N1_TO_1 become
// Activation. A standalone RELU, RELU6 or RELU_N1_TO_1 is folded into the activation of the op that
// produces its input, if that op is a convolution, fully connected, add or pool, nothing else reads
// its output and the quantization does not change; otherwise it is an error. A DEQUANTIZE of a
// FLOAT16 constant (float16 models) is folded away: the constant, which stays Float16 (the runtime
// widens it when it loads), takes the place of its output. Any other operator, fused activation or
// option the runtime does not implement (grouped or hybrid convolution, shuffled weights,
// broadcasting ADD, ...) is an error naming the file, the op's index and its operator, e.g.
//
//	tflite: m.tflite: op 7 (TANH): unsupported operator
//
// The ops keep the file's order, which must be an execution order. An op's Name is the name of
// its output tensor in the file.
//
// # UINT8 becomes INT8
//
// The runtime computes in int8 only. Every UINT8 tensor, activation or constant, becomes INT8 with
// the same real values: each element and zero point moves down by 128 (real = scale*(q-zp) is
// unchanged), so the weights of TF1 quantization-aware models, asymmetric, keep non-zero zero
// points. Converted constants are copies; the file is never modified. The model's interface stays
// as it was: a UINT8 graph input becomes a new UINT8 input tensor (the file's name and
// parameters) followed by an OpQuantize into the INT8 tensor (renamed NAME/int8), and a UINT8
// graph output is computed in INT8 and then quantized by an OpQuantize into a new UINT8 output
// tensor of the file's name and parameters.
//
// # Corrupt files
//
// Before anything is read through the generated accessors, which trust offsets and would panic on
// bad ones, every table, vector and string used is checked to lie inside the file (after the "TFL3"
// identifier). Indices of tensors, buffers, opcodes and subgraphs are bounds-checked, shapes must
// have non-negative dimensions and at most 1<<28 elements, constant data must hold exactly the
// shape's bytes. A recover turns any panic left into an error ("malformed flatbuffer"). The
// converted model is finally checked as a whole: every op input computed before it, every tensor
// written once, graph outputs computed.
package tflite

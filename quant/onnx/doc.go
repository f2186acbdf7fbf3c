// Package onnx imports ONNX models (opsets 11 to 17, the default domain) into quant/graph's float32
// IR: Read parses the protobuf (types generated in onnxpb), decodes initializers (FLOAT, FLOAT16,
// BFLOAT16 and DOUBLE to float32; INT64, INT32 and BOOL where they are shapes, pads or flags) and normalises the
// ops, so that later passes see one spelling of each:
//
//   - Conv (2-D, any group: depthwise included), BatchNormalization (inference), Relu, Add,
//     Mul (one operand constant), GlobalAveragePool, AveragePool, MaxPool, Flatten, Gemm, MatMul,
//     Concat, ReduceMean, Identity and Transpose keep their ONNX names and attributes;
//   - Clip's min and max, Reshape's shape, Pad's pads and constant_value, Slice's starts, ends,
//     axes and steps, Split's split (opset 13+), given as constant inputs, become the attributes
//     min, max, shape, pads, value, starts, ends, axes, steps and split;
//   - Split keeps every output (the only op with several);
//   - Constant nodes become initializers; Dropout becomes Identity;
//   - the integer shape arithmetic PyTorch exports (Shape, Gather, Squeeze, Unsqueeze, Concat, Slice,
//     Reshape, Add, Sub, Mul, Div, Equal, Where, Cast, ConstantOfShape on integers) and Expand of
//     a float constant are folded into constants (shapes.go); Squeeze and Unsqueeze of computed
//     float tensors become Reshape, and a Squeeze of a Split's part of size 1 a Gather of it
//     (squeeze.go). TestFolds and TestORTFolds check each fold, and its bad forms.
//
// Anything else (another op, an attribute it does not know or a value it does not implement, a
// training-mode flag, external data, another opset) is an error naming the model and the node
// (index, name, op type) that wraps ErrUnsupported. Malformed bytes are errors too, never panics
// (FuzzRead).
package onnx

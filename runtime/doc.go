// Package runtime executes a models.Model: batch 1, NHWC, int8 activations, int8 per-channel
// weights, int32 bias and accumulators, with TensorFlow Lite's integer semantics (its reference
// kernels, tensorflow/lite/kernels/internal/reference, are the specification; internal/fixedpoint
// holds the shared arithmetic).
//
// New prepares a model once: it checks every op's shapes and types, computes the requantization
// parameters, chooses each op's kernel (the generic implementation in this package, or a fast kernel
// from kernels_arm where one applies) and plans the activation memory, so that tensors whose
// lifetimes do not overlap share bytes of one arena. After that, Interpreter.Run allocates nothing.
//
// Float tensors appear only at the edges of a graph (Quantize, Dequantize); every other op runs on
// int8. Importers convert uint8 models to int8 (see models/tflite).
package runtime

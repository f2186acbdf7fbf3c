// Package graph is quant's float32 graph IR: the form desktop-trained models take between import
// (quant/onnx) and quantization, shaped for graph transforms such as BatchNorm folding.
//
// A Graph is a list of Nodes in topological order. Nodes name their input and output tensors;
// constants (weights, biases, BatchNorm statistics) are float32 Initializers, found by name. Op types
// and attribute names are ONNX's, after the importer has normalised them: operands that ONNX passes
// as constant inputs but that are really parameters (Reshape's shape, Pad's pads, Clip's bounds)
// become attributes, Constant nodes become initializers, Dropout becomes Identity. Layout is NCHW.
//
// Run executes a graph with straightforward float32 loops. It is the reference the quantized
// model is measured against, not a fast path: clarity over speed, every shape checked, errors
// instead of panics.
package graph

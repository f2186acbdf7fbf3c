// Package tfliteref is a differential oracle for the runtime: it writes small TensorFlow Lite models
// (one op, or a few) and runs them with real TensorFlow Lite.
//
// Builder writes .tflite flatbuffers through the object API of the generated schema bindings
// (internal/tflite/schema/tflitefb): tensors of any type, per-tensor or per-channel quantization,
// constants, operators with their builtin options.
//
// Runner executes a model with the WebAssembly TensorFlow Lite that the npm package
// @tensorflow/tfjs-tflite ships (XNNPACK on, one thread), through the script run.js of
// ../shared/tools/tflite-ref beside the repository and node. That script feeds one input tensor and
// returns output 0, so the models built for it have one activation input: second operands (ADD,
// CONCATENATION) are constants. Setup: .ci/tflite-ref-setup.sh (node, npm and the npm install).
//
// Tests call Require, which skips them with a message saying what is missing (node, run.js, the npm
// install) or fails them when EDGEINFER_REQUIRE_DATA=1.
package tfliteref

// Package graph is quant's float32 graph IR: the form desktop-trained models take between import
// (quant/onnx) and quantization, shaped for graph transforms such as BatchNorm folding.
//
// A Graph is a list of Nodes in topological order. Nodes name their input and output tensors;
// constants (weights, biases, BatchNorm statistics) are float32 Initializers, found by name. Op types
// and attribute names are ONNX's, after the importer has normalised them: operands that ONNX passes
// as constant inputs but that are really parameters (Reshape's shape, Pad's pads, Clip's bounds)
// become attributes, Constant nodes become initializers, Dropout becomes Identity. Layout is NCHW.
//
// Run executes a graph in float32. It is the reference the quantized model is measured against, and
// the engine of calibration and of `edgeinfer eval` on float models: every shape checked, errors
// instead of panics, and fast where the time goes. Conv (after im2col; one image's 1x1 convolutions read
// their input as it is), Gemm and MatMul run on a blocked SGEMM (sgemm.go) whose 6x16 micro-kernel is
// AVX2/FMA assembly on amd64 CPUs that have it (golang.org/x/sys/cpu; GODEBUG=cpu.avx2=off or
// cpu.fma=off selects the pure-Go twin, the only kernel elsewhere); each Conv node, and each Gemm
// whose B is transposed weights (PyTorch's classifiers), keeps its weights packed for it after the
// first Run (in each orientation the GEMM is computed in).
// im2col copies output rows of 16 pixels or more row by row and gathers shorter ones (the 2x2 to
// 8x8 maps of a CIFAR-10 network) through a table of offsets into zero-bordered planes. Depthwise
// convolutions run a direct loop over a zero-bordered copy of each input plane, its 3-tap rows at
// stride 1 in AVX2 as well (depthwise_amd64.s), and 3x3 kernels on rows shorter than 8 all nine
// taps of an output at once. Run is safe for concurrent use: calibration and
// evaluation run several images at once.
//
// Batches (batch.go): RunBatch runs a graph that declares a batch of one on B samples at once,
// when Batchable finds that every node keeps the samples independent. Conv then multiplies the
// patches of as many images as fit in 512 KB (conv.go's batchBudget) by the weights in one GEMM,
// so the weights stream from memory once per batch rather than once per image: what limits a
// small-input network such as the CIFAR-10 RepVGG-A0, whose 31 MB of weights each meet only 4 to
// 256 pixels of an image. Every output is the same sum in the same order as for the image alone,
// so RunBatch's results are bit for bit Run's (batch_test.go, conv_test.go's TestConvBatchExact);
// `edgeinfer eval` scores float models 16 images at a time this way (quantize.BatchClassifier).
//
// Accuracy: the GEMM sums each output in blocks of 256 products, in order, with one rounding per
// fused multiply-add on the assembly path, so results differ from a textbook loop by rounding only:
// at most about K·2^-24 of Σ|w·x| for a dot product of length K (sgemm_test.go, conv_test.go check
// (K+2)·2^-23 against float64). The depthwise loop sums in the textbook order (bit for bit in Go;
// the AVX2 rows round once per tap). Whole networks stay within 1e-4 of ONNX Runtime (quant/onnx's
// differential tests; the trained CIFAR-10 networks within 2e-6).
package graph

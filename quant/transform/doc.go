// Package transform rewrites a quant/graph float graph into the form quantization expects, keeping
// its float outputs equal (to rounding):
//
//   - FoldConstants evaluates nodes whose inputs are all constants; RemoveIdentity drops Identity
//     (and so inference-mode Dropout); RemoveDead deletes nodes whose outputs nothing reads;
//   - FoldBatchNorm merges a BatchNormalization into the Conv, Gemm or MatMul before it, and turns
//     any other BatchNormalization into a 1x1 depthwise Conv (scale and bias per channel);
//   - FuseBranches merges Add(Conv(x), Conv(x)) into one Conv when both read the same input with
//     the same stride and centred kernels: the RepVGG training-time block (3x3 conv+BN, 1x1 conv+BN,
//     identity BN, summed) becomes one 3x3 Conv with bias, as in RepVGG's get_equivalent_kernel_bias
//     (the 1x1 kernel padded to 3x3, the identity BN a 3x3 kernel with its scale at the centre of
//     channel i);
//   - FuseActivations merges Relu and Clip(0, 6) / Clip(-1, 1) into the Conv, Gemm or Add before
//     them (graph.ActMin, graph.ActMax);
//   - FoldPad merges a zero constant Pad of the spatial axes into the Conv after it;
//   - MatMulToGemm makes MatMul by a constant matrix a Gemm;
//   - the transformer family (vit.go): FuseGelu (the erf and tanh forms into one Gelu node),
//     FuseLayerNorm (the decomposed ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add chain into
//     LayerNormalization), FuseLinear (MatMul by a constant on tokens, plus its bias Add, into
//     Linear), FuseTokens (a convolution's flatten(2).transpose(1, 2) into ToTokens) and SplitHeads
//     (multi-head attention into one rank-3 branch per head: Linear, BatchMatMul with adj_y,
//     Softmax, BatchMatMul, then Concat), so that no Transpose, no 4-D head tensor and no Mul of
//     two computed tensors is left to quantize.
//
// Simplify runs them all to a fixed point. Every pass leaves a valid graph and never changes the
// graph's inputs, outputs or their names.
package transform

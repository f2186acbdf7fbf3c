package onnx

import "github.com/edgeinfer/edgeinfer/quant/graph"

// The activations of squeeze-excitation blocks, MobileNetV3 and EfficientNet: Sigmoid (also inside
// SiLU/Swish, x * Sigmoid(x)), HardSigmoid (alpha 0.2, beta 0.5 by default; PyTorch exports its
// Hardsigmoid with alpha 1/6) and HardSwish (opset 14). Mul of two computed tensors (the
// channel-wise scale of a squeeze-excitation block) needs nothing here.
func init() {
	for op, kinds := range map[string]map[string]graph.AttrKind{
		"Sigmoid":     {},
		"HardSigmoid": {"alpha": graph.AttrFloat, "beta": graph.AttrFloat},
		"HardSwish":   {},
	} {
		attrKinds[op] = kinds
		arity[op] = [3]int{1, 1, 1}
	}
}

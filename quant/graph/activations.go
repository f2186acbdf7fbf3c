package graph

import "math"

// Activations of one element each: Sigmoid, HardSigmoid, HardSwish (ONNX), and SiLU, x * sigmoid(x),
// which quant/transform makes of Mul(x, Sigmoid(x)) (it has no ONNX op of its own).
func init() {
	floatOps["Sigmoid"] = one(func(n *Node, ins []*Tensor) (*Tensor, error) { return unary(ins, Sigmoid) })
	floatOps["HardSigmoid"] = one(func(n *Node, ins []*Tensor) (*Tensor, error) {
		alpha, beta := n.AttrFloat("alpha", 0.2), n.AttrFloat("beta", 0.5)
		return unary(ins, func(v float32) float32 { return HardSigmoid(v, alpha, beta) })
	})
	floatOps["HardSwish"] = one(func(n *Node, ins []*Tensor) (*Tensor, error) { return unary(ins, HardSwish) })
	floatOps["SiLU"] = one(func(n *Node, ins []*Tensor) (*Tensor, error) { return unary(ins, SiLU) })
}

// Sigmoid is 1 / (1 + e^-v), computed in float64 and rounded once.
func Sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

// HardSigmoid is max(0, min(1, alpha*v + beta)) (ONNX HardSigmoid).
func HardSigmoid(v, alpha, beta float32) float32 { return max(0, min(1, alpha*v+beta)) }

// HardSwish is v * max(0, min(1, v/6 + 1/2)) (ONNX HardSwish, opset 14).
func HardSwish(v float32) float32 { return v * max(0, min(1, v*(1.0/6)+0.5)) }

// SiLU is v * sigmoid(v) (also called Swish), rounded once: a Mul of v and Sigmoid(v), which it
// replaces, rounds twice, and can differ from it in the last bit.
func SiLU(v float32) float32 { return float32(float64(v) / (1 + math.Exp(-float64(v)))) }

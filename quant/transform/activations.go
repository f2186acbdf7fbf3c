package transform

import (
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// Passes for squeeze-excitation blocks, MobileNetV3 and EfficientNet.

// FuseSwish rewrites Mul(x, Sigmoid(x)) as SiLU(x) (EfficientNet's Swish) and Mul(x, HardSigmoid(x))
// with PyTorch's Hardsigmoid (alpha 1/6, beta 1/2) as HardSwish(x), when the activation's output is
// read by that Mul only. Quantized, each becomes one table lookup instead of an activation, a Mul and
// a quantization step between them.
func FuseSwish(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		if n.Op != "Mul" || len(n.Inputs) != 2 || len(n.Outputs) != 1 {
			continue
		}
		if _, _, fused := graph.FusedClamp(n); fused {
			continue
		}
		prods := producers(g)
		for k := range 2 {
			x, gate := n.Inputs[k], n.Inputs[1-k]
			p := prods[gate]
			if p == nil || len(p.Inputs) != 1 || p.Inputs[0] != x || len(p.Outputs) != 1 || uses(g)[gate] != 1 || g.IsOutput(gate) {
				continue
			}
			var op string
			switch {
			case p.Op == "Sigmoid":
				op = "SiLU"
			case p.Op == "HardSigmoid" && isHardSwishGate(p):
				op = "HardSwish"
			default:
				continue
			}
			*n = graph.Node{Name: n.Name, Op: op, Inputs: []string{x}, Outputs: n.Outputs, Attrs: map[string]graph.Attr{}}
			g.Nodes = slices.DeleteFunc(g.Nodes, func(m *graph.Node) bool { return m == p })
			i = -1 // indices moved: start over
			count++
			break
		}
	}
	return count, nil
}

// isHardSwishGate reports whether a HardSigmoid node is relu6(x+3)/6: alpha 1/6 and beta 1/2, as
// PyTorch exports nn.Hardsigmoid (float32 rounding allowed).
func isHardSwishGate(n *graph.Node) bool {
	a, b := n.AttrFloat("alpha", 0.2), n.AttrFloat("beta", 0.5)
	return math.Abs(float64(a)-1.0/6) < 1e-6 && b == 0.5
}

// FoldChannelAffine treats Mul and Add by a constant that varies only along the channel axis (shape
// [C,1,1] or [1,C,1,1] for a 4-D input; [C] or [1,C] for a 2-D one) as the per-channel affine map it
// is: folded into the Conv or Gemm that alone feeds it, like a BatchNormalization, or otherwise made a
// 1x1 depthwise Conv (a pre-activation BatchNormalization written as Mul and Add, DenseNet-BC).
func FoldChannelAffine(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		if (n.Op != "Mul" && n.Op != "Add") || len(n.Inputs) != 2 || len(n.Outputs) != 1 {
			continue
		}
		if _, _, fused := graph.FusedClamp(n); fused {
			continue
		}
		k := 1
		c := g.Const(n.Inputs[1])
		if c == nil {
			k, c = 0, g.Const(n.Inputs[0])
		}
		if c == nil || g.Const(n.Inputs[1-k]) != nil {
			continue
		}
		x := n.Inputs[1-k]
		vec, ok := channelVector(c.Shape, staticRanks(g)[x])
		if !ok {
			continue
		}
		s := make([]float32, vec)
		t := make([]float32, vec)
		for j := range vec {
			if n.Op == "Mul" {
				s[j] = c.Data[j]
			} else {
				s[j], t[j] = 1, c.Data[j]
			}
		}
		a := &graph.Node{Name: n.Name, Op: n.Op, Inputs: []string{x}, Outputs: n.Outputs, Attrs: n.Attrs}
		*n = *a
		changed, removed, err := applyAffine(g, n, s, t)
		if err != nil {
			return count, err
		}
		if !changed {
			// Put the node back as it was found.
			if k == 1 {
				n.Inputs = []string{x, c.Name}
			} else {
				n.Inputs = []string{c.Name, x}
			}
			continue
		}
		if removed {
			i--
		}
		count++
	}
	return count, nil
}

// channelVector returns C when a constant of shape s varies only along the channel axis (axis 1) of
// an input of the given rank (4: NCHW, 2: [N, C]), with more than one channel.
func channelVector(s []int, rank int) (int, bool) {
	// Right-aligned with the input's shape, s must be [C,1,1] (4-D) or [C] (2-D), leading 1s allowed.
	trail := map[int]int{4: 2, 2: 0}[rank]
	if rank != 4 && rank != 2 || len(s) < trail+1 || len(s) > rank {
		return 0, false
	}
	for _, d := range s[len(s)-trail:] {
		if d != 1 {
			return 0, false
		}
	}
	for _, d := range s[:len(s)-trail-1] {
		if d != 1 {
			return 0, false
		}
	}
	c := s[len(s)-trail-1]
	return c, c > 1
}

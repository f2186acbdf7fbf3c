package quantize

import (
	"math"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// Lowerings of the squeeze-excitation family: Sigmoid and HardSwish become TensorFlow Lite's
// LOGISTIC and HARD_SWISH; HardSigmoid and SiLU, which TensorFlow Lite has no int8 op for (its
// converter spells them as several ops), become one Table op computed here from the float function;
// Mul becomes an int8 Mul with broadcasting (the channel-wise scale of squeeze-excitation).

func init() {
	lowerers["Sigmoid"] = (*lowering).sigmoid
	lowerers["HardSwish"] = (*lowering).hardSwish
	lowerers["HardSigmoid"] = (*lowering).table
	lowerers["SiLU"] = (*lowering).table
	lowerers["Mul"] = (*lowering).mul
}

// probabilityQuant is TensorFlow Lite's fixed int8 quantization of values in [0, 1] (LOGISTIC's
// required output quantization, also used for HardSigmoid).
func probabilityQuant() *models.Quant {
	return &models.Quant{Scale: []float32{1.0 / 256}, ZeroPoint: []int32{-128}}
}

// one checks that node i has one input and one output and returns the input's model tensor.
func (l *lowering) single(i int, n *graph.Node) (int, error) {
	if len(n.Inputs) != 1 || len(n.Outputs) != 1 {
		return 0, l.fail(i, "%d inputs and %d outputs: want 1 and 1", len(n.Inputs), len(n.Outputs))
	}
	if _, _, fused := graph.FusedClamp(n); fused {
		return 0, l.fail(i, "a fused clamp on %s is not supported", n.Op)
	}
	return l.input(i, n, 0)
}

func (l *lowering) sigmoid(i int, n *graph.Node) error {
	x, err := l.single(i, n)
	if err != nil {
		return err
	}
	out, err := l.activation(n.Outputs[0], probabilityQuant())
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpLogistic, Name: n.Name, Inputs: []int{x}, Outputs: []int{out}})
	return nil
}

func (l *lowering) hardSwish(i int, n *graph.Node) error {
	x, err := l.single(i, n)
	if err != nil {
		return err
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	// TensorFlow Lite's HARD_SWISH refuses an input scale over 128 times the output's.
	inQ, outQ := l.m.Tensors[x].Quant, l.m.Tensors[out].Quant
	if inQ.Scale[0] > 128*outQ.Scale[0] {
		return l.table(i, n)
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpHardSwish, Name: n.Name, Inputs: []int{x}, Outputs: []int{out}})
	return nil
}

// elementFunc returns the float function of a one-element op.
func elementFunc(n *graph.Node) func(float32) float32 {
	switch n.Op {
	case "HardSigmoid":
		alpha, beta := n.AttrFloat("alpha", 0.2), n.AttrFloat("beta", 0.5)
		return func(v float32) float32 { return graph.HardSigmoid(v, alpha, beta) }
	case "SiLU":
		return graph.SiLU
	case "HardSwish":
		return graph.HardSwish
	case "Sigmoid":
		return graph.Sigmoid
	}
	return nil
}

// table lowers a one-element function to a Table op: 256 outputs, one per input byte, each the
// function of the dequantized input, quantized with the output's parameters (rounded half away from
// zero, as TensorFlow Lite's LUTPopulate does).
func (l *lowering) table(i int, n *graph.Node) error {
	x, err := l.single(i, n)
	if err != nil {
		return err
	}
	f := elementFunc(n)
	if f == nil {
		return l.fail(i, "no table form for %s", n.Op)
	}
	var q *models.Quant
	if n.Op == "HardSigmoid" {
		q = probabilityQuant()
	}
	out, err := l.activation(n.Outputs[0], q)
	if err != nil {
		return err
	}
	inQ, outQ := l.m.Tensors[x].Quant, l.m.Tensors[out].Quant
	tab := make([]byte, 256)
	for v := -128; v <= 127; v++ {
		real := f(inQ.Scale[0] * float32(int32(v)-inQ.ZeroAt(0)))
		r := math.Round(float64(real/outQ.Scale[0])) + float64(outQ.ZeroAt(0))
		tab[uint8(int8(v))] = byte(int8(max(-128, min(127, r))))
	}
	ti := l.constant(n.Name+"/table", models.Int8, []int{256}, &models.Quant{Scale: outQ.Scale, ZeroPoint: outQ.ZeroPoint}, tab)
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpTable, Name: n.Name, Inputs: []int{x, ti}, Outputs: []int{out}})
	return nil
}

// mul lowers Mul: both operands computed (squeeze-excitation's x * scale), or one a constant, which
// is quantized per tensor over its own range (the per-channel constants of affine layers were folded
// into convolutions by quant/transform before).
func (l *lowering) mul(i int, n *graph.Node) error {
	if len(n.Inputs) != 2 || len(n.Outputs) != 1 {
		return l.fail(i, "%d inputs and %d outputs: want 2 and 1", len(n.Inputs), len(n.Outputs))
	}
	act, ok := activationOf(n)
	if !ok {
		return l.fail(i, "fused clamp is not ReLU, ReLU6 or ReLU-1..1")
	}
	sa, sb := l.shapes[n.Inputs[0]], l.shapes[n.Inputs[1]]
	var ins [2]int
	for k := range 2 {
		c := l.g.Const(n.Inputs[k])
		if c == nil {
			x, err := l.input(i, n, k)
			if err != nil {
				return err
			}
			ins[k] = x
			continue
		}
		if err := checkFinite(c); err != nil {
			return l.fail(i, "%v", err)
		}
		other := sb
		if k == 1 {
			other = sa
		}
		shape, vals := c.Shape, c.Data
		if len(other) == 4 && len(shape) <= 4 {
			// An NCHW constant broadcast against an NCHW activation: its NHWC form.
			for len(shape) < 4 {
				shape = append([]int{1}, shape...)
			}
			vals = nchwToNHWC(vals, shape)
			shape = nhwc(shape)
		}
		lo, hi := float32(0), float32(0)
		for _, v := range vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		q := actQuant(Range{lo, hi})
		data := make([]byte, len(vals))
		for j, v := range vals {
			r := math.Round(float64(v/q.Scale[0])) + float64(q.ZeroPoint[0])
			data[j] = byte(int8(max(-128, min(127, r))))
		}
		ins[k] = l.constant(n.Inputs[k], models.Int8, shape, q, data)
	}
	if len(sa) == 4 && len(sb) != 4 && l.g.Const(n.Inputs[1]) == nil || len(sb) == 4 && len(sa) != 4 && l.g.Const(n.Inputs[0]) == nil {
		return l.fail(i, "Mul of a 4-D and a %d-D activation: unsupported (layouts differ)", min(len(sa), len(sb)))
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpMul, Name: n.Name, Activation: act, Inputs: ins[:], Outputs: []int{out}})
	return nil
}

// nchwToNHWC reorders the values of an NCHW tensor of shape s into NHWC order.
func nchwToNHWC(v []float32, s []int) []float32 {
	N, C, H, W := s[0], s[1], s[2], s[3]
	out := make([]float32, len(v))
	for n := range N {
		for c := range C {
			for h := range H {
				for w := range W {
					out[((n*H+h)*W+w)*C+c] = v[((n*C+c)*H+h)*W+w]
				}
			}
		}
	}
	return out
}

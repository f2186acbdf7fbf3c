package tflitegraph

import (
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// MUL (Keras's squeeze-excitation scale, its swish, and BatchNormalization at inference written as
// MUL and ADD by constants), LOGISTIC and HARD_SWISH of float .tflite files.
func init() {
	converters[models.OpMul] = (*converter).mul
	converters[models.OpLogistic] = unary("Sigmoid")
	converters[models.OpHardSwish] = unary("HardSwish")
}

// unary converts a one-input activation to the graph op typ.
func unary(typ string) func(c *converter, i int, op *models.Op, attrs map[string]graph.Attr) error {
	return func(c *converter, i int, op *models.Op, attrs map[string]graph.Attr) error {
		x, _, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		c.add(op, typ, []string{x}, attrs)
		return nil
	}
}

func (c *converter) mul(i int, op *models.Op, attrs map[string]graph.Attr) error {
	if len(op.Inputs) != 2 {
		return c.fail(i, "%d inputs, want 2", len(op.Inputs))
	}
	// The rank the computed operands have decides the constant's layout.
	rank := 0
	for _, t := range op.Inputs {
		if t >= 0 && !c.m.Tensors[t].IsConst() {
			rank = max(rank, len(c.m.Tensors[t].Shape))
		}
	}
	if rank == 0 {
		return c.fail(i, "both inputs are constants")
	}
	var ins []string
	for k, t := range op.Inputs {
		if t < 0 {
			return c.fail(i, "input %d missing", k)
		}
		tt := &c.m.Tensors[t]
		if !tt.IsConst() {
			x, _, err := c.activationIn(i, k)
			if err != nil {
				return err
			}
			ins = append(ins, x)
			continue
		}
		if len(tt.Shape) > 4 || (rank != 4 && len(tt.Shape) > rank) {
			return c.fail(i, "constant %q of shape %v against a rank-%d input: unsupported", tt.Name, tt.Shape, rank)
		}
		shape := append([]int(nil), tt.Shape...)
		var f func([]float32) []float32
		if rank == 4 {
			for len(shape) < 4 {
				shape = append([]int{1}, shape...)
			}
			nhwcShape := shape
			f = func(src []float32) []float32 { return nhwcToNCHW(src, nhwcShape) }
			shape = nchw(shape)
		}
		name, err := c.constant(i, t, c.names[t], shape, f)
		if err != nil {
			return err
		}
		ins = append(ins, name)
	}
	if err := c.activation(i, attrs); err != nil {
		return err
	}
	c.add(op, "Mul", ins, attrs)
	return nil
}

// nhwcToNCHW reorders the values of an NHWC tensor of shape s into NCHW order.
func nhwcToNCHW(v []float32, s []int) []float32 {
	N, H, W, C := s[0], s[1], s[2], s[3]
	out := make([]float32, len(v))
	for n := range N {
		for h := range H {
			for w := range W {
				for ch := range C {
					out[((n*C+ch)*H+h)*W+w] = v[((n*H+h)*W+w)*C+ch]
				}
			}
		}
	}
	return out
}

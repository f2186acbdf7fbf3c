package onnxtest

import (
	"fmt"
	"math/rand/v2"
)

// Case is a small model exercising a group of ops, with seeded random weights.
type Case struct {
	Name string
	// Inputs are the graph inputs, in declaration order, with their shapes.
	Inputs []Shaped
	build  func(b *Builder, rng *rand.Rand)
}

// Shaped is a tensor name and shape.
type Shaped struct {
	Name  string
	Shape []int64
}

// Build returns the case's model in the given opset, weights drawn from a generator seeded with seed.
func (c Case) Build(opset int64, seed uint64) ([]byte, error) {
	b := New(c.Name, opset)
	for _, in := range c.Inputs {
		b.Input(in.Name, in.Shape...)
	}
	c.build(b, rand.New(rand.NewPCG(seed, 0x6f6e6e78)))
	return b.Bytes()
}

// Cases are the models of the differential tests against ONNX Runtime: together they use every op
// quant/onnx imports, in opsets 11 to 17.
func Cases() []Case {
	return append([]Case{
		{Name: "conv_bn_relu", Inputs: []Shaped{{"x", []int64{2, 3, 9, 9}}}, build: func(b *Builder, rng *rand.Rand) {
			c := b.Op("Conv", "conv", Attrs{"kernel_shape": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}},
				"x", b.Random(rng, "w", 0.5, 8, 3, 3, 3), b.Random(rng, "bias", 0.5, 8))
			bn := b.Op("BatchNormalization", "bn", Attrs{"epsilon": float32(1e-3), "momentum": float32(0.9)}, c,
				b.Random(rng, "gamma", 1, 8), b.Random(rng, "beta", 1, 8), b.Random(rng, "mean", 0.5, 8),
				b.Float("var", []int64{8}, positive(rng, 8)))
			b.Op("Relu", "y", nil, bn)
			b.Output("y")
		}},
		{Name: "depthwise_separable", Inputs: []Shaped{{"x", []int64{1, 6, 10, 11}}}, build: func(b *Builder, rng *rand.Rand) {
			// MobileNet's block: 3x3 depthwise stride 2, ReLU6 (Clip from constant inputs), 1x1 pointwise.
			dw := b.Op("Conv", "dw", Attrs{"group": 6, "kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}},
				"x", b.Random(rng, "wdw", 1, 6, 1, 3, 3), b.Random(rng, "bdw", 0.5, 6))
			lo := b.Float("zero", []int64{}, []float32{0})
			hi := b.Op("Constant", "six", Attrs{"value": FloatTensor("six", []int64{}, []float32{6})})
			r6 := b.Op("Clip", "relu6", nil, dw, lo, hi)
			pw := b.Op("Conv", "pw", nil, r6, b.Random(rng, "wpw", 0.5, 4, 6, 1, 1))
			// Grouped (not depthwise) convolution with two channels per group, dilation 2, asymmetric
			// pads; then SAME_UPPER with stride 2 (ONNX Runtime rejects SAME_* with dilation).
			g := b.Op("Conv", "grouped", Attrs{"group": 2, "dilations": []int64{2, 2}, "pads": []int64{2, 1, 0, 2}},
				pw, b.Random(rng, "wg", 0.5, 4, 2, 3, 3))
			b.Op("Conv", "y", Attrs{"auto_pad": "SAME_UPPER", "strides": []int64{2, 2}, "kernel_shape": []int64{2, 3}},
				g, b.Random(rng, "ws", 0.5, 3, 4, 2, 3), b.Random(rng, "bs", 0.5, 3))
			b.Output("y")
		}},
		{Name: "gemm_matmul", Inputs: []Shaped{{"x", []int64{3, 12}}}, build: func(b *Builder, rng *rand.Rand) {
			g := b.Op("Gemm", "fc1", Attrs{"transB": 1, "alpha": float32(0.5), "beta": float32(2)},
				"x", b.Random(rng, "w1", 1, 5, 12), b.Random(rng, "b1", 1, 5))
			r := b.Op("Relu", "r", nil, g)
			m := b.Op("MatMul", "mm", nil, r, b.Random(rng, "w2", 1, 5, 7))
			a := b.Op("Add", "add", nil, m, b.Random(rng, "b2", 1, 7))
			// transA with a [1, N] bias broadcast over rows.
			b.Op("Gemm", "y", Attrs{"transA": 1}, b.Random(rng, "w3", 1, 3, 4), a, b.Random(rng, "c3", 1, 1, 7))
			b.Output("y")
			b.Op("Mul", "scaled", nil, b.Float("half", []int64{}, []float32{0.5}), a)
			b.Output("scaled")
		}},
		{Name: "pools", Inputs: []Shaped{{"x", []int64{1, 3, 11, 12}}}, build: func(b *Builder, rng *rand.Rand) {
			b.Op("MaxPool", "max", Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, "x")
			b.Op("MaxPool", "max_ceil_dil", Attrs{"kernel_shape": []int64{2, 3}, "strides": []int64{2, 2}, "dilations": []int64{2, 1}, "ceil_mode": 1}, "x")
			b.Op("AveragePool", "avg", Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, "x")
			b.Op("AveragePool", "avg_incl_ceil", Attrs{"kernel_shape": []int64{3, 2}, "strides": []int64{2, 3}, "pads": []int64{1, 0, 1, 1},
				"count_include_pad": 1, "ceil_mode": 1}, "x")
			// The last column's window reaches past the input and its (zero) explicit end padding.
			b.Op("AveragePool", "avg_incl_ceil_over", Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2},
				"count_include_pad": 1, "ceil_mode": 1}, "x")
			b.Op("AveragePool", "avg_same", Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}, "auto_pad": "SAME_LOWER"}, "x")
			b.Op("GlobalAveragePool", "gap", nil, "x")
			for _, o := range []string{"max", "max_ceil_dil", "avg", "avg_incl_ceil", "avg_incl_ceil_over", "avg_same", "gap"} {
				b.Output(o)
			}
		}},
		{Name: "concat_pad", Inputs: []Shaped{{"x", []int64{1, 2, 5, 6}}, {"z", []int64{1, 3, 7, 9}}}, build: func(b *Builder, rng *rand.Rand) {
			p1 := b.Op("Pad", "pc", nil, "x", b.Ints("pads1", 0, 0, 1, 2, 0, 0, 1, 1), b.Float("pv", []int64{}, []float32{0.25}))
			p2 := b.Op("Pad", "pr", Attrs{"mode": "reflect"}, "x", b.Ints("pads2", 0, 0, 2, 1, 0, 0, 0, 2))
			p3 := b.Op("Pad", "pe", Attrs{"mode": "edge"}, "x", b.Ints("pads3", 0, 0, 0, 3, 0, 0, 2, 0))
			b.Op("Concat", "y", Attrs{"axis": 1}, p1, p2, p3, "z")
			b.Output("y")
			// Concatenation along the last axis, negative axis, and a cropping pad.
			crop := b.Op("Pad", "crop", nil, "z", b.Ints("pads4", 0, 0, -1, 0, 0, 0, 0, -3))
			b.Op("Concat", "y2", Attrs{"axis": -1}, crop, b.Random(rng, "k", 1, 1, 3, 6, 2))
			b.Output("y2")
		}},
		{Name: "reshape_head", Inputs: []Shaped{{"x", []int64{2, 4, 6, 6}}}, build: func(b *Builder, rng *rand.Rand) {
			m := b.Op("ReduceMean", "mean", Attrs{"axes": []int64{2, 3}, "keepdims": 1}, "x")
			r := b.Op("Reshape", "flat", nil, m, b.Ints("shape", 0, -1))
			d := b.Node("Dropout", "drop", []string{r}, []string{"dropped"}, nil)
			id := b.Op("Identity", "id", nil, d)
			b.Op("Gemm", "logits", Attrs{"transB": 1}, id, b.Random(rng, "wfc", 1, 3, 4), b.Random(rng, "bfc", 1, 3))
			b.Output("logits")
			f := b.Op("Flatten", "f", Attrs{"axis": 2}, "x")
			b.Op("ReduceMean", "rm", Attrs{"axes": []int64{-1}, "keepdims": 0}, f)
			b.Output("rm")
			r2 := b.Op("Reshape", "r2", nil, "x", b.Ints("shape2", 4, 2, -1, 3))
			b.Op("Clip", "clipped", nil, r2, "", b.Float("hi", []int64{}, []float32{0.3}))
			b.Output("clipped")
		}},
		{Name: "repvgg_residual", Inputs: []Shaped{{"x", []int64{1, 4, 8, 8}}}, build: func(b *Builder, rng *rand.Rand) {
			// A RepVGG training-time block (3x3 conv+BN, 1x1 conv+BN, identity BN, summed), then a
			// ResNet basic block with a residual Add, then the classifier head.
			bn := func(name, in string) string {
				return b.Op("BatchNormalization", name, nil, in, b.Float(name+"_g", []int64{4}, positive(rng, 4)),
					b.Random(rng, name+"_b", 0.5, 4), b.Random(rng, name+"_m", 0.5, 4), b.Float(name+"_v", []int64{4}, positive(rng, 4)))
			}
			c3 := bn("bn3", b.Op("Conv", "c3", Attrs{"pads": []int64{1, 1, 1, 1}}, "x", b.Random(rng, "w3", 0.3, 4, 4, 3, 3)))
			c1 := bn("bn1", b.Op("Conv", "c1", nil, "x", b.Random(rng, "w1", 0.3, 4, 4, 1, 1)))
			id := bn("bnid", "x")
			rep := b.Op("Relu", "rep", nil, b.Op("Add", "sum2", nil, b.Op("Add", "sum1", nil, c3, c1), id))
			r1 := b.Op("Relu", "r1", nil, b.Op("Conv", "ra", Attrs{"pads": []int64{1, 1, 1, 1}}, rep, b.Random(rng, "wa", 0.3, 4, 4, 3, 3), b.Random(rng, "ba", 0.1, 4)))
			r2 := b.Op("Conv", "rb", Attrs{"pads": []int64{1, 1, 1, 1}}, r1, b.Random(rng, "wb", 0.3, 4, 4, 3, 3), b.Random(rng, "bb", 0.1, 4))
			res := b.Op("Relu", "res", nil, b.Op("Add", "skip", nil, r2, rep))
			gap := b.Op("GlobalAveragePool", "gap", nil, res)
			f := b.Op("Flatten", "flat", nil, gap)
			b.Op("Gemm", "logits", Attrs{"transB": 1}, f, b.Random(rng, "wfc", 0.5, 10, 4), b.Random(rng, "bfc", 0.1, 10))
			b.Output("logits")
			b.Output("rep")
		}},
	}, shuffleCases()...)
}

// positive returns n values in [0.1, 1.1), for variances.
func positive(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.1 + rng.Float32()
	}
	return v
}

// Find returns the case called name.
func Find(name string) (Case, error) {
	for _, c := range Cases() {
		if c.Name == name {
			return c, nil
		}
	}
	return Case{}, fmt.Errorf("onnxtest: no case %q", name)
}

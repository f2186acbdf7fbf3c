package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RepVGGNet builds a small RepVGG in its training form: stages with a stride-2 first block
// (3x3 and 1x1 branches) then stride-1 blocks (3x3, 1x1, identity BN); optionally with biased
// convolutions instead of BatchNorm (branches already folded); then Pad+Conv, and a head with a
// Gemm followed by a BatchNormalization and a MatMul.
func RepVGGNet(folded bool, seed uint64) *Builder {
	rng := rand.New(rand.NewPCG(seed, 12))
	b := New("repvgg", 13)
	x := b.Input("x", 1, 3, 16, 16)
	k := 0
	name := func(s string) string { k++; return fmt.Sprintf("%s%d", s, k) }
	bn := func(in string, c int64) string {
		n := name("bn")
		return b.Op("BatchNormalization", n, nil, in, b.Float(n+"_g", []int64{c}, between(rng, int(c), 0.5, 1.5)),
			b.Random(rng, n+"_b", 0.5, c), b.Random(rng, n+"_m", 0.5, c), b.Float(n+"_v", []int64{c}, between(rng, int(c), 0.2, 1.2)))
	}
	branch := func(in string, cin, cout, ksize, stride int64) string {
		n := name("conv")
		attrs := Attrs{"pads": []int64{ksize / 2, ksize / 2, ksize / 2, ksize / 2}, "strides": []int64{stride, stride}, "kernel_shape": []int64{ksize, ksize}}
		w := b.Random(rng, n+"_w", float32(1/math.Sqrt(float64(cin*ksize*ksize))), cout, cin, ksize, ksize)
		if folded {
			return b.Op("Conv", n, attrs, in, w, b.Random(rng, n+"_b", 0.3, cout))
		}
		return bn(b.Op("Conv", n, attrs, in, w), cout)
	}
	block := func(in string, cin, cout, stride int64) string {
		sum := b.Op("Add", name("add"), nil, branch(in, cin, cout, 3, stride), branch(in, cin, cout, 1, stride))
		if cin == cout && stride == 1 {
			id := bn(in, cin)
			if folded {
				// An identity branch already folded: a depthwise 1x1 conv with bias.
				n := name("id")
				id = b.Op("Conv", n, Attrs{"group": cin}, in, b.Random(rng, n+"_w", 1, cin, 1, 1, 1), b.Random(rng, n+"_b", 0.3, cin))
			}
			sum = b.Op("Add", name("add"), nil, id, sum) // identity first: either operand order
		}
		return b.Op("Relu", name("relu"), nil, sum)
	}
	h := block(x, 3, 8, 2)
	h = block(h, 8, 8, 1)
	h = block(h, 8, 8, 1)
	h = block(h, 8, 16, 2)
	h = block(h, 16, 16, 1)
	p := b.Op("Pad", "pad", nil, h, b.Ints("pads", 0, 0, 1, 0, 0, 0, 1, 2))
	h = b.Op("Relu", "prelu", nil, b.Op("Conv", "pconv", nil, p, b.Random(rng, "pw", 0.2, 16, 16, 3, 3)))
	gp := b.Op("GlobalAveragePool", "gap", nil, h)
	f := b.Op("Flatten", "flat", nil, gp)
	fc := b.Op("Gemm", "fc", Attrs{"transB": 1, "alpha": float32(0.7)}, f, b.Random(rng, "fcw", 0.5, 12, 16), b.Random(rng, "fcb", 0.1, 12))
	fb := b.Op("Relu", "fcrelu", nil, bn(fc, 12))
	d := b.Node("Dropout", "drop", []string{fb}, []string{"dropped"}, nil)
	b.Op("MatMul", "logits", nil, d, b.Random(rng, "mw", 0.5, 12, 10))
	b.Output("logits")
	return b
}

// between returns n values uniform in [lo, hi).
func between(rng *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float32()
	}
	return v
}

// MobileNetV2Net builds a small MobileNetV2 (width reduced) as PyTorch exports it with BatchNorm
// kept: a stem conv+BN+ReLU6, inverted residual blocks (1x1 expand+BN+ReLU6, 3x3 depthwise+BN+ReLU6,
// 1x1 project+BN, residual Add when shapes allow), a 1x1 conv head, global average pooling,
// Flatten and a Gemm classifier. Input x [1, 3, 16, 16], output logits [1, 10].
func MobileNetV2Net(seed uint64) *Builder {
	rng := rand.New(rand.NewPCG(seed, 13))
	b := New("mobilenetv2", 13)
	x := b.Input("x", 1, 3, 16, 16)
	k := 0
	name := func(s string) string { k++; return fmt.Sprintf("%s%d", s, k) }
	convBN := func(in string, cin, cout, ksize, stride, group int64, relu6 bool) string {
		n := name("conv")
		attrs := Attrs{"pads": []int64{ksize / 2, ksize / 2, ksize / 2, ksize / 2}, "strides": []int64{stride, stride}, "kernel_shape": []int64{ksize, ksize}, "group": group}
		w := b.Random(rng, n+"_w", float32(1.5/math.Sqrt(float64(cin/group*ksize*ksize))), cout, cin/group, ksize, ksize)
		h := b.Op("Conv", n, attrs, in, w)
		bn := name("bn")
		h = b.Op("BatchNormalization", bn, nil, h, b.Float(bn+"_g", []int64{cout}, between(rng, int(cout), 0.5, 1.5)),
			b.Random(rng, bn+"_b", 0.3, cout), b.Random(rng, bn+"_m", 0.3, cout), b.Float(bn+"_v", []int64{cout}, between(rng, int(cout), 0.5, 1.5)))
		if relu6 {
			h = b.Op("Clip", name("relu6"), nil, h, b.Float(name("zero"), []int64{}, []float32{0}), b.Float(name("six"), []int64{}, []float32{6}))
		}
		return h
	}
	block := func(in string, cin, cout, stride, expand int64) string {
		h := convBN(in, cin, cin*expand, 1, 1, 1, true)
		h = convBN(h, cin*expand, cin*expand, 3, stride, cin*expand, true)
		h = convBN(h, cin*expand, cout, 1, 1, 1, false)
		if cin == cout && stride == 1 {
			h = b.Op("Add", name("add"), nil, in, h)
		}
		return h
	}
	h := convBN(x, 3, 8, 3, 1, 1, true)
	h = block(h, 8, 8, 1, 1)
	h = block(h, 8, 12, 2, 4)
	h = block(h, 12, 12, 1, 4)
	h = block(h, 12, 16, 2, 4)
	h = block(h, 16, 16, 1, 4)
	h = convBN(h, 16, 32, 1, 1, 1, true)
	gp := b.Op("GlobalAveragePool", "gap", nil, h)
	f := b.Op("Flatten", "flat", nil, gp)
	b.Op("Gemm", "logits", Attrs{"transB": 1}, f, b.Random(rng, "fcw", 0.4, 10, 32), b.Random(rng, "fcb", 0.1, 10))
	b.Output("logits")
	return b
}

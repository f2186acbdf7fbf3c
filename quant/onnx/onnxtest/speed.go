package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MobileNetV2Full builds MobileNetV2 1.0 224 in its deploy form (BatchNorm folded into biased
// convolutions, ReLU6 as Clip), with random weights: the layers of models/arch's mobilenet_v2_1.0_224
// (Sandler et al. 2018, table 2; 300 M MACs), for timing ONNX Runtime against edgeinfer on the same
// network. Input x [1, 3, 224, 224], output prob [1, 1001] (Softmax of the logits).
func MobileNetV2Full(seed uint64) *Builder {
	rng := rand.New(rand.NewPCG(seed, 224))
	b := New("mobilenet_v2_1.0_224", 13)
	x := b.Input("x", 1, 3, 224, 224)
	k := 0
	name := func(s string) string { k++; return fmt.Sprintf("%s%d", s, k) }
	zero := b.Float("zero", []int64{}, []float32{0})
	six := b.Float("six", []int64{}, []float32{6})
	conv := func(in string, cin, cout, ksize, stride, group int64, relu6 bool) string {
		n := name("conv")
		attrs := Attrs{"pads": []int64{ksize / 2, ksize / 2, ksize / 2, ksize / 2}, "strides": []int64{stride, stride},
			"kernel_shape": []int64{ksize, ksize}, "group": group}
		w := b.Random(rng, n+"_w", float32(2/math.Sqrt(float64(cin/group*ksize*ksize))), cout, cin/group, ksize, ksize)
		h := b.Op("Conv", n, attrs, in, w, b.Random(rng, n+"_b", 0.1, cout))
		if relu6 {
			h = b.Op("Clip", name("relu6"), nil, h, zero, six)
		}
		return h
	}
	h := conv(x, 3, 32, 3, 2, 1, true)
	in := int64(32)
	for _, st := range []struct{ t, c, n, s int64 }{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
		{6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		for i := int64(0); i < st.n; i++ {
			s := int64(1)
			if i == 0 {
				s = st.s
			}
			y := h
			if st.t != 1 {
				y = conv(y, in, in*st.t, 1, 1, 1, true)
			}
			y = conv(y, in*st.t, in*st.t, 3, s, in*st.t, true)
			y = conv(y, in*st.t, st.c, 1, 1, 1, false)
			if s == 1 && in == st.c {
				y = b.Op("Add", name("add"), nil, h, y)
			}
			h, in = y, st.c
		}
	}
	h = conv(h, in, 1280, 1, 1, 1, true)
	gp := b.Op("GlobalAveragePool", "gap", nil, h)
	f := b.Op("Flatten", "flat", nil, gp)
	l := b.Op("Gemm", "logits", Attrs{"transB": 1}, f, b.Random(rng, "fcw", 0.05, 1001, 1280), b.Random(rng, "fcb", 0.1, 1001))
	b.Op("Softmax", "prob", Attrs{"axis": int64(1)}, l)
	b.Output("prob", 1, 1001)
	return b
}

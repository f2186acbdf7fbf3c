package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The channel-shuffle, concat and pooling families (issue 13): ShuffleNetV2 units, an Inception
// block, DenseNet blocks and ResNet blocks, as PyTorch (torchvision) exports them, small.

// netBuilder adds the layers the networks below share, with seeded random weights.
type netBuilder struct {
	*Builder
	rng *rand.Rand
	k   int
}

func newNet(name string, opset int64, seed uint64) *netBuilder {
	return &netBuilder{Builder: New(name, opset), rng: rand.New(rand.NewPCG(seed, 17))}
}

func (b *netBuilder) name(s string) string { b.k++; return fmt.Sprintf("%s%d", s, b.k) }

func (b *netBuilder) opset() int64 { return b.Model.OpsetImport[0].GetVersion() }

// conv is a Conv (no bias) followed by BatchNormalization and, with relu, Relu: the form of
// torchvision's conv-bn-relu before folding.
func (b *netBuilder) conv(in string, cin, cout, k, stride, group int64, relu bool) string {
	n := b.name("conv")
	attrs := Attrs{"pads": []int64{k / 2, k / 2, k / 2, k / 2}, "strides": []int64{stride, stride}, "kernel_shape": []int64{k, k}}
	if group != 1 {
		attrs["group"] = group
	}
	w := b.Random(b.rng, n+"_w", float32(1.5/math.Sqrt(float64(cin/group*k*k))), cout, cin/group, k, k)
	h := b.Op("Conv", n, attrs, in, w)
	h = b.bn(h, cout)
	if relu {
		h = b.Op("Relu", b.name("relu"), nil, h)
	}
	return h
}

func (b *netBuilder) bn(in string, c int64) string {
	n := b.name("bn")
	return b.Op("BatchNormalization", n, nil, in, b.Float(n+"_g", []int64{c}, between(b.rng, int(c), 0.5, 1.5)),
		b.Random(b.rng, n+"_b", 0.3, c), b.Random(b.rng, n+"_m", 0.3, c), b.Float(n+"_v", []int64{c}, between(b.rng, int(c), 0.5, 1.5)))
}

// head is global average pooling, Flatten and a Gemm to 10 logits.
func (b *netBuilder) head(in string, c int64) {
	gp := b.Op("GlobalAveragePool", "gap", nil, in)
	f := b.Op("Flatten", "flat", nil, gp)
	b.Op("Gemm", "logits", Attrs{"transB": 1}, f, b.Random(b.rng, "fcw", 0.4, 10, c), b.Random(b.rng, "fcb", 0.1, 10))
	b.Output("logits")
}

// split divides in along the channels into parts of the given sizes: Split with the sizes as an
// attribute (opset 11-12) or input (13+), as torch.chunk and torch.split export.
func (b *netBuilder) split(in string, sizes ...int64) []string {
	n := b.name("split")
	var outs []string
	for k := range sizes {
		outs = append(outs, fmt.Sprintf("%s_%d", n, k))
	}
	if b.opset() < 13 {
		b.Node("Split", n, []string{in}, outs, Attrs{"axis": 1, "split": sizes})
	} else {
		b.Node("Split", n, []string{in, b.Ints(n+"_sizes", sizes...)}, outs, Attrs{"axis": 1})
	}
	return outs
}

// channelShuffle is torchvision's channel_shuffle: view(N, g, C/g, H, W), transpose(1, 2),
// view(N, C, H, W).
func (b *netBuilder) channelShuffle(in string, n, c, h, w, groups int64) string {
	r := b.Op("Reshape", b.name("view"), nil, in, b.Ints(b.name("shape"), n, groups, c/groups, h, w))
	t := b.Op("Transpose", b.name("transpose"), Attrs{"perm": []int64{0, 2, 1, 3, 4}}, r)
	return b.Op("Reshape", b.name("view"), nil, t, b.Ints(b.name("shape"), n, -1, h, w))
}

// shuffleUnit is torchvision's ShuffleNetV2 InvertedResidual: with stride 1, the input's halves
// (chunk: Split, or with slice set, two Slices) are the identity branch and branch2's input; with
// stride 2, branch1 (depthwise 3x3 stride 2 + BN, 1x1 + BN + ReLU) and branch2 both read it. The
// branches are concatenated and the channels shuffled. h, w are the input's spatial size.
func (b *netBuilder) shuffleUnit(in string, cin, cout, h, w, stride int64, slice bool) string {
	half := cout / 2
	branch2 := func(x string, c int64) string {
		y := b.conv(x, c, half, 1, 1, 1, true)
		y = b.conv(y, half, half, 3, stride, half, false)
		return b.conv(y, half, half, 1, 1, 1, true)
	}
	var cat string
	if stride == 1 {
		var x1, x2 string
		if slice {
			x1 = b.Op("Slice", b.name("slice"), nil, in, b.Ints(b.name("starts"), 0), b.Ints(b.name("ends"), cin/2), b.Ints(b.name("axes"), 1))
			x2 = b.Op("Slice", b.name("slice"), nil, in, b.Ints(b.name("starts"), cin/2), b.Ints(b.name("ends"), math.MaxInt64), b.Ints(b.name("axes"), 1), b.Ints(b.name("steps"), 1))
		} else {
			p := b.split(in, cin/2, cin/2)
			x1, x2 = p[0], p[1]
		}
		cat = b.Op("Concat", b.name("cat"), Attrs{"axis": 1}, x1, branch2(x2, cin/2))
	} else {
		b1 := b.conv(in, cin, cin, 3, 2, cin, false)
		b1 = b.conv(b1, cin, half, 1, 1, 1, true)
		cat = b.Op("Concat", b.name("cat"), Attrs{"axis": 1}, b1, branch2(in, cin))
		h, w = (h+1)/2, (w+1)/2
	}
	return b.channelShuffle(cat, 1, cout, h, w, 2)
}

// ShuffleNetV2Net is a small ShuffleNetV2 as torchvision exports it: stem conv 3x3 + BN + ReLU and
// max pool 3x3 stride 2, a stride-2 unit, a stride-1 unit with Split, a stride-1 unit with Slices,
// conv 1x1 + BN + ReLU, the head. Input x [1, 3, 16, 16], output logits [1, 10].
func ShuffleNetV2Net(opset int64, seed uint64) *Builder {
	b := newNet("shufflenetv2", opset, seed)
	x := b.Input("x", 1, 3, 16, 16)
	h := b.conv(x, 3, 8, 3, 1, 1, true)
	h = b.Op("MaxPool", b.name("maxpool"), Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, h)
	h = b.shuffleUnit(h, 8, 16, 8, 8, 2, false)
	h = b.shuffleUnit(h, 16, 16, 4, 4, 1, false)
	h = b.shuffleUnit(h, 16, 16, 4, 4, 1, true)
	h = b.conv(h, 16, 32, 1, 1, 1, true)
	b.head(h, 32)
	return b.Builder
}

// inception is GoogLeNet's Inception block: 1x1; 1x1 then 3x3; 1x1 then 5x5; max pool 3x3 stride 1
// pad 1 then 1x1; concatenated.
func (b *netBuilder) inception(in string, cin, c1, c3r, c3, c5r, c5, cp int64) string {
	br1 := b.conv(in, cin, c1, 1, 1, 1, true)
	br2 := b.conv(b.conv(in, cin, c3r, 1, 1, 1, true), c3r, c3, 3, 1, 1, true)
	br3 := b.conv(b.conv(in, cin, c5r, 1, 1, 1, true), c5r, c5, 5, 1, 1, true)
	p := b.Op("MaxPool", b.name("pool"), Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{1, 1}, "pads": []int64{1, 1, 1, 1}, "ceil_mode": 1}, in)
	br4 := b.conv(p, cin, cp, 1, 1, 1, true)
	return b.Op("Concat", b.name("cat"), Attrs{"axis": 1}, br1, br2, br3, br4)
}

// InceptionNet is a small GoogLeNet as torchvision exports it: stem conv, max pool 3x3 stride 2 with
// ceil_mode (16 -> 8), two Inception blocks, max pool 3x3 stride 2 with ceil_mode (8 -> 4), an
// Inception block, the head. Input x [1, 3, 16, 16], output logits [1, 10].
func InceptionNet(opset int64, seed uint64) *Builder {
	b := newNet("inception", opset, seed)
	x := b.Input("x", 1, 3, 16, 16)
	ceil := Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "ceil_mode": 1}
	h := b.conv(x, 3, 8, 3, 1, 1, true)
	h = b.Op("MaxPool", b.name("maxpool"), ceil, h)
	h = b.inception(h, 8, 4, 4, 6, 2, 3, 3)  // 16 channels
	h = b.inception(h, 16, 6, 4, 8, 2, 4, 4) // 22
	h = b.Op("MaxPool", b.name("maxpool"), ceil, h)
	h = b.inception(h, 22, 8, 6, 10, 3, 5, 5) // 28
	b.head(h, 28)
	return b.Builder
}

// DenseNetNet is a small DenseNet: stem conv, a dense block of three layers (each adds 4 channels,
// computed from the concatenation of all before it), a transition (1x1 conv, average pool 2x2
// stride 2), a second dense block, the head. With preact, each layer is DenseNet-BC's BN-ReLU-Conv
// 1x1-BN-ReLU-Conv 3x3 (the first BN reads the concatenation: it folds into no convolution, a
// per-channel affine); without, Conv-BN-ReLU (post-activation, every BN folds). Input x
// [1, 3, 16, 16], output logits [1, 10].
func DenseNetNet(preact bool, opset int64, seed uint64) *Builder {
	b := newNet("densenet", opset, seed)
	x := b.Input("x", 1, 3, 16, 16)
	const growth = 4
	layer := func(in string, c int64) string {
		if preact {
			h := b.Op("Relu", b.name("relu"), nil, b.bn(in, c))
			h = b.conv(h, c, 2*growth, 1, 1, 1, true)
			n := b.name("conv")
			return b.Op("Conv", n, Attrs{"pads": []int64{1, 1, 1, 1}, "kernel_shape": []int64{3, 3}}, h,
				b.Random(b.rng, n+"_w", float32(1.5/math.Sqrt(float64(2*growth*9))), growth, 2*growth, 3, 3))
		}
		h := b.conv(in, c, 2*growth, 1, 1, 1, true)
		return b.conv(h, 2*growth, growth, 3, 1, 1, true)
	}
	block := func(in string, c int64) (string, int64) {
		feats := []string{in}
		h := in
		for range 3 {
			y := layer(h, c)
			feats = append(feats, y)
			c += growth
			h = b.Op("Concat", b.name("cat"), Attrs{"axis": 1}, feats...)
		}
		return h, c
	}
	h := b.conv(x, 3, 8, 3, 1, 1, true)
	h, c := block(h, 8)
	h = b.conv(h, c, c/2, 1, 1, 1, true)
	h = b.Op("AveragePool", b.name("avgpool"), Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, h)
	h, c = block(h, c/2)
	if preact {
		h = b.Op("Relu", b.name("relu"), nil, b.bn(h, c))
	}
	b.head(h, c)
	return b.Builder
}

// ResNetNet is a small ResNet: stem conv + BN + ReLU, max pool 3x3 stride 2 pad 1, a basic block
// (two 3x3 conv + BN, identity shortcut), a basic block with stride 2 and a 1x1 projection
// shortcut, a bottleneck block (1x1, 3x3 stride 2, 1x1 expansion 4, projection shortcut), a
// bottleneck with an identity shortcut, the head. Input x [1, 3, 16, 16], output logits [1, 10].
func ResNetNet(opset int64, seed uint64) *Builder {
	b := newNet("resnet", opset, seed)
	x := b.Input("x", 1, 3, 16, 16)
	basic := func(in string, cin, cout, stride int64) string {
		h := b.conv(in, cin, cout, 3, stride, 1, true)
		h = b.conv(h, cout, cout, 3, 1, 1, false)
		sc := in
		if stride != 1 || cin != cout {
			sc = b.conv(in, cin, cout, 1, stride, 1, false)
		}
		return b.Op("Relu", b.name("relu"), nil, b.Op("Add", b.name("add"), nil, h, sc))
	}
	bottleneck := func(in string, cin, width, stride int64) string {
		h := b.conv(in, cin, width, 1, 1, 1, true)
		h = b.conv(h, width, width, 3, stride, 1, true)
		h = b.conv(h, width, 4*width, 1, 1, 1, false)
		sc := in
		if stride != 1 || cin != 4*width {
			sc = b.conv(in, cin, 4*width, 1, stride, 1, false)
		}
		return b.Op("Relu", b.name("relu"), nil, b.Op("Add", b.name("add"), nil, h, sc))
	}
	h := b.conv(x, 3, 8, 3, 1, 1, true)
	h = b.Op("MaxPool", b.name("maxpool"), Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, h)
	h = basic(h, 8, 8, 1)
	h = basic(h, 8, 12, 2)
	h = bottleneck(h, 12, 4, 2)
	h = bottleneck(h, 16, 4, 1)
	b.head(h, 16)
	return b.Builder
}

// shuffleCases are the ONNX Runtime differential cases of this family: the ops alone (Transpose
// with and without perm, Slice with negative indices, steps and a negative step, Split equal and
// by sizes, the channel shuffle) and the networks above.
func init() { extraCases = append(extraCases, shuffleCases()...) }

func shuffleCases() []Case {
	net := func(name string, f func(opset int64, seed uint64) *Builder) Case {
		return Case{Name: name, Inputs: []Shaped{{"x", []int64{1, 3, 16, 16}}}, build: func(b *Builder, rng *rand.Rand) {
			*b = *f(b.Model.OpsetImport[0].GetVersion(), rng.Uint64())
		}}
	}
	return []Case{
		{Name: "shuffle_ops", Inputs: []Shaped{{"x", []int64{2, 8, 5, 6}}}, build: func(bb *Builder, rng *rand.Rand) {
			b := &netBuilder{Builder: bb, rng: rng}
			b.Output(b.channelShuffle("x", 2, 8, 5, 6, 4))
			p := b.split("x", 3, 5)
			b.Output(b.Op("Concat", "split_cat", Attrs{"axis": 1}, p[1], p[0]))
			halves := b.split("x", 4, 4)
			b.Output(halves[0])
			b.Output(halves[1])
			b.Output(b.Op("Slice", "sliced", nil, "x", b.Ints("s_starts", 1, -4), b.Ints("s_ends", 7, math.MaxInt64), b.Ints("s_axes", 1, 3), b.Ints("s_steps", 2, 1)))
			b.Output(b.Op("Slice", "reversed", nil, "x", b.Ints("r_starts", -1, 0), b.Ints("r_ends", math.MinInt64, 9), b.Ints("r_axes", -2, 0), b.Ints("r_steps", -2, 1)))
			b.Output(b.Op("Slice", "empty_axes", nil, "x", b.Ints("e_starts", 0, 0, 1, 2), b.Ints("e_ends", 1, 8, 4, 5)))
			b.Output(b.Op("Transpose", "reversed_dims", nil, "x"))
			b.Output(b.Op("Transpose", "nchw_nhwc", Attrs{"perm": []int64{0, 2, 3, 1}}, "x"))
		}},
		net("shufflenetv2", ShuffleNetV2Net),
		net("inception", InceptionNet),
		net("densenet_bc", func(opset int64, seed uint64) *Builder { return DenseNetNet(true, opset, seed) }),
		net("resnet", ResNetNet),
	}
}

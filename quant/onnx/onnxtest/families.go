package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Small networks of the classic families whose blocks need more than convolutions and residual
// Adds, written as PyTorch exports them (seeded random weights, input 1x3x16x16, 10 logits):
//
//   - SENet: ResNet basic blocks with squeeze-excitation (GlobalAveragePool, 1x1 Conv, ReLU, 1x1
//     Conv, Sigmoid, Mul broadcast over the channels);
//   - MobileNetV3: HardSwish (the opset-14 op, or x * HardSigmoid(x) below opset 14 as older
//     exporters write it), squeeze-excitation with HardSigmoid (alpha 1/6) gates, a HardSwish
//     classifier;
//   - EfficientNet: MBConv blocks with SiLU (x * Sigmoid(x)) and squeeze-excitation;
//   - DenseNet-BC: dense layers BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 concatenated to their input (the
//     BatchNormalization after a Concat cannot be folded into a convolution), a transition
//     BN-ReLU-Conv1x1-AveragePool 2x2 s2, and one pre-activation affine written as Mul and Add by
//     per-channel constants.
//
// Family returns the one called name ("senet", "mobilenetv3", "efficientnet", "densenet").
func Family(name string, opset int64, seed uint64) (*Builder, error) {
	f, ok := families[name]
	if !ok {
		return nil, fmt.Errorf("onnxtest: no family %q", name)
	}
	rng := rand.New(rand.NewPCG(seed, 17))
	b := New(name, opset)
	n := &famBuilder{b: b, rng: rng, opset: opset}
	x := b.Input("x", 1, 3, 16, 16)
	f(n, x)
	return b, nil
}

// FamilyNames lists the families Family builds.
func FamilyNames() []string { return []string{"senet", "mobilenetv3", "efficientnet", "densenet"} }

var families = map[string]func(n *famBuilder, x string){
	"senet":        seNet,
	"mobilenetv3":  mobileNetV3,
	"efficientnet": efficientNet,
	"densenet":     denseNet,
}

func init() {
	for _, name := range FamilyNames() {
		extraCases = append(extraCases, Case{Name: "family_" + name, Inputs: []Shaped{{"x", []int64{1, 3, 16, 16}}},
			build: func(b *Builder, rng *rand.Rand) {
				n := &famBuilder{b: b, rng: rng, opset: b.Opset()}
				families[name](n, "x")
			}})
	}
}

// famBuilder names nodes and draws weights.
type famBuilder struct {
	b     *Builder
	rng   *rand.Rand
	opset int64
	k     int
}

func (n *famBuilder) name(s string) string { n.k++; return fmt.Sprintf("%s%d", s, n.k) }

// conv is a Conv without bias, He-like initialisation, "same" padding.
func (n *famBuilder) conv(in string, cin, cout, k, stride, group int64) string {
	name := n.name("conv")
	w := n.b.Random(n.rng, name+"_w", float32(1.7/math.Sqrt(float64(cin/group*k*k))), cout, cin/group, k, k)
	return n.b.Op("Conv", name, Attrs{"pads": []int64{k / 2, k / 2, k / 2, k / 2}, "strides": []int64{stride, stride}, "kernel_shape": []int64{k, k}, "group": group}, in, w)
}

// convB is a 1x1 Conv with bias (the fully connected layers of squeeze-excitation).
func (n *famBuilder) convB(in string, cin, cout int64) string {
	name := n.name("fc")
	w := n.b.Random(n.rng, name+"_w", float32(1.5/math.Sqrt(float64(cin))), cout, cin, 1, 1)
	return n.b.Op("Conv", name, Attrs{"kernel_shape": []int64{1, 1}}, in, w, n.b.Random(n.rng, name+"_b", 0.3, cout))
}

func (n *famBuilder) bn(in string, c int64) string {
	name := n.name("bn")
	return n.b.Op("BatchNormalization", name, nil, in, n.b.Float(name+"_g", []int64{c}, between(n.rng, int(c), 0.5, 1.5)),
		n.b.Random(n.rng, name+"_b", 0.3, c), n.b.Random(n.rng, name+"_m", 0.3, c), n.b.Float(name+"_v", []int64{c}, between(n.rng, int(c), 0.5, 1.5)))
}

func (n *famBuilder) relu(in string) string { return n.b.Op("Relu", n.name("relu"), nil, in) }

func (n *famBuilder) sigmoid(in string) string { return n.b.Op("Sigmoid", n.name("sigmoid"), nil, in) }

func (n *famBuilder) hardSigmoid(in string) string {
	return n.b.Op("HardSigmoid", n.name("hsig"), Attrs{"alpha": float32(1.0 / 6), "beta": float32(0.5)}, in)
}

// hardSwish is the opset-14 HardSwish, or x * HardSigmoid(x) before it.
func (n *famBuilder) hardSwish(in string) string {
	if n.opset >= 14 {
		return n.b.Op("HardSwish", n.name("hswish"), nil, in)
	}
	return n.b.Op("Mul", n.name("hswish"), nil, in, n.hardSigmoid(in))
}

// silu is x * Sigmoid(x), as PyTorch exports nn.SiLU.
func (n *famBuilder) silu(in string) string {
	return n.b.Op("Mul", n.name("silu"), nil, in, n.sigmoid(in))
}

// se is squeeze-excitation: x * gate(fc2(act(fc1(pool(x))))).
func (n *famBuilder) se(in string, c, squeeze int64, act, gate func(string) string) string {
	p := n.b.Op("GlobalAveragePool", n.name("sepool"), nil, in)
	s := act(n.convB(p, c, squeeze))
	s = gate(n.convB(s, squeeze, c))
	return n.b.Op("Mul", n.name("excite"), nil, in, s)
}

// head is GlobalAveragePool, Flatten, Gemm to 10 logits (act between two Gemms when hidden > 0).
func (n *famBuilder) head(in string, c, hidden int64, act func(string) string) {
	h := n.b.Op("Flatten", n.name("flat"), nil, n.b.Op("GlobalAveragePool", n.name("gap"), nil, in))
	if hidden > 0 {
		name := n.name("fc")
		h = act(n.b.Op("Gemm", name, Attrs{"transB": 1}, h, n.b.Random(n.rng, name+"_w", float32(1.5/math.Sqrt(float64(c))), hidden, c), n.b.Random(n.rng, name+"_b", 0.2, hidden)))
		c = hidden
	}
	n.b.Op("Gemm", "logits", Attrs{"transB": 1}, h, n.b.Random(n.rng, "logits_w", float32(1.5/math.Sqrt(float64(c))), 10, c), n.b.Random(n.rng, "logits_b", 0.1, 10))
	n.b.Output("logits")
}

func seNet(n *famBuilder, x string) {
	h := n.relu(n.bn(n.conv(x, 3, 16, 3, 1, 1), 16))
	block := func(in string, cin, cout, stride int64) string {
		h := n.relu(n.bn(n.conv(in, cin, cout, 3, stride, 1), cout))
		h = n.bn(n.conv(h, cout, cout, 3, 1, 1), cout)
		h = n.se(h, cout, cout/4, n.relu, n.sigmoid)
		short := in
		if stride != 1 || cin != cout {
			short = n.bn(n.conv(in, cin, cout, 1, stride, 1), cout)
		}
		return n.relu(n.b.Op("Add", n.name("add"), nil, h, short))
	}
	h = block(h, 16, 16, 1)
	h = block(h, 16, 24, 2)
	n.head(h, 24, 0, nil)
}

func mobileNetV3(n *famBuilder, x string) {
	h := n.hardSwish(n.bn(n.conv(x, 3, 16, 3, 2, 1), 16))
	block := func(in string, cin, exp, cout, k, stride int64, se bool, act func(string) string) string {
		h := act(n.bn(n.conv(in, cin, exp, 1, 1, 1), exp))
		h = act(n.bn(n.conv(h, exp, exp, k, stride, exp), exp))
		if se {
			h = n.se(h, exp, max(8, exp/4), n.relu, n.hardSigmoid)
		}
		h = n.bn(n.conv(h, exp, cout, 1, 1, 1), cout)
		if stride == 1 && cin == cout {
			h = n.b.Op("Add", n.name("add"), nil, in, h)
		}
		return h
	}
	h = block(h, 16, 32, 16, 3, 1, true, n.relu)
	h = block(h, 16, 48, 24, 3, 2, false, n.relu)
	h = block(h, 24, 72, 24, 5, 1, true, n.hardSwish)
	h = n.hardSwish(n.bn(n.conv(h, 24, 64, 1, 1, 1), 64))
	n.head(h, 64, 48, n.hardSwish)
}

func efficientNet(n *famBuilder, x string) {
	h := n.silu(n.bn(n.conv(x, 3, 16, 3, 1, 1), 16))
	mb := func(in string, cin, cout, expand, k, stride int64) string {
		exp := cin * expand
		h := in
		if expand != 1 {
			h = n.silu(n.bn(n.conv(h, cin, exp, 1, 1, 1), exp))
		}
		h = n.silu(n.bn(n.conv(h, exp, exp, k, stride, exp), exp))
		h = n.se(h, exp, max(4, cin/4), n.silu, n.sigmoid)
		h = n.bn(n.conv(h, exp, cout, 1, 1, 1), cout)
		if stride == 1 && cin == cout {
			h = n.b.Op("Add", n.name("add"), nil, in, h)
		}
		return h
	}
	h = mb(h, 16, 16, 1, 3, 1)
	h = mb(h, 16, 24, 4, 3, 2)
	h = mb(h, 24, 24, 4, 5, 1)
	h = n.silu(n.bn(n.conv(h, 24, 48, 1, 1, 1), 48))
	n.head(h, 48, 0, nil)
}

func denseNet(n *famBuilder, x string) {
	const growth = 8
	h := n.conv(x, 3, 16, 3, 1, 1)
	c := int64(16)
	layer := func(in string, cin int64) string {
		b := n.conv(n.relu(n.bn(in, cin)), cin, 4*growth, 1, 1, 1)
		b = n.conv(n.relu(n.bn(b, 4*growth)), 4*growth, growth, 3, 1, 1)
		return n.b.Op("Concat", n.name("cat"), Attrs{"axis": 1}, in, b)
	}
	for range 3 {
		h = layer(h, c)
		c += growth
	}
	// Transition with compression 0.5, its pre-activation affine written as Mul and Add.
	name := n.name("affine")
	s := n.b.Float(name+"_s", []int64{c, 1, 1}, between(n.rng, int(c), 0.5, 1.5))
	t := n.b.Random(n.rng, name+"_t", 0.3, 1, c, 1, 1)
	h = n.relu(n.b.Op("Add", name+"_add", nil, n.b.Op("Mul", name+"_mul", nil, h, s), t))
	h = n.conv(h, c, c/2, 1, 1, 1)
	c /= 2
	h = n.b.Op("AveragePool", n.name("trans_pool"), Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, h)
	for range 2 {
		h = layer(h, c)
		c += growth
	}
	h = n.relu(n.bn(h, c))
	n.head(h, c, 0, nil)
}

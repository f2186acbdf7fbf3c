// Package arch builds the standard image classification architectures as int8 models with seeded
// random weights, as ncnn's benchncnn does: the same shapes and MACs as the trained networks, for
// benchmarks and instruction counts. Their outputs mean nothing.
package arch

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/edgeinfer/edgeinfer/models"
)

// Names lists the architectures Build knows.
func Names() []string {
	var n []string
	for k := range builders {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

var builders = map[string]func(b *builder) int{
	"mobilenet_v1_1.0_224": mobileNetV1,
	"mobilenet_v2_1.0_224": mobileNetV2,
	"repvgg_a0_224":        repVGGA0,
}

// Build returns the named architecture with weights drawn from a generator seeded with seed.
func Build(name string, seed uint64) (*models.Model, error) {
	f, ok := builders[name]
	if !ok {
		return nil, fmt.Errorf("arch: unknown architecture %q (known: %v)", name, Names())
	}
	b := &builder{rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	b.m.Name = name
	in := b.tensor("input", models.Int8, []int{1, 224, 224, 3}, nil)
	b.m.Inputs = []int{in}
	out := f(b)
	b.m.Outputs = []int{out}
	return &b.m, nil
}

type builder struct {
	m   models.Model
	rng *rand.Rand
	n   int
}

// actQuant is the quantization of every activation: real range about [-6, 6].
func actQuant() *models.Quant {
	return &models.Quant{Scale: []float32{0.047}, ZeroPoint: []int32{0}}
}

func (b *builder) tensor(name string, typ models.DType, shape []int, data []byte) int {
	q := actQuant()
	b.m.Tensors = append(b.m.Tensors, models.Tensor{Name: name, Type: typ, Shape: shape, Quant: q, Data: data})
	return len(b.m.Tensors) - 1
}

func (b *builder) shape(t int) []int { return b.m.Tensors[t].Shape }

// weights makes an int8 constant in [-127, 127] with per-channel scales on axis.
func (b *builder) weights(shape []int, axis int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(int8(b.rng.IntN(255) - 127))
	}
	q := &models.Quant{Axis: axis}
	fanIn := n / shape[axis]
	for c := 0; c < shape[axis]; c++ {
		// Scale so that a random-sign sum of fanIn products keeps the output near the activation range.
		q.Scale = append(q.Scale, float32(1.0/(64*math.Sqrt(float64(fanIn))))*(0.75+0.5*b.rng.Float32()))
		q.ZeroPoint = append(q.ZeroPoint, 0)
	}
	b.m.Tensors = append(b.m.Tensors, models.Tensor{Name: b.name("w"), Type: models.Int8, Shape: shape, Quant: q, Data: data})
	return len(b.m.Tensors) - 1
}

func (b *builder) bias(n int) int {
	data := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(b.rng.IntN(2001)-1000)))
	}
	b.m.Tensors = append(b.m.Tensors, models.Tensor{Name: b.name("b"), Type: models.Int32, Shape: []int{n}, Data: data})
	return len(b.m.Tensors) - 1
}

func (b *builder) name(kind string) string {
	b.n++
	return fmt.Sprintf("%s%d", kind, b.n)
}

// samePad is TensorFlow's SAME padding of a k-wide window with stride s over in.
func samePad(in, k, s int) (before, after, out int) {
	out = (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	return total / 2, total - total/2, out
}

// conv adds a k x k convolution (SAME padding) with bias and activation.
func (b *builder) conv(in, outC, k, s int, act models.Activation) int {
	sh := b.shape(in)
	t, bo, oh := samePad(sh[1], k, s)
	l, r, ow := samePad(sh[2], k, s)
	w := b.weights([]int{outC, k, k, sh[3]}, 0)
	out := b.tensor(b.name("conv"), models.Int8, []int{1, oh, ow, outC}, nil)
	b.m.Ops = append(b.m.Ops, models.Op{Type: models.OpConv2D, Name: b.m.Tensors[out].Name, Inputs: []int{in, w, b.bias(outC)},
		Outputs: []int{out}, Stride: [2]int{s, s}, Pad: [4]int{t, l, bo, r}, Activation: act})
	return out
}

// dw adds a 3x3 depthwise convolution (SAME padding).
func (b *builder) dw(in, s int, act models.Activation) int {
	sh := b.shape(in)
	t, bo, oh := samePad(sh[1], 3, s)
	l, r, ow := samePad(sh[2], 3, s)
	w := b.weights([]int{1, 3, 3, sh[3]}, 3)
	out := b.tensor(b.name("dw"), models.Int8, []int{1, oh, ow, sh[3]}, nil)
	b.m.Ops = append(b.m.Ops, models.Op{Type: models.OpDepthwiseConv2D, Name: b.m.Tensors[out].Name, Inputs: []int{in, w, b.bias(sh[3])},
		Outputs: []int{out}, Stride: [2]int{s, s}, Pad: [4]int{t, l, bo, r}, DepthMultiplier: 1, Activation: act})
	return out
}

func (b *builder) add(x, y int) int {
	out := b.tensor(b.name("add"), models.Int8, b.shape(x), nil)
	b.m.Ops = append(b.m.Ops, models.Op{Type: models.OpAdd, Name: b.m.Tensors[out].Name, Inputs: []int{x, y}, Outputs: []int{out}})
	return out
}

// head adds global average pooling, a fully connected layer to classes, and softmax.
func (b *builder) head(in, classes int) int {
	sh := b.shape(in)
	pooled := b.tensor(b.name("pool"), models.Int8, []int{1, 1, 1, sh[3]}, nil)
	b.m.Ops = append(b.m.Ops, models.Op{Type: models.OpAveragePool2D, Name: "pool", Inputs: []int{in}, Outputs: []int{pooled},
		Kernel: [2]int{sh[1], sh[2]}, Stride: [2]int{sh[1], sh[2]}})
	w := b.weights([]int{classes, sh[3]}, 0)
	logits := b.tensor("logits", models.Int8, []int{1, classes}, nil)
	b.m.Ops = append(b.m.Ops, models.Op{Type: models.OpFullyConnected, Name: "logits", Inputs: []int{pooled, w, b.bias(classes)}, Outputs: []int{logits}})
	prob := b.tensor("prob", models.Int8, []int{1, classes}, nil)
	b.m.Tensors[prob].Quant = &models.Quant{Scale: []float32{1.0 / 256}, ZeroPoint: []int32{-128}}
	b.m.Ops = append(b.m.Ops, models.Op{Type: models.OpSoftmax, Name: "prob", Inputs: []int{logits}, Outputs: []int{prob}, Beta: 1})
	return prob
}

// mobileNetV1 is MobileNet V1 1.0 224 (Howard et al. 2017, table 1): 569 M MACs.
func mobileNetV1(b *builder) int {
	x := b.conv(0, 32, 3, 2, models.ActReLU6)
	for _, l := range []struct{ c, s int }{{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}} {
		x = b.dw(x, l.s, models.ActReLU6)
		x = b.conv(x, l.c, 1, 1, models.ActReLU6)
	}
	return b.head(x, 1001)
}

// MobileNetV2Stage is one row of MobileNet V2's table 2 (Sandler et al. 2018): N inverted residual
// blocks of expansion T and C output channels, the first of stride S.
type MobileNetV2Stage struct{ T, C, N, S int }

// MobileNetV2Stages are MobileNet V2 1.0's bottleneck stages, between its first 3x3 convolution (32
// channels, stride 2) and its last 1x1 (1280 channels). Other builders of the network (the ONNX
// test models of quant/onnx/onnxtest) read them from here.
var MobileNetV2Stages = [...]MobileNetV2Stage{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
	{6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}

// mobileNetV2 is MobileNet V2 1.0 224 (Sandler et al. 2018, table 2): 300 M MACs.
func mobileNetV2(b *builder) int {
	x := b.conv(0, 32, 3, 2, models.ActReLU6)
	in := 32
	for _, st := range MobileNetV2Stages {
		for i := 0; i < st.N; i++ {
			s := 1
			if i == 0 {
				s = st.S
			}
			y := x
			if st.T != 1 {
				y = b.conv(y, in*st.T, 1, 1, models.ActReLU6)
			}
			y = b.dw(y, s, models.ActReLU6)
			y = b.conv(y, st.C, 1, 1, models.ActNone)
			if s == 1 && in == st.C {
				y = b.add(x, y)
			}
			x, in = y, st.C
		}
	}
	x = b.conv(x, 1280, 1, 1, models.ActReLU6)
	return b.head(x, 1001)
}

// repVGGA0 is RepVGG-A0 in its deploy form (Ding et al. 2021): each block's three branches fused into
// one 3x3 convolution with ReLU; stages of 1, 2, 4, 14, 1 layers, widths 48, 48, 96, 192, 1280: 1.36 G MACs.
func repVGGA0(b *builder) int {
	x := 0
	for _, st := range []struct{ n, c int }{{1, 48}, {2, 48}, {4, 96}, {14, 192}, {1, 1280}} {
		for i := 0; i < st.n; i++ {
			s := 1
			if i == 0 {
				s = 2
			}
			x = b.conv(x, st.c, 3, s, models.ActReLU)
		}
	}
	return b.head(x, 1000)
}

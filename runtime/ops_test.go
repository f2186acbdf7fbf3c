package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	"github.com/edgeinfer/edgeinfer/models"
)

// The tests in this file check every op against a float reference computed independently of the
// integer code: dequantize the inputs and weights, compute in float64, quantize the result. The
// fixed-point pipeline rounds twice, so it may differ from that by one step, never more.

type builder struct {
	m   models.Model
	rng *rand.Rand
}

func newBuilder(seed uint64) *builder {
	return &builder{m: models.Model{Name: "test"}, rng: rand.New(rand.NewPCG(seed, 7))}
}

func (b *builder) tensor(name string, typ models.DType, shape []int, q *models.Quant, data []byte) int {
	b.m.Tensors = append(b.m.Tensors, models.Tensor{Name: name, Type: typ, Shape: shape, Quant: q, Data: data})
	return len(b.m.Tensors) - 1
}

func pt(scale float32, zero int32) *models.Quant {
	return &models.Quant{Scale: []float32{scale}, ZeroPoint: []int32{zero}}
}

func (b *builder) act(name string, shape []int, q *models.Quant) int {
	return b.tensor(name, models.Int8, shape, q, nil)
}

// weights makes a random int8 constant in [-127, 127].
func (b *builder) weights(name string, shape []int, q *models.Quant) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(int8(b.rng.IntN(255) - 127))
	}
	return b.tensor(name, models.Int8, shape, q, data)
}

func (b *builder) bias(name string, n int, scale float32) int {
	data := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(b.rng.IntN(4001)-2000)))
	}
	return b.tensor(name, models.Int32, []int{n}, pt(scale, 0), data)
}

func (b *builder) op(op models.Op) { b.m.Ops = append(b.m.Ops, op) }

func (b *builder) fill(it *Interpreter) {
	for i := 0; i < it.NumInputs(); i++ {
		d := it.Input(i).Bytes()
		for j := range d {
			d[j] = byte(b.rng.IntN(256))
		}
	}
}

func deq(t *models.Tensor, data []byte, i, ch int) float64 {
	q := t.Quant
	return float64(q.ScaleAt(ch)) * float64(int32(int8(data[i]))-q.ZeroAt(ch))
}

func requant(real float64, q *models.Quant, lo, hi float64) float64 {
	v := math.Round(real/float64(q.Scale[0])) + float64(q.ZeroAt(0))
	return math.Max(math.Max(lo, -128), math.Min(math.Min(hi, 127), v))
}

// check runs the model and compares output 0 with want (in quantized units), allowing tol.
func check(t *testing.T, b *builder, want func(in [][]byte) []float64, tol float64) {
	t.Helper()
	for _, mode := range []Requantization{XNNPACK, Reference} {
		checkMode(t, b, want, tol, mode)
	}
}

func checkMode(t *testing.T, b *builder, want func(in [][]byte) []float64, tol float64, mode Requantization) {
	t.Helper()
	it, err := New(&b.m, Options{Requantization: mode})
	if err != nil {
		t.Fatal(err)
	}
	b.fill(it)
	if err := it.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ins [][]byte
	for i := 0; i < it.NumInputs(); i++ {
		ins = append(ins, it.Input(i).Bytes())
	}
	w := want(ins)
	got := it.Output(0).Int8s()
	if len(w) != len(got) {
		t.Fatalf("reference has %d values, output %d", len(w), len(got))
	}
	worst := 0.0
	for i := range got {
		if d := math.Abs(float64(got[i]) - w[i]); d > worst {
			worst = d
			if d > tol {
				t.Fatalf("%s requantization: element %d: got %d, float reference %v (tolerance %v)", mode, i, got[i], w[i], tol)
			}
		}
	}
	if n := testing.AllocsPerRun(3, func() { it.Run(context.Background()) }); n != 0 {
		t.Errorf("Run allocates %v times", n)
	}
}

func TestConvAgainstFloat(t *testing.T) {
	cases := []struct {
		h, w, c, oc, kh, kw, sh, sw, dh, dw int
		pad                                 [4]int
		act                                 models.Activation
		perChannel                          bool
		wzero                               int32
	}{
		{5, 5, 3, 4, 3, 3, 1, 1, 1, 1, [4]int{1, 1, 1, 1}, models.ActNone, true, 0},
		{7, 6, 5, 3, 3, 3, 2, 2, 1, 1, [4]int{0, 0, 1, 1}, models.ActReLU6, true, 0},
		{9, 9, 2, 5, 3, 2, 1, 2, 2, 3, [4]int{2, 1, 2, 3}, models.ActReLU, false, 0},
		{6, 5, 4, 2, 1, 1, 1, 1, 1, 1, [4]int{}, models.ActNone, false, 17}, // uint8-style filter zero point
		{4, 4, 3, 3, 5, 5, 1, 1, 1, 1, [4]int{2, 2, 2, 2}, models.ActNone, true, 0},
	}
	for ci, c := range cases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			b := newBuilder(uint64(ci))
			inQ, outQ := pt(0.05, 3), pt(0.2, -5)
			wq := pt(0.01, c.wzero)
			if c.perChannel {
				wq = &models.Quant{Axis: 0}
				for o := 0; o < c.oc; o++ {
					wq.Scale = append(wq.Scale, 0.004+0.002*float32(o))
					wq.ZeroPoint = append(wq.ZeroPoint, 0)
				}
			}
			in := b.act("in", []int{1, c.h, c.w, c.c}, inQ)
			w := b.weights("w", []int{c.oc, c.kh, c.kw, c.c}, wq)
			if c.wzero != 0 {
				for i := range b.m.Tensors[w].Data { // stay within [-128, 127] after the offset
					b.m.Tensors[w].Data[i] = byte(int8(b.rng.IntN(200) - 100))
				}
			}
			bias := b.bias("b", c.oc, 0.05*0.01)
			oh := outSize(c.h, c.kh, c.sh, c.dh, c.pad[0], c.pad[2])
			ow := outSize(c.w, c.kw, c.sw, c.dw, c.pad[1], c.pad[3])
			out := b.act("out", []int{1, oh, ow, c.oc}, outQ)
			b.op(models.Op{Type: models.OpConv2D, Inputs: []int{in, w, bias}, Outputs: []int{out},
				Stride: [2]int{c.sh, c.sw}, Dilation: [2]int{c.dh, c.dw}, Pad: c.pad, Activation: c.act})
			b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
			m := &b.m
			lo, hi := actBounds(c.act, outQ)
			check(t, b, func(ins [][]byte) []float64 {
				x := ins[0]
				wt, bt := &m.Tensors[w], &m.Tensors[bias]
				bv := bt.Int32s()
				var res []float64
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						for o := 0; o < c.oc; o++ {
							s := float64(bv[o]) * float64(inQ.Scale[0]) * float64(wt.Quant.ScaleAt(o))
							for ky := 0; ky < c.kh; ky++ {
								for kx := 0; kx < c.kw; kx++ {
									iy, ix := oy*c.sh-c.pad[0]+ky*c.dh, ox*c.sw-c.pad[1]+kx*c.dw
									if iy < 0 || ix < 0 || iy >= c.h || ix >= c.w {
										continue
									}
									for ic := 0; ic < c.c; ic++ {
										s += deq(&m.Tensors[in], x, (iy*c.w+ix)*c.c+ic, 0) * deq(wt, wt.Data, ((o*c.kh+ky)*c.kw+kx)*c.c+ic, o)
									}
								}
							}
							res = append(res, requant(s, outQ, lo, hi))
						}
					}
				}
				return res
			}, 1)
		})
	}
}

// actBounds are the quantized clamp bounds of a fused activation.
func actBounds(a models.Activation, q *models.Quant) (lo, hi float64) {
	l, h, _ := activationRange(a, q.Scale[0], q.ZeroAt(0))
	return float64(l), float64(h)
}

func TestDepthwiseAgainstFloat(t *testing.T) {
	for ci, c := range []struct{ h, w, c, m, k, s, d, pad int }{
		{6, 6, 3, 1, 3, 1, 1, 1}, {7, 5, 4, 2, 3, 2, 1, 1}, {8, 8, 2, 3, 3, 1, 2, 2}, {5, 5, 5, 1, 5, 2, 1, 2},
	} {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			b := newBuilder(uint64(100 + ci))
			inQ, outQ := pt(0.03, -7), pt(0.1, 4)
			oc := c.c * c.m
			wq := &models.Quant{Axis: 3}
			for o := 0; o < oc; o++ {
				wq.Scale = append(wq.Scale, 0.01+0.001*float32(o))
				wq.ZeroPoint = append(wq.ZeroPoint, 0)
			}
			in := b.act("in", []int{1, c.h, c.w, c.c}, inQ)
			w := b.weights("w", []int{1, c.k, c.k, oc}, wq)
			bias := b.bias("b", oc, 0.03*0.01)
			oh := outSize(c.h, c.k, c.s, c.d, c.pad, c.pad)
			ow := outSize(c.w, c.k, c.s, c.d, c.pad, c.pad)
			out := b.act("out", []int{1, oh, ow, oc}, outQ)
			b.op(models.Op{Type: models.OpDepthwiseConv2D, Inputs: []int{in, w, bias}, Outputs: []int{out},
				Stride: [2]int{c.s, c.s}, Dilation: [2]int{c.d, c.d}, Pad: [4]int{c.pad, c.pad, c.pad, c.pad}, DepthMultiplier: c.m})
			b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
			m := &b.m
			check(t, b, func(ins [][]byte) []float64 {
				wt := &m.Tensors[w]
				bv := m.Tensors[bias].Int32s()
				var res []float64
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						for o := 0; o < oc; o++ {
							s := float64(bv[o]) * float64(inQ.Scale[0]) * float64(wt.Quant.ScaleAt(o))
							for ky := 0; ky < c.k; ky++ {
								for kx := 0; kx < c.k; kx++ {
									iy, ix := oy*c.s-c.pad+ky*c.d, ox*c.s-c.pad+kx*c.d
									if iy < 0 || ix < 0 || iy >= c.h || ix >= c.w {
										continue
									}
									s += deq(&m.Tensors[in], ins[0], (iy*c.w+ix)*c.c+o/c.m, 0) * deq(wt, wt.Data, (ky*c.k+kx)*oc+o, o)
								}
							}
							res = append(res, requant(s, outQ, -128, 127))
						}
					}
				}
				return res
			}, 1)
		})
	}
}

func TestFullyConnectedAgainstFloat(t *testing.T) {
	b := newBuilder(9)
	inQ, wQ, outQ := pt(0.02, 10), pt(0.005, 0), pt(0.3, -20)
	in := b.act("in", []int{1, 1, 1, 37}, inQ)
	w := b.weights("w", []int{11, 37}, wQ)
	bias := b.bias("b", 11, 0.02*0.005)
	out := b.act("out", []int{1, 11}, outQ)
	b.op(models.Op{Type: models.OpFullyConnected, Inputs: []int{in, w, bias}, Outputs: []int{out}, Activation: models.ActReLU})
	b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
	m := &b.m
	lo, hi := actBounds(models.ActReLU, outQ)
	check(t, b, func(ins [][]byte) []float64 {
		bv := m.Tensors[bias].Int32s()
		var res []float64
		for o := 0; o < 11; o++ {
			s := float64(bv[o]) * 0.02 * 0.005
			for i := 0; i < 37; i++ {
				s += deq(&m.Tensors[in], ins[0], i, 0) * deq(&m.Tensors[w], m.Tensors[w].Data, o*37+i, 0)
			}
			res = append(res, requant(s, outQ, lo, hi))
		}
		return res
	}, 1)
}

func TestPoolingAgainstFloat(t *testing.T) {
	for _, typ := range []models.OpType{models.OpAveragePool2D, models.OpMaxPool2D} {
		t.Run(typ.String(), func(t *testing.T) {
			b := newBuilder(11)
			q := pt(0.07, -3)
			in := b.act("in", []int{1, 7, 6, 3}, q)
			oh, ow := outSize(7, 3, 2, 1, 1, 1), outSize(6, 3, 2, 1, 1, 1)
			out := b.act("out", []int{1, oh, ow, 3}, q)
			b.op(models.Op{Type: typ, Inputs: []int{in}, Outputs: []int{out}, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
			b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
			check(t, b, func(ins [][]byte) []float64 {
				var res []float64
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						for ch := 0; ch < 3; ch++ {
							sum, n, mx := 0.0, 0.0, -1e9
							for ky := 0; ky < 3; ky++ {
								for kx := 0; kx < 3; kx++ {
									iy, ix := oy*2-1+ky, ox*2-1+kx
									if iy < 0 || ix < 0 || iy >= 7 || ix >= 6 {
										continue
									}
									v := float64(int8(ins[0][(iy*6+ix)*3+ch]))
									sum, n, mx = sum+v, n+1, math.Max(mx, v)
								}
							}
							if typ == models.OpMaxPool2D {
								res = append(res, mx)
							} else {
								res = append(res, sum/n)
							}
						}
					}
				}
				return res
			}, 0.5)
		})
	}
}

func TestAddMeanSoftmaxAgainstFloat(t *testing.T) {
	t.Run("Add", func(t *testing.T) {
		b := newBuilder(12)
		qa, qb, qo := pt(0.04, 5), pt(0.09, -12), pt(0.1, 2)
		x := b.act("a", []int{1, 4, 4, 5}, qa)
		y := b.act("b", []int{1, 4, 4, 5}, qb)
		out := b.act("out", []int{1, 4, 4, 5}, qo)
		b.op(models.Op{Type: models.OpAdd, Inputs: []int{x, y}, Outputs: []int{out}})
		b.m.Inputs, b.m.Outputs = []int{x, y}, []int{out}
		m := &b.m
		check(t, b, func(ins [][]byte) []float64 {
			res := make([]float64, 80)
			for i := range res {
				res[i] = requant(deq(&m.Tensors[x], ins[0], i, 0)+deq(&m.Tensors[y], ins[1], i, 0), qo, -128, 127)
			}
			return res
		}, 1)
	})
	t.Run("Mean", func(t *testing.T) {
		b := newBuilder(13)
		qi, qo := pt(0.05, -4), pt(0.02, 7)
		in := b.act("in", []int{1, 5, 3, 6}, qi)
		out := b.act("out", []int{1, 1, 1, 6}, qo)
		b.op(models.Op{Type: models.OpMean, Inputs: []int{in}, Outputs: []int{out}, Axes: []int{1, 2}, KeepDims: true})
		b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
		m := &b.m
		check(t, b, func(ins [][]byte) []float64 {
			res := make([]float64, 6)
			for ch := range res {
				s := 0.0
				for p := 0; p < 15; p++ {
					s += deq(&m.Tensors[in], ins[0], p*6+ch, 0)
				}
				res[ch] = requant(s/15, qo, -128, 127)
			}
			return res
		}, 1)
	})
	t.Run("Softmax", func(t *testing.T) {
		b := newBuilder(14)
		qi, qo := pt(0.1, 0), pt(1.0/256, -128)
		in := b.act("in", []int{2, 10}, qi)
		out := b.act("out", []int{2, 10}, qo)
		b.op(models.Op{Type: models.OpSoftmax, Inputs: []int{in}, Outputs: []int{out}, Beta: 1})
		b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
		m := &b.m
		check(t, b, func(ins [][]byte) []float64 {
			res := make([]float64, 20)
			for r := 0; r < 2; r++ {
				sum := 0.0
				for j := 0; j < 10; j++ {
					sum += math.Exp(deq(&m.Tensors[in], ins[0], r*10+j, 0))
				}
				for j := 0; j < 10; j++ {
					res[r*10+j] = requant(math.Exp(deq(&m.Tensors[in], ins[0], r*10+j, 0))/sum, qo, -128, 127)
				}
			}
			return res
		}, 1)
	})
}

func TestConcatPadReshapeQuantize(t *testing.T) {
	b := newBuilder(15)
	qa, qb, qo := pt(0.05, 0), pt(0.1, 3), pt(0.05, 0)
	x := b.act("a", []int{1, 2, 3, 2}, qa)
	y := b.act("b", []int{1, 2, 3, 3}, qb)
	cat := b.act("cat", []int{1, 2, 3, 5}, qo)
	pad := b.act("pad", []int{1, 3, 5, 5}, qo)
	flat := b.act("flat", []int{1, 75}, qo)
	u8 := b.tensor("u8", models.UInt8, []int{1, 75}, pt(0.05, 128), nil)
	b.op(models.Op{Type: models.OpConcatenation, Inputs: []int{x, y}, Outputs: []int{cat}, Axis: 3})
	b.op(models.Op{Type: models.OpPad, Inputs: []int{cat}, Outputs: []int{pad}, Paddings: []int{0, 0, 1, 0, 1, 1, 0, 0}})
	b.op(models.Op{Type: models.OpReshape, Inputs: []int{pad}, Outputs: []int{flat}})
	b.op(models.Op{Type: models.OpQuantize, Inputs: []int{flat}, Outputs: []int{u8}})
	b.m.Inputs, b.m.Outputs = []int{x, y}, []int{u8}
	it, err := New(&b.m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b.fill(it)
	if err := it.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, bb := it.Input(0).Int8s(), it.Input(1).Int8s()
	got := it.Output(0).Bytes()
	for yy := 0; yy < 3; yy++ {
		for xx := 0; xx < 5; xx++ {
			for ch := 0; ch < 5; ch++ {
				var want float64 // real value
				sy, sx := yy-1, xx-1
				if sy >= 0 && sx >= 0 && sx < 3 {
					if ch < 2 {
						want = 0.05 * float64(a[(sy*3+sx)*2+ch])
					} else {
						want = 0.1 * float64(int32(bb[(sy*3+sx)*3+ch-2])-3)
					}
				}
				q := math.Max(0, math.Min(255, math.Round(want/0.05)+128))
				g := got[(yy*5+xx)*5+ch]
				if math.Abs(float64(g)-q) > 1 {
					t.Fatalf("(%d,%d,%d): got %d, want %v", yy, xx, ch, g, q)
				}
			}
		}
	}
}

func TestPlannerSharesMemory(t *testing.T) {
	// A chain of 6 same-size ops needs the input and two buffers, not seven.
	b := newBuilder(16)
	q := pt(0.1, 0)
	prev := b.act("t0", []int{1, 8, 8, 16}, q)
	b.m.Inputs = []int{prev} // lives throughout
	for i := 1; i <= 6; i++ {
		next := b.act(fmt.Sprint("t", i), []int{1, 8, 8, 16}, q)
		b.op(models.Op{Type: models.OpMaxPool2D, Inputs: []int{prev}, Outputs: []int{next}, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})
		prev = next
	}
	b.m.Outputs = []int{prev}
	it, err := New(&b.m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := it.Plan()
	if p.ArenaSize != 3*1024 || p.NaiveSize != 7*1024 {
		t.Errorf("arena %d, naive %d; want 3072 and 7168", p.ArenaSize, p.NaiveSize)
	}
	// No op reads and writes overlapping bytes.
	for i, op := range b.m.Ops {
		in, out := op.Inputs[0], op.Outputs[0]
		if p.Offset[in] < p.Offset[out]+p.Size[out] && p.Offset[out] < p.Offset[in]+p.Size[in] {
			t.Errorf("op %d input and output overlap", i)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	mk := func(mut func(b *builder, in, w, out int)) error {
		b := newBuilder(1)
		in := b.act("in", []int{1, 4, 4, 3}, pt(0.1, 0))
		w := b.weights("w", []int{2, 3, 3, 3}, pt(0.01, 0))
		out := b.act("out", []int{1, 4, 4, 2}, pt(0.1, 0))
		b.op(models.Op{Type: models.OpConv2D, Name: "conv1", Inputs: []int{in, w}, Outputs: []int{out}, Pad: [4]int{1, 1, 1, 1}})
		b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
		mut(b, in, w, out)
		_, err := New(&b.m, Options{})
		return err
	}
	if err := mk(func(*builder, int, int, int) {}); err != nil {
		t.Fatalf("valid model rejected: %v", err)
	}
	cases := []struct {
		name string
		mut  func(b *builder, in, w, out int)
		want string
	}{
		{"wrong output shape", func(b *builder, in, w, out int) { b.m.Tensors[out].Shape = []int{1, 3, 4, 2} }, `op 0 (Conv2D "conv1"): output "out" has shape [1 3 4 2], the op computes [1 4 4 2]`},
		{"channel mismatch", func(b *builder, in, w, out int) { b.m.Tensors[in].Shape = []int{1, 4, 4, 5} }, "for 5 input channels"},
		{"float input", func(b *builder, in, w, out int) { b.m.Tensors[in].Type = models.Float32 }, "int8 only"},
		{"unknown op", func(b *builder, in, w, out int) { b.m.Ops[0].Type = 99 }, "op 0 (op(99)): unsupported operator"},
		{"bad index", func(b *builder, in, w, out int) { b.m.Ops[0].Inputs[1] = 42 }, "tensor index 42 out of range"},
		{"no scale", func(b *builder, in, w, out int) { b.m.Tensors[w].Quant = nil }, `filter "w" has no quantization`},
		{"short data", func(b *builder, in, w, out int) { b.m.Tensors[w].Data = b.m.Tensors[w].Data[:5] }, "5 bytes of data"},
		{"read before write", func(b *builder, in, w, out int) { b.m.Inputs = []int{out} }, "before any op writes it"},
	}
	for _, c := range cases {
		err := mk(c.mut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestRunHonoursContext(t *testing.T) {
	b := newBuilder(2)
	q := pt(0.1, 0)
	in := b.act("in", []int{1, 4}, q)
	out := b.act("out", []int{1, 4}, q)
	b.op(models.Op{Type: models.OpReshape, Inputs: []int{in}, Outputs: []int{out}})
	b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
	it, err := New(&b.m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := it.Run(ctx); err != context.Canceled {
		t.Errorf("Run on a cancelled context: %v", err)
	}
}

func TestThreadsGiveIdenticalResults(t *testing.T) {
	build := func() *builder {
		b := newBuilder(21)
		q := pt(0.05, 1)
		in := b.act("in", []int{1, 13, 11, 6}, q)
		w := b.weights("w", []int{9, 3, 3, 6}, pt(0.01, 0))
		mid := b.act("mid", []int{1, 13, 11, 9}, pt(0.1, -3))
		dw := b.weights("dw", []int{1, 3, 3, 9}, pt(0.02, 0))
		out := b.act("out", []int{1, 7, 6, 9}, pt(0.1, 0))
		fc := b.weights("fc", []int{5, 7 * 6 * 9}, pt(0.003, 0))
		logits := b.act("logits", []int{1, 5}, pt(0.2, 0))
		b.op(models.Op{Type: models.OpConv2D, Inputs: []int{in, w}, Outputs: []int{mid}, Pad: [4]int{1, 1, 1, 1}})
		b.op(models.Op{Type: models.OpDepthwiseConv2D, Inputs: []int{mid, dw}, Outputs: []int{out}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
		b.op(models.Op{Type: models.OpFullyConnected, Inputs: []int{out, fc}, Outputs: []int{logits}})
		b.m.Inputs, b.m.Outputs = []int{in}, []int{logits}
		return b
	}
	var ref []byte
	for _, threads := range []int{1, 2, 3, 8} {
		b := build()
		it, err := New(&b.m, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		b.fill(it)
		if err := it.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := append([]byte(nil), it.Output(0).Bytes()...)
		if ref == nil {
			ref = got
		} else if string(got) != string(ref) {
			t.Errorf("threads=%d: output %v differs from threads=1 %v", threads, got, ref)
		}
		if n := testing.AllocsPerRun(5, func() { it.Run(context.Background()) }); n != 0 {
			t.Errorf("threads=%d: Run allocates %v times", threads, n)
		}
		it.Close()
	}
}

// TestRequantizeTable checks the 8-bit QUANTIZE as the prepared op runs it (a table, or addBytes
// when the table is a byte offset) against requantizeGeneric and requantizeXNNPACK element by
// element, for every signedness, random scales and zero points, equal scales (the uint8 input of a
// converted model) and lengths that leave tails.
func TestRequantizeTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	offsets := 0
	for it := 0; it < 400; it++ {
		signedIn, signedOut := rng.IntN(2) == 1, rng.IntN(2) == 1
		lo, hi := func(s bool) (int32, int32) {
			if s {
				return -128, 127
			}
			return 0, 255
		}(signedIn)
		olo, ohi := int32(0), int32(255)
		if signedOut {
			olo, ohi = -128, 127
		}
		qp := &quantizeParams{inScale: float32(rng.Float64()*2 + 0.01), outMin: olo, outMax: ohi}
		qp.outScale = qp.inScale
		if it%2 == 0 {
			qp.outScale = float32(rng.Float64()*2 + 0.01)
		}
		qp.inZero = lo + rng.Int32N(hi-lo+1)
		qp.outZero = olo + rng.Int32N(ohi-olo+1)
		if it%4 == 1 { // same scale, the zero point moved with the range: a byte offset
			qp.outZero = qp.inZero - lo + olo
		}
		qp.mult, qp.shift = fixedpoint.QuantizeMultiplier(float64(qp.inScale) / float64(qp.outScale))
		xnn := signedIn == signedOut && it%3 == 0
		if xnn {
			qp.xnnpack = true
			qp.mult = int32(math.RoundToEven(float64(256 * qp.inScale / qp.outScale)))
		}
		n := rng.IntN(70)
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.IntN(256))
		}
		want := make([]byte, n)
		if xnn {
			requantizeXNNPACK(qp, want, src, signedIn)
		} else {
			requantizeGeneric(qp, want, src, signedIn, signedOut)
		}
		var all [256]byte
		for i := range all {
			all[i] = byte(i)
		}
		if xnn {
			requantizeXNNPACK(qp, qp.table[:], all[:], signedIn)
		} else {
			requantizeGeneric(qp, qp.table[:], all[:], signedIn, signedOut)
		}
		got := make([]byte, n)
		requantizeTable(&qp.table, got, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: table: got %v, want %v", it, got, want)
		}
		if d, ok := byteOffset(&qp.table); ok {
			offsets++
			clear(got)
			addBytes(d, got, src)
			if !bytes.Equal(got, want) {
				t.Fatalf("case %d: addBytes(%d): got %v, want %v", it, d, got, want)
			}
		}
	}
	if offsets < 20 {
		t.Fatalf("only %d cases were byte offsets", offsets)
	}
	// Every offset, every byte, unaligned lengths.
	src := make([]byte, 256+13)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for d := 0; d < 256; d++ {
		got := make([]byte, len(src))
		addBytes(byte(d), got, src)
		for i := range src {
			if got[i] != src[i]+byte(d) {
				t.Fatalf("addBytes(%d): byte %d: got %d, want %d", d, i, got[i], src[i]+byte(d))
			}
		}
	}
}

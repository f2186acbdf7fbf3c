package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type convCase struct {
	n, c, h, w, m, group, kh, kw int
	stride, dil                  [2]int64
	pads                         [4]int64
	bias                         bool
}

func (cc convCase) String() string {
	return fmt.Sprintf("N%d C%d %dx%d M%d g%d k%dx%d s%v d%v p%v bias %v", cc.n, cc.c, cc.h, cc.w, cc.m, cc.group, cc.kh, cc.kw, cc.stride, cc.dil, cc.pads, cc.bias)
}

func (cc convCase) node() *Node {
	return &Node{Op: "Conv", Attrs: map[string]Attr{"group": Int(int64(cc.group)), "strides": Ints(cc.stride[:]...),
		"dilations": Ints(cc.dil[:]...), "pads": Ints(cc.pads[:]...)}}
}

// convCases are edge shapes of every path: dense 3x3 (im2col), 1x1 pointwise (no im2col), grouped,
// depthwise with multipliers 1 and 2 (the direct loop, 3-wide and other widths), strided, dilated,
// asymmetric padding, windows wider than the input's interior, a batch of two.
func convCases() []convCase {
	s1, s2 := [2]int64{1, 1}, [2]int64{2, 2}
	return []convCase{
		{1, 3, 32, 32, 48, 1, 3, 3, s2, s1, [4]int64{1, 1, 1, 1}, true},
		{1, 48, 8, 8, 48, 1, 3, 3, s1, s1, [4]int64{1, 1, 1, 1}, true},
		{1, 192, 2, 2, 200, 1, 3, 3, s1, s1, [4]int64{1, 1, 1, 1}, true},
		{2, 16, 5, 7, 13, 1, 1, 1, s1, s1, [4]int64{}, false},
		{1, 16, 5, 7, 13, 1, 1, 1, s2, s1, [4]int64{0, 1, 0, 0}, true},
		{1, 12, 9, 6, 18, 3, 3, 3, s1, s1, [4]int64{1, 1, 1, 1}, true},
		{1, 8, 11, 10, 16, 2, 2, 3, [2]int64{1, 3}, [2]int64{2, 1}, [4]int64{0, 2, 1, 0}, false},
		{1, 16, 16, 16, 16, 16, 3, 3, s1, s1, [4]int64{1, 1, 1, 1}, true},
		{2, 9, 7, 5, 9, 9, 3, 3, s2, s1, [4]int64{1, 1, 1, 1}, false},
		{1, 6, 7, 9, 12, 6, 3, 3, s1, [2]int64{2, 2}, [4]int64{2, 2, 2, 2}, true},
		{1, 5, 8, 8, 5, 5, 5, 5, s1, s1, [4]int64{2, 2, 2, 2}, true},
		{1, 4, 3, 3, 4, 4, 3, 3, s1, s1, [4]int64{3, 0, 0, 3}, true},
		{1, 4, 2, 9, 8, 4, 1, 4, [2]int64{1, 2}, s1, [4]int64{0, 1, 0, 2}, true},
		{1, 3, 4, 4, 2, 1, 4, 4, s1, s1, [4]int64{}, true},
	}
}

// naiveConv is the textbook loop in float64, with Σ|w·x| per output element.
func naiveConv(cc convCase, x, w, bias []float32) (out, abs []float64, oh, ow int) {
	oh = (cc.h+int(cc.pads[0]+cc.pads[2])-((cc.kh-1)*int(cc.dil[0])+1))/int(cc.stride[0]) + 1
	ow = (cc.w+int(cc.pads[1]+cc.pads[3])-((cc.kw-1)*int(cc.dil[1])+1))/int(cc.stride[1]) + 1
	cg, mg := cc.c/cc.group, cc.m/cc.group
	out, abs = make([]float64, cc.n*cc.m*oh*ow), make([]float64, cc.n*cc.m*oh*ow)
	for b := range cc.n {
		for m := range cc.m {
			for y := range oh {
				for xo := range ow {
					o := ((b*cc.m+m)*oh+y)*ow + xo
					if bias != nil {
						out[o], abs[o] = float64(bias[m]), math.Abs(float64(bias[m]))
					}
					for c := range cg {
						ic := m/mg*cg + c
						for i := range cc.kh {
							for j := range cc.kw {
								ih := y*int(cc.stride[0]) - int(cc.pads[0]) + i*int(cc.dil[0])
								iw := xo*int(cc.stride[1]) - int(cc.pads[1]) + j*int(cc.dil[1])
								if ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w {
									continue
								}
								p := float64(w[((m*cg+c)*cc.kh+i)*cc.kw+j]) * float64(x[((b*cc.c+ic)*cc.h+ih)*cc.w+iw])
								out[o] += p
								abs[o] += math.Abs(p)
							}
						}
					}
				}
			}
		}
	}
	return out, abs, oh, ow
}

// TestConv runs Conv on every path against the float64 textbook loop (bound: (K+3)·2^-23·Σ|w·x|),
// twice on one node (the second run uses the packed weights it kept), then with new weights on the
// same node (they must be repacked).
func TestConv(t *testing.T) {
	kernels(t, testConv)
	// Every shape's im2col by rows, not through the gather table.
	defer func(r int) { im2colGatherRow = r }(im2colGatherRow)
	im2colGatherRow = 0
	t.Run("rows", testConv)
	im2colGatherRow = 16
	// im2col in chunks of output rows (one row, then three, at a time).
	defer func(b int64) { im2colBudget = b }(im2colBudget)
	for _, b := range []int64{1, 3 * 9 * 8 * 48} {
		im2colBudget = b
		t.Run(fmt.Sprintf("budget %d", b), testConv)
	}
}

func testConv(t *testing.T) {
	{
		r := rand.New(rand.NewPCG(3, 3))
		for _, cc := range convCases() {
			n := cc.node()
			x := &Tensor{Shape: []int{cc.n, cc.c, cc.h, cc.w}, Data: randFloats(r, cc.n*cc.c*cc.h*cc.w)}
			var ins []*Tensor
			var w *Tensor
			var bias []float32
			for round := range 3 {
				if round != 1 { // round 1 reruns round 0's weights, packed; round 2 brings new ones
					w = &Tensor{Shape: []int{cc.m, cc.c / cc.group, cc.kh, cc.kw}, Data: randFloats(r, cc.m*cc.c/cc.group*cc.kh*cc.kw)}
					ins, bias = []*Tensor{x, w}, nil
					if cc.bias {
						bias = randFloats(r, cc.m)
						ins = append(ins, &Tensor{Shape: []int{cc.m}, Data: bias})
					}
				}
				outs, err := runNode(n, ins)
				if err != nil {
					t.Fatalf("%v: %v", cc, err)
				}
				want, abs, oh, ow := naiveConv(cc, x.Data, w.Data, bias)
				got := outs[0]
				if len(got.Data) != len(want) || got.Shape[2] != oh || got.Shape[3] != ow {
					t.Fatalf("%v: output %v, want %d values of %dx%d", cc, got.Shape, len(want), oh, ow)
				}
				k := cc.c / cc.group * cc.kh * cc.kw
				for i, v := range got.Data {
					if !within(v, want[i], abs[i], k+1) {
						t.Fatalf("%v round %d: output %d = %v, want %v", cc, round, i, v, want[i])
					}
				}
			}
		}
	}
}

// TestDepthwiseExact: the direct depthwise loop sums in the textbook order (bias, then the taps in
// (kh, kw) order), so with the Go loops it equals that loop in float32 bit for bit: the padding's
// w·0 terms it adds change nothing (the sign of a zero at most, which this data does not produce).
// (The AVX2 row kernel rounds once per tap instead: TestConv and TestDepthwiseRow3 check it.)
func TestDepthwiseExact(t *testing.T) {
	defer func(v bool) { useFloatAsm = v }(useFloatAsm)
	useFloatAsm = false
	r := rand.New(rand.NewPCG(6, 6))
	for _, cc := range convCases() {
		if cc.c/cc.group != 1 {
			continue
		}
		x := &Tensor{Shape: []int{cc.n, cc.c, cc.h, cc.w}, Data: randFloats(r, cc.n*cc.c*cc.h*cc.w)}
		w := &Tensor{Shape: []int{cc.m, 1, cc.kh, cc.kw}, Data: randFloats(r, cc.m*cc.kh*cc.kw)}
		ins := []*Tensor{x, w}
		bias := randFloats(r, cc.m)
		if cc.bias {
			ins = append(ins, &Tensor{Shape: []int{cc.m}, Data: bias})
		}
		outs, err := runNode(cc.node(), ins)
		if err != nil {
			t.Fatal(err)
		}
		got := outs[0]
		OH, OW := got.Shape[2], got.Shape[3]
		mg := cc.m / cc.c
		for b := range cc.n {
			for m := range cc.m {
				for y := range OH {
					for xo := range OW {
						var acc float32
						if cc.bias {
							acc = bias[m]
						}
						for i := range cc.kh {
							for j := range cc.kw {
								ih := y*int(cc.stride[0]) - int(cc.pads[0]) + i*int(cc.dil[0])
								iw := xo*int(cc.stride[1]) - int(cc.pads[1]) + j*int(cc.dil[1])
								if ih >= 0 && ih < cc.h && iw >= 0 && iw < cc.w {
									acc += w.Data[(m*cc.kh+i)*cc.kw+j] * x.Data[((b*cc.c+m/mg)*cc.h+ih)*cc.w+iw]
								}
							}
						}
						if g := got.Data[((b*cc.m+m)*OH+y)*OW+xo]; g != acc {
							t.Fatalf("%v: output (%d %d %d %d) = %v, textbook %v", cc, b, m, y, xo, g, acc)
						}
					}
				}
			}
		}
	}
}

// TestConvNoAllocs: once its buffers have grown and the weights are packed, a convolution
// allocates nothing (the output tensor is the caller's).
func TestConvNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, cc := range convCases() {
		n := cc.node()
		x := &Tensor{Shape: []int{cc.n, cc.c, cc.h, cc.w}, Data: randFloats(r, cc.n*cc.c*cc.h*cc.w)}
		w := &Tensor{Shape: []int{cc.m, cc.c / cc.group, cc.kh, cc.kw}, Data: randFloats(r, cc.m*cc.c/cc.group*cc.kh*cc.kw)}
		ws, err := windows(n, cc.h, cc.w, cc.kh, cc.kw, false)
		if err != nil {
			t.Fatal(err)
		}
		out := &Tensor{Shape: []int{cc.n, cc.m, ws[0].out, ws[1].out}, Data: make([]float32, cc.n*cc.m*ws[0].out*ws[1].out)}
		s := new(gemmScratch)
		bias := randFloats(r, cc.m)
		convInto(n, x, w, bias, out, ws, cc.group, s)
		if a := testing.AllocsPerRun(5, func() { convInto(n, x, w, bias, out, ws, cc.group, s) }); a != 0 {
			t.Errorf("%v: %v allocations per convolution", cc, a)
		}
	}
}

// TestDepthwiseRow3: the AVX2 row kernel against the Go loop (the same order; one rounding per tap
// instead of two: within 2^-22 of the terms' magnitude) on lengths around the vector width, tap
// spacings 1–3, operands at offsets 0–7, with guard values after dst that must stay untouched.
func TestDepthwiseRow3(t *testing.T) {
	if !floatAsmOK {
		t.Skip("no AVX2/FMA assembly kernel on this CPU or platform")
	}
	defer func(v bool) { useFloatAsm = v }(useFloatAsm)
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 64, 100} {
		for dw := 1; dw <= 3; dw++ {
			for off := range 8 {
				x := randFloats(r, off+n+2*dw)[off:]
				w := randFloats(r, 3)
				base := randFloats(r, off+n+4)
				var got, want []float32
				for _, asm := range []bool{false, true} {
					useFloatAsm = asm
					d := append([]float32(nil), base...)
					depthwiseRow3(d[off:off+n], x, w, 1, dw)
					if asm {
						got = d
					} else {
						want = d
					}
				}
				for i := range got {
					if i < off || i >= off+n {
						if got[i] != base[i] {
							t.Fatalf("n %d dw %d off %d: guard %d changed", n, dw, off, i)
						}
						continue
					}
					j := i - off
					abs := math.Abs(float64(base[i])) + math.Abs(float64(w[0]*x[j])) + math.Abs(float64(w[1]*x[j+dw])) + math.Abs(float64(w[2]*x[j+2*dw]))
					if math.Abs(float64(got[i]-want[i])) > 0x1p-22*abs {
						t.Fatalf("n %d dw %d off %d: output %d asm %v, Go %v", n, dw, off, j, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestConvBatchExact: a batch goes through one GEMM per group for several images (convBatch), and
// each image's output must be bit for bit what the image alone gives (convImages), with both
// kernels, whole batches and batches split by the im2col budget (two images, then one, at a time).
func TestConvBatchExact(t *testing.T) {
	kernels(t, func(t *testing.T) {
		defer func(b int64) { im2colBudget = b }(im2colBudget)
		r := rand.New(rand.NewPCG(11, 5))
		for _, cc := range convCases() {
			cc.n = 5
			k := cc.c / cc.group * cc.kh * cc.kw
			ws, err := windows(cc.node(), cc.h, cc.w, cc.kh, cc.kw, false)
			if err != nil {
				t.Fatal(err)
			}
			p := ws[0].out * ws[1].out
			x := &Tensor{Shape: []int{cc.n, cc.c, cc.h, cc.w}, Data: randFloats(r, cc.n*cc.c*cc.h*cc.w)}
			w := &Tensor{Shape: []int{cc.m, cc.c / cc.group, cc.kh, cc.kw}, Data: randFloats(r, cc.m*k)}
			ins := []*Tensor{x, w}
			if cc.bias {
				ins = append(ins, &Tensor{Shape: []int{cc.m}, Data: randFloats(r, cc.m)})
			}
			n := cc.node()
			var alone []float32
			for b := range cc.n {
				one := &Tensor{Shape: []int{1, cc.c, cc.h, cc.w}, Data: x.Data[b*cc.c*cc.h*cc.w : (b+1)*cc.c*cc.h*cc.w]}
				outs, err := runNode(n, append([]*Tensor{one}, ins[1:]...))
				if err != nil {
					t.Fatalf("%v: %v", cc, err)
				}
				alone = append(alone, outs[0].Data...)
			}
			for _, budget := range []int64{1 << 21, int64(2 * k * p), int64(k * p)} {
				im2colBudget = budget
				outs, err := runNode(n, ins)
				if err != nil {
					t.Fatalf("%v: %v", cc, err)
				}
				for i, v := range outs[0].Data {
					if math.Float32bits(v) != math.Float32bits(alone[i]) {
						t.Fatalf("%v, budget %d: output %d of the batch = %v, alone %v", cc, budget, i, v, alone[i])
					}
				}
			}
			im2colBudget = 1 << 21
		}
	})
}

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveDepthwise computes the depthwise convolution from its defining formula (DepthwiseParams).
func naiveDepthwise(p *DepthwiseParams, src []int8) []int8 {
	return naiveRequant(naiveDepthwiseAcc(p, src), p.InC*p.Multiplier, p.Mult, p.Shift, p.Scale, p.OutZero, p.ActMin, p.ActMax)
}

// naiveDepthwiseAcc computes the depthwise convolution's accumulators.
func naiveDepthwiseAcc(p *DepthwiseParams, src []int8) []int32 {
	oc := p.InC * p.Multiplier
	out := make([]int32, p.OutH*p.OutW*oc)
	for oy := 0; oy < p.OutH; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			for o := 0; o < oc; o++ {
				var acc int32
				if p.Bias != nil {
					acc = p.Bias[o]
				}
				for ky := 0; ky < p.KH; ky++ {
					for kx := 0; kx < p.KW; kx++ {
						iy := oy*p.StrideH - p.PadTop + ky*p.DilH
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilW
						if iy < 0 || iy >= p.InH || ix < 0 || ix >= p.InW {
							continue
						}
						in := int32(src[(iy*p.InW+ix)*p.InC+o/p.Multiplier]) - p.InZero
						acc += in * (int32(p.Weights[(ky*p.KW+kx)*oc+o]) - at(p.WeightZero, o))
					}
				}
				out[(oy*p.OutW+ox)*oc+o] = acc
			}
		}
	}
	return out
}

// randDepthwise returns a random valid depthwise convolution; fast one for the 3x3 or 5x5 s1/s2
// kernels (each half of the time).
func randDepthwise(r *rand.Rand, fast bool) DepthwiseParams {
	return randDepthwiseK(r, fast, 3+2*r.IntN(2))
}

// randDepthwiseK is randDepthwise with a fast kernel of k x k.
func randDepthwiseK(r *rand.Rand, fast bool, k int) DepthwiseParams {
	for {
		var p DepthwiseParams
		p.InC = 1 + r.IntN(67)
		p.Multiplier = 1
		p.KH, p.KW, p.DilH, p.DilW = k, k, 1, 1
		p.StrideH = 1 + r.IntN(2)
		p.StrideW = p.StrideH
		if !fast {
			p.Multiplier = 1 + r.IntN(3)
			p.KH, p.KW = 1+r.IntN(5), 1+r.IntN(5)
			p.StrideH, p.StrideW = 1+r.IntN(3), 1+r.IntN(3)
			p.DilH, p.DilW = 1+r.IntN(2), 1+r.IntN(2)
		}
		p.InH, p.InW = 1+r.IntN(33), 1+r.IntN(33)
		p.PadTop, p.PadLeft = r.IntN(3), r.IntN(3)
		padB, padR := r.IntN(3), r.IntN(3)
		ekh, ekw := (p.KH-1)*p.DilH+1, (p.KW-1)*p.DilW+1
		if p.InH+p.PadTop+padB < ekh || p.InW+p.PadLeft+padR < ekw {
			continue
		}
		p.OutH = (p.InH+p.PadTop+padB-ekh)/p.StrideH + 1
		p.OutW = (p.InW+p.PadLeft+padR-ekw)/p.StrideW + 1
		oc := p.InC * p.Multiplier
		p.InZero = int32(r.IntN(256) - 128)
		p.Weights = randInt8s(r, p.KH*p.KW*oc)
		switch r.IntN(3) {
		case 0:
			p.WeightZero = []int32{0}
		case 1:
			p.WeightZero = []int32{int32(r.IntN(256) - 128)}
		default:
			p.WeightZero = make([]int32, oc)
			for i := range p.WeightZero {
				p.WeightZero[i] = int32(r.IntN(256) - 128)
			}
		}
		if r.IntN(4) != 0 {
			p.Bias = make([]int32, oc)
			for i := range p.Bias {
				p.Bias[i] = int32(r.IntN(1<<17) - 1<<16)
			}
		}
		p.Mult, p.Shift = make([]int32, oc), make([]int32, oc)
		accScale := math.Sqrt(float64(p.KH*p.KW)) * 128 * 128
		for i := range p.Mult {
			p.Mult[i], p.Shift[i] = randQuant(r, accScale)
		}
		if r.IntN(3) == 0 {
			p.Mult, p.Shift = p.Mult[:1], p.Shift[:1]
		}
		if r.IntN(3) == 0 { // XNNPACK's fp32 requantization; Mult and Shift ignored or absent
			p.Scale = randScales(r, oc, accScale)
			if r.IntN(2) == 0 {
				p.Mult, p.Shift = nil, nil
			}
		}
		p.OutZero, p.ActMin, p.ActMax = randActRange(r)
		return p
	}
}

func (p *DepthwiseParams) String() string {
	return fmt.Sprintf("%dx%dx%d->%dx%d k%dx%d s%dx%d d%dx%d m%d pad%d,%d fp32 %v", p.InH, p.InW, p.InC, p.OutH, p.OutW,
		p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.Multiplier, p.PadTop, p.PadLeft, p.Scale != nil)
}

func runDepthwise(t testing.TB, r *rand.Rand, pth path, p *DepthwiseParams, src []int8) []int8 {
	t.Helper()
	var d *Depthwise
	var err error
	withPath(pth, func() { d, err = NewDepthwise(*p) })
	if err != nil {
		t.Fatalf("%v: %v", p, err)
	}
	dst := newGuarded(r, p.OutH*p.OutW*p.InC*p.Multiplier)
	scratch := newGuarded(r, d.ScratchSize())
	a := r.IntN(p.OutH + 1)
	for _, rg := range [][2]int{{a, p.OutH}, {-1, a}} {
		d.Run(dst.data(), src, scratch.data(), rg[0], rg[1])
	}
	dst.check(t, "depthwise dst")
	scratch.check(t, "depthwise scratch")
	return dst.data()
}

func TestDepthwiseMatchesNaive(t *testing.T) {
	r := newRand(20)
	for i := 0; i < scale(t, 500); i++ {
		p := randDepthwise(r, i%3 != 0)
		src := newGuarded(r, p.InH*p.InW*p.InC)
		copy(src.data(), randInt8s(r, p.InH*p.InW*p.InC))
		want := naiveDepthwise(&p, src.data())
		for _, pth := range testPaths() {
			got := runDepthwise(t, r, pth, &p, src.data())
			diffInt8(t, fmt.Sprintf("case %d %v path %v", i, &p, pth), got, want)
		}
	}
}

// TestDepthwiseMobileNetShapes: MobileNet's depthwise layers (spatially scaled down), SAME padding;
// the 5x5 ones of MobileNetV3 and EfficientNet.
func TestDepthwiseMobileNetShapes(t *testing.T) {
	r := newRand(21)
	for i, sh := range []struct{ h, c, s, k int }{{10, 32, 1, 3}, {9, 96, 2, 3}, {6, 144, 1, 3}, {5, 960, 1, 3}, {8, 8, 2, 3},
		{7, 24, 1, 3}, {14, 72, 2, 5}, {7, 96, 1, 5}, {4, 576, 1, 5}, {8, 240, 2, 5}, {10, 32, 1, 3}, {9, 96, 2, 3},
		{5, 960, 1, 3}, {14, 72, 2, 5}, {7, 120, 1, 5}, {4, 1152, 1, 5}, {9, 240, 2, 5}} {
		p := DepthwiseParams{InH: sh.h, InW: sh.h, InC: sh.c, KH: sh.k, KW: sh.k, StrideH: sh.s, StrideW: sh.s, DilH: 1, DilW: 1,
			Multiplier: 1, InZero: -128, Weights: randInt8s(r, sh.k*sh.k*sh.c), WeightZero: []int32{int32(r.IntN(100) - 50)}}
		p.OutH = (sh.h + sh.s - 1) / sh.s
		p.OutW = p.OutH
		pad := max((p.OutH-1)*sh.s+sh.k-sh.h, 0)
		p.PadTop, p.PadLeft = pad/2, pad/2
		p.Bias, p.Mult, p.Shift = make([]int32, sh.c), make([]int32, sh.c), make([]int32, sh.c)
		for j := range p.Mult {
			p.Bias[j] = int32(r.IntN(20000) - 10000)
			p.Mult[j], p.Shift[j] = randQuant(r, float64(sh.k)*128*128)
		}
		if i >= 10 { // fp32 requantization
			p.Mult, p.Shift, p.Scale = nil, nil, randScales(r, sh.c, float64(sh.k)*128*128)
		}
		p.OutZero, p.ActMin, p.ActMax = -128, -128, 127
		src := randInt8s(r, p.InH*p.InW*p.InC)
		want := naiveDepthwise(&p, src)
		for _, pth := range testPaths() {
			diffInt8(t, fmt.Sprintf("%v path %v", &p, pth), runDepthwise(t, r, pth, &p, src), want)
		}
	}
}

func TestDepthwiseNoAlloc(t *testing.T) {
	r := newRand(22)
	for _, pth := range testPaths() {
		for i := 0; i < 8; i++ {
			p := randDepthwiseK(r, true, 3+2*(i/4)) // 3x3, then 5x5 (dw5x5)
			if i%2 == 1 {                           // the SDOT form (dwdot) for 3x3: fp32 requantization, padding
				p.Mult, p.Shift, p.Scale = nil, nil, randScales(r, p.InC, 3*128*128)
				p.WeightZero = []int32{int32(i/2%2) * 9}
			}
			var d *Depthwise
			withPath(pth, func() { d, _ = NewDepthwise(p) })
			dst, src := make([]int8, p.OutH*p.OutW*p.InC), randInt8s(r, p.InH*p.InW*p.InC)
			scratch := make([]int8, d.ScratchSize())
			if n := testing.AllocsPerRun(10, func() { d.Run(dst, src, scratch, 0, p.OutH) }); n != 0 {
				t.Errorf("path %v, %v: Run allocates %v times", pth, &p, n)
			}
		}
	}
}

func TestDepthwiseRejects(t *testing.T) {
	good := DepthwiseParams{InH: 3, InW: 3, InC: 2, OutH: 3, OutW: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
		PadTop: 1, PadLeft: 1, Multiplier: 1, Weights: make([]int8, 18), WeightZero: []int32{0}, Mult: []int32{1 << 30},
		Shift: []int32{0}, ActMin: -128, ActMax: 127}
	if _, err := NewDepthwise(good); err != nil {
		t.Fatalf("valid params rejected: %v", err)
	}
	for i, f := range []func(p *DepthwiseParams){
		func(p *DepthwiseParams) { p.Multiplier = 0 },
		func(p *DepthwiseParams) { p.Weights = p.Weights[1:] },
		func(p *DepthwiseParams) { p.Mult = []int32{1, 2, 3} },
		func(p *DepthwiseParams) { p.DilW = 0 },
		func(p *DepthwiseParams) { p.OutZero = -129 },
		func(p *DepthwiseParams) { p.Scale = []float32{1, 2, 3} },
		func(p *DepthwiseParams) { p.Scale = []float32{float32(math.Inf(1))} },
		func(p *DepthwiseParams) { p.Scale = []float32{0, 1} },
	} {
		p := good
		f(&p)
		if _, err := NewDepthwise(p); err == nil {
			t.Errorf("bad params %d accepted", i)
		}
	}
}

// TestDepthwiseFP32Ties is TestConvFP32Ties for depthwise convolutions: the dw3x3 kernel (stride 1
// and 2, channel tails) and the Go loop (other kernel sizes, multipliers).
func TestDepthwiseFP32Ties(t *testing.T) {
	r := newRand(23)
	var ties, differ int
	for i := 0; i < scale(t, 40); i++ {
		p := randDepthwise(r, i%3 != 0)
		oc := p.InC * p.Multiplier
		p.InZero, p.WeightZero = int32(r.IntN(5)-2), []int32{int32(r.IntN(3) - 1)}
		for j := range p.Weights {
			p.Weights[j] = int8(r.IntN(15) - 7)
		}
		p.Bias = make([]int32, oc)
		for j := range p.Bias {
			p.Bias[j] = int32(2*r.IntN(41) - 41) // odd
		}
		p.Mult, p.Shift, p.Scale = nil, nil, smallTieScales(r, oc)
		p.OutZero, p.ActMin, p.ActMax = int32(r.IntN(21)-10), -128, 127
		src := make([]int8, p.InH*p.InW*p.InC)
		for j := range src {
			src[j] = int8(r.IntN(9) - 4)
		}
		tc, dc := countTies(naiveDepthwiseAcc(&p, src), oc, p.Scale)
		ties, differ = ties+tc, differ+dc
		want := naiveDepthwise(&p, src)
		for _, pth := range testPaths() {
			diffInt8(t, fmt.Sprintf("case %d %v scales %v path %v", i, &p, p.Scale, pth), runDepthwise(t, r, pth, &p, src), want)
		}
	}
	t.Logf("%d exact ties, %d where half to even differs from half away from zero", ties, differ)
	if differ < 100 {
		t.Fatalf("only %d ties that tell the rounding modes apart: the test does not test", differ)
	}
}

// TestDepthwiseDot checks the SDOT form (dwdot, rows prepared by dwprep) against the formula on the
// paths that can run it: its Go twins everywhere, the assembly where the CPU has the dot product.
// NewDepthwise picks it on the sdot path only; here it is also forced on the generic path.
func TestDepthwiseDot(t *testing.T) {
	r := newRand(21)
	n := 0
	for i := 0; i < scale(t, 400); i++ {
		p := randDepthwiseK(r, true, 3)
		switch r.IntN(3) { // none, per tensor (TF1 uint8 models), per channel; -128 takes dw3x3
		case 0:
			p.WeightZero = []int32{0}
		case 1:
			p.WeightZero = []int32{int32(r.IntN(255) - 127)}
		default:
			p.WeightZero = make([]int32, p.InC)
			for i := range p.WeightZero {
				p.WeightZero[i] = int32(r.IntN(255) - 127)
			}
		}
		// Weights near their zero points: blocks where w - wz fit in int8 (all, or the even ones).
		if near := r.IntN(3); near > 0 {
			for i := range p.Weights {
				if ch := i % p.InC; near == 1 || ch/16%2 == 0 {
					p.Weights[i] = int8(min(max(at(p.WeightZero, ch)+int32(r.IntN(101)-50), -128), 127))
				}
			}
		}
		if p.Scale == nil || r.IntN(4) == 0 {
			p.Scale = randScales(r, p.InC, math.Sqrt(9)*128*128)
		}
		switch r.IntN(4) { // the clamps that cannot bind are skipped
		case 0:
			p.ActMin = -128
		case 1:
			p.ActMax = 127
		case 2:
			p.ActMin, p.ActMax = -128, 127
		}
		p.OutZero = min(max(p.OutZero, p.ActMin), p.ActMax)
		src := newGuarded(r, p.InH*p.InW*p.InC)
		copy(src.data(), randInt8s(r, p.InH*p.InW*p.InC))
		want := naiveDepthwise(&p, src.data())
		for _, pth := range testPaths() {
			if pth == pathNEON {
				continue
			}
			var d *Depthwise
			var err error
			withPath(pth, func() { d, err = NewDepthwise(p) })
			if err != nil {
				t.Fatalf("%v: %v", &p, err)
			}
			if !d.dot {
				d.packDot()
			}
			n++
			dst := newGuarded(r, p.OutH*p.OutW*p.InC)
			scratch := newGuarded(r, d.ScratchSize())
			a := r.IntN(p.OutH + 1)
			for _, rg := range [][2]int{{a, p.OutH}, {-1, a}} {
				d.Run(dst.data(), src.data(), scratch.data(), rg[0], rg[1])
			}
			dst.check(t, "depthwise dst")
			scratch.check(t, "depthwise scratch")
			diffInt8(t, fmt.Sprintf("case %d %v path %v (dot)", i, &p, pth), dst.data(), want)
		}
	}
	t.Logf("%d runs of the SDOT form", n)
}

// randB8Depthwise returns a random 3x3 stride 1 or 2 depthwise convolution whose w - wz are all in
// [-127, 127] (the int8 form, dw3x3b): symmetric per-channel weights (TFLite int8), weights near a
// per-tensor zero point (uint8 models), or the extremes (inputs and input zero point -128 or 127,
// weights ±127).
func randB8Depthwise(r *rand.Rand) DepthwiseParams {
	p := randDepthwiseK(r, true, 3)
	switch r.IntN(3) {
	case 0:
		p.WeightZero = []int32{0}
		for i := range p.Weights {
			p.Weights[i] = int8(r.IntN(255) - 127)
		}
	case 1:
		wz := int32(r.IntN(256) - 128)
		p.WeightZero = []int32{wz}
		for i := range p.Weights {
			p.Weights[i] = int8(min(max(wz+int32(r.IntN(255)-127), -128), 127))
		}
	default:
		p.WeightZero = []int32{0}
		sign := int8(1 - 2*r.IntN(2))
		for i := range p.Weights {
			p.Weights[i] = sign * math.MaxInt8
		}
		p.InZero = []int32{-128, 127}[r.IntN(2)]
	}
	return p
}

// TestDepthwiseB8 checks the int8 form (dw3x3b) against the formula on every path (forced on the
// generic path, where NewDepthwise keeps dw3x3), with channel counts not multiples of 16, strides 1
// and 2, padding, per-tensor and per-channel quantization, and the extremes of randB8Depthwise.
func TestDepthwiseB8(t *testing.T) {
	r := newRand(24)
	n := 0
	for i := 0; i < scale(t, 300); i++ {
		p := randB8Depthwise(r)
		src := newGuarded(r, p.InH*p.InW*p.InC)
		copy(src.data(), randInt8s(r, p.InH*p.InW*p.InC))
		if i%5 == 0 { // all -128: the largest products with ±127 weights
			for j := range src.data() {
				src.data()[j] = math.MinInt8
			}
		}
		want := naiveDepthwise(&p, src.data())
		for _, pth := range testPaths() {
			var d *Depthwise
			var err error
			withPath(pth, func() { d, err = NewDepthwise(p) })
			if err != nil {
				t.Fatalf("%v: %v", &p, err)
			}
			if d.dot {
				continue // the SDOT form: TestDepthwiseDot
			}
			if !d.b8 {
				if pth != pathGeneric && haveDW3x3b {
					t.Fatalf("%v path %v: the int8 form not chosen, though every w - wz fits", &p, pth)
				}
				d.packB8()
			}
			n++
			dst := newGuarded(r, p.OutH*p.OutW*p.InC)
			scratch := newGuarded(r, d.ScratchSize())
			a := r.IntN(p.OutH + 1)
			for _, rg := range [][2]int{{a, p.OutH}, {-1, a}} {
				d.Run(dst.data(), src.data(), scratch.data(), rg[0], rg[1])
			}
			dst.check(t, "depthwise dst")
			scratch.check(t, "depthwise scratch")
			diffInt8(t, fmt.Sprintf("case %d %v path %v (int8 form)", i, &p, pth), dst.data(), want)
		}
	}
	t.Logf("%d runs of the int8 form", n)
}

// TestDepthwiseB8Selection: a weight of -128 (w - wz outside [-127, 127]) keeps dw3x3; the int8
// form allocates nothing per Run.
func TestDepthwiseB8Selection(t *testing.T) {
	r := newRand(25)
	if !haveDW3x3b {
		t.Skip("dw3x3b is not chosen on this GOARCH (dw3x3 runs in AVX2 on amd64)")
	}
	for _, pth := range testPaths() {
		if pth == pathGeneric {
			continue
		}
		p := randB8Depthwise(r)
		p.Mult, p.Shift, p.Scale = make([]int32, 1), make([]int32, 1), nil // not the SDOT form
		p.Mult[0], p.Shift[0] = randQuant(r, 3*128*128)
		var d *Depthwise
		withPath(pth, func() { d, _ = NewDepthwise(p) })
		if !d.b8 {
			t.Fatalf("path %v, %v: the int8 form not chosen", pth, &p)
		}
		dst, src := make([]int8, p.OutH*p.OutW*p.InC), randInt8s(r, p.InH*p.InW*p.InC)
		scratch := make([]int8, d.ScratchSize())
		if n := testing.AllocsPerRun(10, func() { d.Run(dst, src, scratch, 0, p.OutH) }); n != 0 {
			t.Errorf("path %v, %v: Run allocates %v times", pth, &p, n)
		}
		p.WeightZero = []int32{0}
		p.Weights = slices.Clone(p.Weights)
		p.Weights[r.IntN(len(p.Weights))] = math.MinInt8
		withPath(pth, func() { d, _ = NewDepthwise(p) })
		if d.b8 {
			t.Errorf("path %v, %v: the int8 form chosen with a weight of -128", pth, &p)
		}
	}
}

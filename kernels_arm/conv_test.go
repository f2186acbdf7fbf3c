package kernels

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// randConv returns a random valid convolution: odd shapes, strides, dilations, paddings, weight
// zero points, -128 weights; macs bounds its size.
func randConv(r *rand.Rand, maxMACs int) ConvParams {
	for {
		var p ConvParams
		p.InC = 1 + r.IntN(67)
		if r.IntN(2) == 0 {
			p.InC = 16 * (1 + r.IntN(4)) // the indirect (tap) path
		}
		p.OutC = 1 + r.IntN(67)
		ks := []int{1, 1, 2, 3, 3, 5}
		p.KH, p.KW = ks[r.IntN(len(ks))], ks[r.IntN(len(ks))]
		p.StrideH, p.StrideW = 1+r.IntN(3), 1+r.IntN(3)
		p.DilH, p.DilW = 1, 1
		if r.IntN(5) == 0 {
			p.DilH, p.DilW = 1+r.IntN(2), 1+r.IntN(2)
		}
		p.InH, p.InW = 1+r.IntN(33), 1+r.IntN(33)
		p.PadTop, p.PadLeft = r.IntN(3), r.IntN(3)
		padB, padR := r.IntN(3), r.IntN(3)
		ekh, ekw := (p.KH-1)*p.DilH+1, (p.KW-1)*p.DilW+1
		p.OutH = (p.InH+p.PadTop+padB-ekh)/p.StrideH + 1
		p.OutW = (p.InW+p.PadLeft+padR-ekw)/p.StrideW + 1
		k := p.KH * p.KW * p.InC
		if p.OutH <= 0 || p.OutW <= 0 || p.InH+p.PadTop+padB < ekh || p.InW+p.PadLeft+padR < ekw {
			continue
		}
		if p.OutH*p.OutW*p.OutC*k > maxMACs {
			continue
		}
		p.InZero = int32(r.IntN(256) - 128)
		p.Weights = randInt8s(r, p.OutC*k)
		if r.IntN(2) == 0 { // symmetric TF2 weights
			for i, w := range p.Weights {
				if w == math.MinInt8 {
					p.Weights[i] = -127
				}
			}
		}
		switch r.IntN(3) {
		case 0:
			p.WeightZero = []int32{0}
		case 1:
			p.WeightZero = []int32{int32(r.IntN(256) - 128)}
		default:
			p.WeightZero = make([]int32, p.OutC)
			for i := range p.WeightZero {
				p.WeightZero[i] = int32(r.IntN(256) - 128)
			}
		}
		if r.IntN(4) != 0 {
			p.Bias = make([]int32, p.OutC)
			for i := range p.Bias {
				p.Bias[i] = int32(r.IntN(1<<17) - 1<<16)
			}
		}
		p.Mult, p.Shift = make([]int32, p.OutC), make([]int32, p.OutC)
		accScale := math.Sqrt(float64(k)) * 128 * 128
		for i := range p.Mult {
			p.Mult[i], p.Shift[i] = randQuant(r, accScale)
		}
		if r.IntN(3) == 0 {
			p.Mult, p.Shift = p.Mult[:1], p.Shift[:1]
		}
		if r.IntN(3) == 0 { // XNNPACK's fp32 requantization; Mult and Shift ignored or absent
			p.Scale = randScales(r, p.OutC, accScale)
			if r.IntN(2) == 0 {
				p.Mult, p.Shift = nil, nil
			}
		}
		p.OutZero, p.ActMin, p.ActMax = randActRange(r)
		return p
	}
}

func (p *ConvParams) String() string {
	return fmt.Sprintf("%dx%dx%d->%dx%dx%d k%dx%d s%dx%d d%dx%d pad%d,%d wz%v fp32 %v", p.InH, p.InW, p.InC, p.OutH, p.OutW, p.OutC,
		p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.PadTop, p.PadLeft, len(p.WeightZero) > 1 || p.WeightZero[0] != 0, p.Scale != nil)
}

// runConv prepares p on path and runs it over a random split of the output rows, with guard bands
// around dst and scratch.
func runConv(t testing.TB, r *rand.Rand, pth path, p *ConvParams, src []int8) []int8 {
	t.Helper()
	var c *Conv
	var err error
	withPath(pth, func() { c, err = NewConv(*p) })
	if err != nil {
		t.Fatalf("%v: %v", p, err)
	}
	if c.path != pth {
		t.Fatalf("prepared for %v, want %v", c.path, pth)
	}
	dst := newGuarded(r, p.OutH*p.OutW*p.OutC)
	scratch := newGuarded(r, c.ScratchSize())
	if r.IntN(2) == 0 {
		a := r.IntN(p.OutH + 1)
		b := a + r.IntN(p.OutH-a+1)
		for _, rg := range [][2]int{{0, a}, {b, p.OutH + 3}, {a, b}} {
			c.Run(dst.data(), src, scratch.data(), rg[0], rg[1])
		}
	} else {
		// By pixels (RunPixels), at any pixel, also past the ends.
		np := c.Pixels()
		a := r.IntN(np + 1)
		b := a + r.IntN(np-a+1)
		for _, rg := range [][2]int{{-2, a}, {b, np + 5}, {a, b}} {
			c.RunPixels(dst.data(), src, scratch.data(), rg[0], rg[1])
		}
	}
	dst.check(t, "conv dst")
	scratch.check(t, "conv scratch")
	return dst.data()
}

func diffInt8(t testing.TB, what string, got, want []int8) {
	t.Helper()
	if !bytes.Equal(*(*[]byte)(unsafe.Pointer(&got)), *(*[]byte)(unsafe.Pointer(&want))) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: first difference at %d: got %d, want %d", what, i, got[i], want[i])
			}
		}
	}
}

func TestConvMatchesNaive(t *testing.T) {
	r := newRand(1)
	n := scale(t, 500)
	t.Logf("paths %v", testPaths())
	for i := 0; i < n; i++ {
		p := randConv(r, 150000)
		g := newGuarded(r, p.InH*p.InW*p.InC) // an unaligned source
		src := g.data()
		copy(src, randInt8s(r, len(src)))
		want := naiveConv(&p, src)
		for _, pth := range testPaths() {
			got := runConv(t, r, pth, &p, src)
			diffInt8(t, fmt.Sprintf("case %d %v path %v", i, &p, pth), got, want)
		}
	}
}

// TestConvMobileNetShapes covers the layer shapes the runtime cares about (scaled down spatially).
func TestConvMobileNetShapes(t *testing.T) {
	r := newRand(2)
	shapes := []struct{ h, inC, outC, k, s int }{
		{9, 3, 32, 3, 2}, {7, 32, 16, 1, 1}, {7, 16, 96, 1, 1}, {5, 24, 144, 1, 1}, {4, 144, 24, 1, 1},
		{3, 576, 160, 1, 1}, {1, 1280, 1001, 1, 1}, {6, 48, 48, 3, 1}, {5, 64, 128, 3, 2},
	}
	for _, sh := range shapes {
		for mode := 0; mode < 3; mode++ { // TF2 weights, TF1 (uint8) weights, TF2 with fp32 requantization
			tf1 := mode == 1
			p := ConvParams{InH: sh.h, InW: sh.h, InC: sh.inC, OutC: sh.outC, KH: sh.k, KW: sh.k,
				StrideH: sh.s, StrideW: sh.s, DilH: 1, DilW: 1}
			pad := (sh.k - 1) / 2
			p.PadTop, p.PadLeft = pad, pad
			p.OutH = (sh.h+2*pad-sh.k)/sh.s + 1
			p.OutW = p.OutH
			k := sh.k * sh.k * sh.inC
			p.Weights = randInt8s(r, sh.outC*k)
			p.WeightZero = []int32{0}
			p.InZero = -128
			if tf1 {
				p.WeightZero = []int32{int32(r.IntN(100) - 50)}
				p.InZero = int32(r.IntN(256) - 128)
			}
			for i, w := range p.Weights {
				if w == math.MinInt8 {
					p.Weights[i] = -127
				}
			}
			p.Bias = make([]int32, sh.outC)
			p.Mult, p.Shift = make([]int32, sh.outC), make([]int32, sh.outC)
			for i := range p.Mult {
				p.Bias[i] = int32(r.IntN(20000) - 10000)
				p.Mult[i], p.Shift[i] = randQuant(r, math.Sqrt(float64(k))*128*128)
			}
			if mode == 2 {
				p.Mult, p.Shift = nil, nil
				p.Scale = randScales(r, sh.outC, math.Sqrt(float64(k))*128*128)
			}
			p.OutZero, p.ActMin, p.ActMax = -128, -128, 127
			src := randInt8s(r, p.InH*p.InW*p.InC)
			want := naiveConv(&p, src)
			for _, pth := range testPaths() {
				diffInt8(t, fmt.Sprintf("%v path %v", &p, pth), runConv(t, r, pth, &p, src), want)
			}
		}
	}
}

func TestConvRejects(t *testing.T) {
	good := ConvParams{InH: 2, InW: 2, InC: 1, OutH: 2, OutW: 2, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, Weights: []int8{1}, WeightZero: []int32{0}, Mult: []int32{1 << 30}, Shift: []int32{0},
		ActMin: -128, ActMax: 127}
	if _, err := NewConv(good); err != nil {
		t.Fatalf("valid params rejected: %v", err)
	}
	bad := []func(p *ConvParams){
		func(p *ConvParams) { p.InC = 0 },
		func(p *ConvParams) { p.StrideH = 0 },
		func(p *ConvParams) { p.Weights = nil },
		func(p *ConvParams) { p.WeightZero = []int32{0, 0} },
		func(p *ConvParams) { p.WeightZero = []int32{200} },
		func(p *ConvParams) { p.Mult = []int32{-1} },
		func(p *ConvParams) { p.Shift = []int32{40} },
		func(p *ConvParams) { p.Shift = nil },
		func(p *ConvParams) { p.InZero = 128 },
		func(p *ConvParams) { p.ActMin, p.ActMax = 10, 0 },
		func(p *ConvParams) { p.Bias = []int32{1, 2} },
		func(p *ConvParams) { p.PadTop = -1 },
		func(p *ConvParams) { p.InH, p.InW = 1<<20, 1<<20 },
		func(p *ConvParams) { p.OutC = 1 << 20 },
		func(p *ConvParams) { p.Scale = []float32{0} },
		func(p *ConvParams) { p.Scale = []float32{-0.5} },
		func(p *ConvParams) { p.Scale = []float32{float32(math.NaN())} },
		func(p *ConvParams) { p.Scale = []float32{float32(math.Inf(1))} },
		func(p *ConvParams) { p.Scale = []float32{0.5, 0.5} },
		func(p *ConvParams) { p.Scale = []float32{}; p.Mult = nil },
	}
	for i, f := range bad {
		p := good
		f(&p)
		if _, err := NewConv(p); err == nil {
			t.Errorf("bad params %d accepted", i)
		}
	}
	fp := good
	fp.Mult, fp.Shift, fp.Scale = nil, nil, []float32{math.SmallestNonzeroFloat32}
	if _, err := NewConv(fp); err != nil {
		t.Errorf("fp32 params without Mult and Shift rejected: %v", err)
	}
}

func TestConvNoAlloc(t *testing.T) {
	r := newRand(3)
	for _, pth := range testPaths() {
		for _, inC := range []int{3, 32} {
			p := ConvParams{InH: 6, InW: 6, InC: inC, OutH: 6, OutW: 6, OutC: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
				DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, Weights: randInt8s(r, 20*9*inC), WeightZero: []int32{3},
				Mult: []int32{1 << 30}, Shift: []int32{-8}, ActMin: -128, ActMax: 127}
			var c *Conv
			withPath(pth, func() { c, _ = NewConv(p) })
			dst, src, scratch := make([]int8, 6*6*20), randInt8s(r, 6*6*inC), make([]int8, c.ScratchSize())
			if n := testing.AllocsPerRun(10, func() { c.Run(dst, src, scratch, 0, 6) }); n != 0 {
				t.Errorf("path %v InC %d: Run allocates %v times", pth, inC, n)
			}
		}
	}
}

func TestFullyConnected(t *testing.T) {
	r := newRand(4)
	shapes := []struct{ rows, in, out int }{{1, 1280, 1001}, {1, 7, 3}, {3, 64, 10}, {5, 33, 17}, {0, 16, 1}}
	for i := range 2 * len(shapes) {
		sh, fp32 := shapes[i%len(shapes)], i >= len(shapes)
		p := FullyConnectedParams{Rows: sh.rows, InC: sh.in, OutC: sh.out, InZero: int32(r.IntN(256) - 128),
			Weights: randInt8s(r, sh.in*sh.out), WeightZero: []int32{int32(r.IntN(256) - 128)},
			Mult: []int32{0}, Shift: []int32{0}}
		p.Mult[0], p.Shift[0] = randQuant(r, math.Sqrt(float64(sh.in))*128*128)
		if fp32 {
			p.Mult, p.Shift = nil, nil
			p.Scale = randScales(r, sh.out, math.Sqrt(float64(sh.in))*128*128*32) // WeightZero: larger accumulators
		}
		p.OutZero, p.ActMin, p.ActMax = randActRange(r)
		rows := max(sh.rows, 1)
		cp := ConvParams{InH: rows, InW: 1, InC: sh.in, OutH: rows, OutW: 1, OutC: sh.out, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, InZero: p.InZero, Weights: p.Weights, WeightZero: p.WeightZero, Mult: p.Mult, Shift: p.Shift,
			OutZero: p.OutZero, ActMin: p.ActMin, ActMax: p.ActMax, Scale: p.Scale}
		src := randInt8s(r, rows*sh.in)
		want := naiveConv(&cp, src)
		for _, pth := range testPaths() {
			var f *FullyConnected
			var err error
			withPath(pth, func() { f, err = NewFullyConnected(p) })
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]int8, rows*sh.out)
			f.Run(dst, src, make([]int8, f.ScratchSize()), 0, rows)
			diffInt8(t, fmt.Sprintf("fc %v fp32 %v path %v", sh, fp32, pth), dst, want)
		}
	}
}

// TestConcurrentRuns runs layers from several goroutines on disjoint row ranges, each with its own
// scratch, as the runtime's worker pool will (run with -race on the generic path).
func TestConcurrentRuns(t *testing.T) {
	r := newRand(5)
	cp := ConvParams{InH: 13, InW: 11, InC: 32, OutH: 13, OutW: 11, OutC: 24, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, InZero: 5, Weights: randInt8s(r, 24*9*32), WeightZero: []int32{7},
		Mult: []int32{1 << 30}, Shift: []int32{-9}, OutZero: 3, ActMin: -128, ActMax: 127}
	dp := DepthwiseParams{InH: 13, InW: 11, InC: 24, OutH: 7, OutW: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1,
		PadTop: 1, PadLeft: 1, Multiplier: 1, InZero: -3, Weights: randInt8s(r, 9*24), WeightZero: []int32{0},
		Mult: []int32{1 << 30}, Shift: []int32{-5}, OutZero: 1, ActMin: -100, ActMax: 100}
	src := randInt8s(r, 13*11*32)
	wantC, wantD := naiveConv(&cp, src), naiveDepthwise(&dp, src[:13*11*24])
	for _, pth := range testPaths() {
		var c *Conv
		var d *Depthwise
		withPath(pth, func() { c, _ = NewConv(cp); d, _ = NewDepthwise(dp) })
		gotC, gotD := make([]int8, len(wantC)), make([]int8, len(wantD))
		done := make(chan bool)
		for w := 0; w < 3; w++ {
			go func(w int) {
				c.Run(gotC, src, make([]int8, c.ScratchSize()), w*5, w*5+5)
				d.Run(gotD, src[:13*11*24], make([]int8, d.ScratchSize()), w*3, w*3+3)
				done <- true
			}(w)
		}
		for w := 0; w < 3; w++ {
			<-done
		}
		diffInt8(t, "concurrent conv path "+pth.String(), gotC, wantC)
		diffInt8(t, "concurrent depthwise path "+pth.String(), gotD, wantD)
	}
}

// smallTieScales returns scales of 0.5 and 0.25 (one for all channels, or per channel), under which
// odd accumulators land exactly on halves.
func smallTieScales(r *rand.Rand, n int) []float32 {
	if r.IntN(2) == 0 {
		return []float32{[]float32{0.5, 0.25}[r.IntN(2)]}
	}
	s := make([]float32, n)
	for i := range s {
		s[i] = []float32{0.5, 0.25}[r.IntN(2)]
	}
	return s
}

// countTies counts the accumulators whose product with the channel's scale is an exact half within
// the int8 range (ties), and those where rounding half to even gives another result than half away
// from zero (a kernel rounding the wrong way would fail there).
func countTies(acc []int32, nout int, scale []float32) (ties, differ int) {
	for i, a := range acc {
		v := float64(float32(a) * atF(scale, i%nout))
		if v-math.Floor(v) == 0.5 && math.Abs(v) < 100 {
			ties++
			if math.RoundToEven(v) != math.Round(v) {
				differ++
			}
		}
	}
	return ties, differ
}

// TestConvFP32Ties runs convolutions with small inputs, weights and odd biases under the scales 0.5
// and 0.25, so that many outputs are exact ties, on every path and both GEMM kernels (4 rows and
// the leftover single rows).
func TestConvFP32Ties(t *testing.T) {
	r := newRand(6)
	var ties, differ int
	for i := 0; i < scale(t, 40); i++ {
		inC, k := []int{3, 16, 32, 5}[i%4], 1+2*(i/4%2) // im2col and tap modes; 1x1 and 3x3
		h := 2 + r.IntN(7)
		p := ConvParams{InH: h, InW: h + 1, InC: inC, OutH: h, OutW: h + 1, OutC: 1 + r.IntN(40), KH: k, KW: k,
			StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadTop: k / 2, PadLeft: k / 2, InZero: int32(r.IntN(5) - 2),
			WeightZero: []int32{int32(r.IntN(3) - 1)}, OutZero: int32(r.IntN(21) - 10), ActMin: -128, ActMax: 127}
		p.Weights = make([]int8, p.OutC*k*k*inC)
		for j := range p.Weights {
			p.Weights[j] = int8(r.IntN(7) - 3)
		}
		p.Bias = make([]int32, p.OutC)
		for j := range p.Bias {
			p.Bias[j] = int32(2*r.IntN(41) - 41) // odd
		}
		p.Scale = smallTieScales(r, p.OutC)
		src := make([]int8, h*(h+1)*inC)
		for j := range src {
			src[j] = int8(r.IntN(9) - 4)
		}
		acc := naiveConvAcc(&p, src)
		tc, dc := countTies(acc, p.OutC, p.Scale)
		ties, differ = ties+tc, differ+dc
		want := naiveConv(&p, src)
		for _, pth := range testPaths() {
			diffInt8(t, fmt.Sprintf("case %d %v scales %v path %v", i, &p, p.Scale, pth), runConv(t, r, pth, &p, src), want)
		}
	}
	t.Logf("%d exact ties, %d where half to even differs from half away from zero", ties, differ)
	if differ < 100 {
		t.Fatalf("only %d ties that tell the rounding modes apart: the test does not test", differ)
	}
}

// TestConvRowsMode checks the kernel-row gather (modeRows): chosen for InC not a multiple of 16,
// each kernel row read straight from the input with the bytes past it meeting zero weights (wz with
// a weight zero point, -128 included: the SMLAL path's safe loop); border pixels and reads that would pass the end of the (exactly sized,
// unaligned) input are built in scratch. Shapes whose kernel rows are at most 16 bytes and fit in
// fewer chunks than kernel rows take modeGather instead (TBL), with or without weight zero point.
func TestConvRowsMode(t *testing.T) {
	r := newRand(7)
	shapes := []struct{ h, w, inC, outC, kh, kw, s, dh, pad int }{
		{9, 9, 3, 32, 3, 3, 2, 1, 1}, {8, 11, 3, 5, 3, 3, 1, 1, 1}, {5, 5, 24, 20, 1, 1, 1, 1, 0},
		{6, 7, 5, 17, 2, 3, 1, 2, 0}, {4, 13, 40, 8, 3, 3, 2, 1, 1}, {3, 3, 2, 3, 3, 3, 1, 1, 0},
		{7, 6, 7, 33, 5, 2, 3, 1, 2},
	}
	for _, sh := range shapes {
		for _, wz := range []int32{0, 9, -128} {
			p := ConvParams{InH: sh.h, InW: sh.w, InC: sh.inC, OutC: sh.outC, KH: sh.kh, KW: sh.kw,
				StrideH: sh.s, StrideW: sh.s, DilH: sh.dh, DilW: 1, PadTop: sh.pad, PadLeft: sh.pad,
				InZero: int32(r.IntN(256) - 128), WeightZero: []int32{wz}, OutZero: 3, ActMin: -128, ActMax: 127}
			p.OutH = (sh.h+2*sh.pad-(sh.kh-1)*sh.dh-1)/sh.s + 1
			p.OutW = (sh.w+2*sh.pad-sh.kw)/sh.s + 1
			k := sh.kh * sh.kw * sh.inC
			p.Weights = randInt8s(r, sh.outC*k)
			p.Bias = make([]int32, sh.outC)
			for i := range p.Bias {
				p.Bias[i] = int32(r.IntN(20000) - 10000)
			}
			p.Scale = randScales(r, sh.outC, math.Sqrt(float64(k))*128*128)
			c, err := NewConv(p)
			if err != nil {
				t.Fatal(err)
			}
			k16 := (k + 15) / 16
			if sh.kw*sh.inC <= 16 && sh.kh <= 4 && k16 < sh.kh {
				if c.mode != modeGather {
					t.Errorf("%v: mode %d, want modeGather", &p, c.mode)
				}
			} else if c.mode != modeRows {
				t.Errorf("%v: mode %d, want modeRows", &p, c.mode)
			}
			g := newGuarded(r, p.InH*p.InW*p.InC)
			src := g.data()
			copy(src, randInt8s(r, len(src)))
			want := naiveConv(&p, src)
			for _, pth := range testPaths() {
				diffInt8(t, fmt.Sprintf("%v path %v", &p, pth), runConv(t, r, pth, &p, src), want)
			}
		}
	}
}

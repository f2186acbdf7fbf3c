package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withWinograd runs f with winogradUse set to mode.
func withWinograd(mode int, f func()) {
	defer func(m int) { winogradUse = m }(winogradUse)
	winogradUse = mode
	f()
}

// randWinoConv returns a random 3x3 stride-1 convolution without weight zero point (wgEligible):
// odd and even sizes, paddings 0-2 on each side, random quantization.
func randWinoConv(r *rand.Rand, maxMACs int) ConvParams {
	for {
		var p ConvParams
		p.InC, p.OutC = 1+r.IntN(67), 1+r.IntN(67)
		if r.IntN(2) == 0 {
			p.InC = 8 * (1 + r.IntN(8))
		}
		if r.IntN(2) == 0 { // the assembly output transform
			p.OutC = 4 * (1 + r.IntN(16))
		}
		p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW = 3, 3, 1, 1, 1, 1
		p.InH, p.InW = 1+r.IntN(20), 1+r.IntN(20)
		p.PadTop, p.PadLeft = r.IntN(3), r.IntN(3)
		p.OutH, p.OutW = p.InH+p.PadTop+r.IntN(3)-2, p.InW+p.PadLeft+r.IntN(3)-2
		if p.OutH <= 0 || p.OutW <= 0 || p.OutH*p.OutW*p.OutC*9*p.InC > maxMACs {
			continue
		}
		fillConvQuant(r, &p)
		return p
	}
}

// fillConvQuant sets random weights (with -128 and 127 runs), bias, zero points and requantization.
func fillConvQuant(r *rand.Rand, p *ConvParams) {
	k := 9 * p.InC
	p.Weights = randInt8s(r, p.OutC*k)
	if r.IntN(3) == 0 {
		for i := range p.Weights {
			if r.IntN(4) == 0 {
				p.Weights[i] = -128
			} else if r.IntN(4) == 0 {
				p.Weights[i] = 127
			}
		}
	}
	p.WeightZero = []int32{0}
	p.InZero = int32(int8(r.Uint32()))
	if r.IntN(2) == 0 {
		p.Bias = make([]int32, p.OutC)
		for i := range p.Bias {
			p.Bias[i] = int32(r.Uint32()) >> r.IntN(20)
		}
	}
	p.OutZero, p.ActMin, p.ActMax = randActRange(r)
	acc := float64(k) * 64 * 64
	if r.IntN(2) == 0 {
		p.Scale = randScales(r, p.OutC, acc)
		return
	}
	p.Mult, p.Shift = make([]int32, p.OutC), make([]int32, p.OutC)
	for i := range p.Mult {
		p.Mult[i], p.Shift[i] = randQuant(r, acc)
	}
}

// TestWinogradMatchesDirect compares the Winograd layers, on every path, with the direct kernels
// and the formula, byte for byte, over random shapes (edge tiles of odd sizes, padding, bands,
// split row ranges, guard bands).
func TestWinogradMatchesDirect(t *testing.T) {
	r := newRand(16)
	n := scale(t, 300)
	for i := 0; i < n; i++ {
		p := randWinoConv(r, 400000)
		g := newGuarded(r, p.InH*p.InW*p.InC)
		src := g.data()
		copy(src, randInt8s(r, len(src)))
		if i%5 == 0 { // extremes only
			for j := range src {
				src[j] = []int8{-128, 127}[r.IntN(2)]
			}
		}
		want := naiveConv(&p, src)
		for _, pth := range testPaths() {
			var c *Conv
			withWinograd(wgForce, func() {
				withPath(pth, func() { c, _ = NewConv(p) })
			})
			if !c.Winograd() {
				t.Fatalf("%v: not prepared for Winograd", &p)
			}
			var got, direct []int8
			withWinograd(wgForce, func() { got = runConv(t, r, pth, &p, src) })
			withWinograd(wgOff, func() { direct = runConv(t, r, pth, &p, src) })
			diffInt8(t, fmt.Sprintf("case %d %v path %v direct", i, &p, pth), direct, want)
			diffInt8(t, fmt.Sprintf("case %d %v path %v winograd", i, &p, pth), got, want)
		}
	}
}

// wgAccs returns the int32 accumulators of every output computed the Winograd way (the band's M
// from wgBandM, then bias' + (Aᵀ M A) >> 2), channel innermost.
func wgAccs(c *Conv, src []int8) []int32 {
	wg := c.wg
	scratch := make([]int8, c.ScratchSize())
	v, m := c.wgBuffers(scratch)
	acc := make([]int32, c.outH*c.outW*c.outC)
	for ty0 := 0; ty0 < wg.th; ty0 += wg.band {
		nt := c.wgBandM(v, m, src, ty0, min(ty0+wg.band, wg.th))
		for t := 0; t < nt; t++ {
			oy, ox := 2*(ty0+t/wg.tw), 2*(t%wg.tw)
			for o := 0; o < c.outC; o++ {
				var mm [4][4]int32
				for xi := 0; xi < 16; xi++ {
					mm[xi/4][xi%4] = m[t*16*wg.ocp+o/4*64+xi*4+o%4]
				}
				y := wgOutputTransform(&mm)
				for rr := 0; rr < 2 && oy+rr < c.outH; rr++ {
					for q := 0; q < 2 && ox+q < c.outW; q++ {
						acc[((oy+rr)*c.outW+ox+q)*c.outC+o] = wg.params[o/4*16+o%4] + y[rr][q]>>2
					}
				}
			}
		}
	}
	return acc
}

// TestWinogradAccumulators checks the int32 accumulators themselves against the formula: random
// layers, saturated extremes (every input and weight -128 or 127, InZero ±128/127), and the largest
// InC admitted (wgMaxInC), where |4·Σ a·w| comes within 0.03% of 2^31.
func TestWinogradAccumulators(t *testing.T) {
	r := newRand(17)
	type tc struct {
		p   ConvParams
		src []int8
	}
	var cases []tc
	for i := 0; i < scale(t, 60); i++ {
		p := randWinoConv(r, 200000)
		src := randInt8s(r, p.InH*p.InW*p.InC)
		cases = append(cases, tc{p, src})
	}
	for _, inC := range []int{1, 8, 13, 200, wgMaxInC} {
		for _, fill := range [][2]int8{{-128, -128}, {127, -128}, {-128, 127}, {127, 127}} {
			p := ConvParams{InH: 3, InW: 4, InC: inC, OutH: 3, OutW: 4, OutC: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
				DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, WeightZero: []int32{0}, Scale: []float32{1e-9}, ActMin: -128, ActMax: 127}
			p.Weights = make([]int8, p.OutC*9*inC)
			for i := range p.Weights {
				p.Weights[i] = fill[1]
			}
			p.InZero = int32([]int8{-128, 127, 0}[r.IntN(3)])
			src := make([]int8, p.InH*p.InW*inC)
			for i := range src {
				src[i] = fill[0]
			}
			cases = append(cases, tc{p, src})
		}
	}
	for i, k := range cases {
		p := k.p
		var c *Conv
		withWinograd(wgForce, func() { withPath(pathGeneric, func() { c, _ = NewConv(p) }) })
		want := naiveConvAcc(&p, k.src)
		got := wgAccs(c, k.src)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("case %d %v: accumulator %d: got %d, want %d", i, &p, j, got[j], want[j])
			}
		}
	}
	// The bound: InC beyond wgMaxInC is not eligible.
	p := ConvParams{KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, InC: wgMaxInC + 1, WeightZero: []int32{0}}
	if wgEligible(&p) {
		t.Errorf("InC %d eligible for Winograd", p.InC)
	}
	if 4*9*128*128*int64(wgMaxInC) >= 1<<31 || 4*9*128*128*int64(wgMaxInC+1) < 1<<31 {
		t.Errorf("wgMaxInC %d is not the largest InC with |4·Σ a·w| < 2^31", wgMaxInC)
	}
}

// TestWgGEMMKernel compares wgGEMM and wgGEMM1 with their twins over random sizes, with guard bands around M.
func TestWgGEMMKernel(t *testing.T) {
	needAsm(t)
	needNEON(t) // on amd64 the name calls its twin
	r := newRand(18)
	for i := 0; i < scale(t, 200); i++ {
		ngroups, icg, nob := 1+r.IntN(5), 1+r.IntN(9), 1+r.IntN(4)
		mstride := nob*64 + 4*r.IntN(8)
		v := make([]int16, ngroups*icg*32)
		u := make([]int16, nob*icg*8*16)
		for j := range v {
			v[j] = int16(r.IntN(1025) - 512)
		}
		for j := range u {
			u[j] = int16(r.IntN(2305) - 1152)
		}
		if i%4 == 0 {
			for j := range v {
				v[j] = []int16{-512, 512}[r.IntN(2)]
			}
			for j := range u {
				u[j] = []int16{-1152, 1152}[r.IntN(2)]
			}
		}
		n := (ngroups*4-1)*mstride + (nob*4-1)*64 + 4
		want, got := make([]int32, n+32), make([]int32, n+32)
		for j := range want {
			want[j] = int32(r.Uint32())
			got[j] = want[j]
		}
		wgGEMMGeneric(&v[0], &u[0], &want[16], ngroups, icg, nob, mstride)
		wgGEMM(&v[0], &u[0], &got[16], ngroups, icg, nob, mstride)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("ngroups %d icg %d nob %d mstride %d: M[%d] = %d, want %d", ngroups, icg, nob, mstride, j-16, got[j], want[j])
			}
		}
		// One tile of the last group (wgGEMM1).
		slot := r.IntN(4)
		v1 := v[(ngroups-1)*icg*32+slot*8:]
		wgGEMM1Generic(&v1[0], &u[0], &want[16], icg, nob)
		wgGEMM1(&v1[0], &u[0], &got[16], icg, nob)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("wgGEMM1 icg %d nob %d: M[%d] = %d, want %d", icg, nob, j-16, got[j], want[j])
			}
		}
	}
}

// TestWinogradNoAlloc pins that a Winograd Run does not allocate.
func TestWinogradNoAlloc(t *testing.T) {
	r := newRand(19)
	for _, pth := range testPaths() {
		p := ConvParams{InH: 14, InW: 14, InC: 24, OutH: 14, OutW: 14, OutC: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1}
		fillConvQuant(r, &p)
		var c *Conv
		withWinograd(wgForce, func() { withPath(pth, func() { c, _ = NewConv(p) }) })
		dst, src, scratch := make([]int8, 14*14*20), randInt8s(r, 14*14*24), make([]int8, c.ScratchSize())
		if n := testing.AllocsPerRun(10, func() { c.Run(dst, src, scratch, 0, 14) }); n != 0 {
			t.Errorf("path %v: Winograd Run allocates %v times", pth, n)
		}
	}
}

// TestWinogradPacksOnlyWinograd checks that a layer prepared for Winograd holds none of the direct
// kernel's packing (chosen before it, not thrown away after), and that its epilogue flags are those
// of the same layer prepared for the direct kernel (less the packing's flagSafe and flagVNNI).
func TestWinogradPacksOnlyWinograd(t *testing.T) {
	r := newRand(23)
	for i := 0; i < 20; i++ {
		p := randWinoConv(r, 1<<18)
		for _, pth := range testPaths() {
			var wg, direct *Conv
			var err1, err2 error
			withPath(pth, func() {
				withWinograd(wgForce, func() { wg, err1 = NewConv(p) })
				withWinograd(wgOff, func() { direct, err2 = NewConv(p) })
			})
			if err1 != nil || err2 != nil {
				t.Fatalf("%v: %v, %v", &p, err1, err2)
			}
			if !wg.Winograd() || direct.Winograd() {
				t.Fatalf("%v path %v: Winograd %v (forced), %v (off)", &p, pth, wg.Winograd(), direct.Winograd())
			}
			if wg.w != nil || wg.params != nil || wg.tapOff != nil || wg.gidx != nil {
				t.Errorf("%v path %v: the Winograd layer holds direct packing: %d weights, %d params, %d taps, %d indices",
					&p, pth, len(wg.w), len(wg.params), len(wg.tapOff), len(wg.gidx))
			}
			if want := direct.flags &^ (flagSafe | flagVNNI); wg.flags != want {
				t.Errorf("%v path %v: Winograd flags %#x, direct %#x", &p, pth, wg.flags, want)
			}
		}
	}
}

// TestSplitAlign checks SplitAlign (2·OutW under Winograd, 4 otherwise) and that a layer split into
// parts at its multiples by RunPixels writes the bytes of one Run, each part its own pixels only.
func TestSplitAlign(t *testing.T) {
	r := newRand(24)
	for i := 0; i < scale(t, 30); i++ {
		p := randWinoConv(r, 1<<18)
		for _, mode := range []int{wgForce, wgOff} {
			var c *Conv
			withWinograd(mode, func() { c, _ = NewConv(p) })
			want := 4
			if mode == wgForce {
				want = 2 * p.OutW
			}
			if c.SplitAlign() != want {
				t.Fatalf("%v Winograd %v: SplitAlign %d, want %d", &p, c.Winograd(), c.SplitAlign(), want)
			}
			src := randInt8s(r, p.InH*p.InW*p.InC)
			scratch := make([]int8, c.ScratchSize())
			whole := make([]int8, p.OutH*p.OutW*p.OutC)
			c.Run(whole, src, scratch, 0, p.OutH)
			pixels, a := c.Pixels(), c.SplitAlign()
			n := 1 + r.IntN(5)
			for part := 0; part < n; part++ {
				// Each part into its own buffer: bytes outside its pixels must stay untouched.
				lo, hi := min((pixels*part+n*a/2)/(n*a)*a, pixels), min((pixels*(part+1)+n*a/2)/(n*a)*a, pixels)
				if part == n-1 {
					hi = pixels
				}
				got := make([]int8, len(whole))
				for j := range got {
					got[j] = 0x5a
				}
				c.RunPixels(got, src, scratch, lo, hi)
				for j := range got {
					in := j/p.OutC >= lo && j/p.OutC < hi
					if in && got[j] != whole[j] || !in && got[j] != 0x5a {
						t.Fatalf("%v Winograd %v, part %d of %d (pixels [%d, %d)): byte %d (pixel %d) = %d, want %d",
							&p, c.Winograd(), part, n, lo, hi, j, j/p.OutC, got[j], map[bool]int8{true: whole[j], false: 0x5a}[in])
					}
				}
			}
		}
	}
}

// TestWinogradSelection checks the prepare-time choice: Winograd on the SMLAL path for RepVGG's
// 3x3 stride-1 layers, never on the other paths by default, never for ineligible layers.
func TestWinogradSelection(t *testing.T) {
	r := newRand(20)
	mk := func(hw, inC, outC, stride int, wz int32) ConvParams {
		p := ConvParams{InH: hw, InW: hw, InC: inC, OutH: (hw-1)/stride + 1, OutW: (hw-1)/stride + 1, OutC: outC,
			KH: 3, KW: 3, StrideH: stride, StrideW: stride, DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1}
		fillConvQuant(r, &p)
		p.WeightZero = []int32{wz}
		p.Scale = randScales(r, p.OutC, 9*float64(inC)*64*64) // fp32: what the assembly output transform does
		return p
	}
	q31 := mk(14, 192, 192, 1, 0)
	q31.Scale, q31.Mult, q31.Shift = nil, []int32{1 << 30}, []int32{-10}
	for _, k := range []struct {
		p    ConvParams
		want bool
	}{
		{mk(56, 48, 48, 1, 0), true}, {mk(28, 96, 96, 1, 0), true}, {mk(14, 192, 192, 1, 0), true},
		{mk(14, 192, 192, 2, 0), false}, {mk(14, 192, 192, 1, 3), false}, {q31, false}, {mk(14, 20, 192, 1, 0), false},
	} {
		for _, pth := range testPaths() {
			var c *Conv
			withWinograd(wgAuto, func() { withPath(pth, func() { c, _ = NewConv(k.p) }) })
			want := k.want && pth == pathNEON
			if c.Winograd() != want {
				t.Errorf("%v path %v: Winograd %v, want %v", &k.p, pth, c.Winograd(), want)
			}
		}
	}
	// The model against the counts measured under qemu (README.md, "Winograd"), HW:InC:OutC.
	for _, k := range []struct {
		hw, inC, outC int
		want          bool
	}{{1, 64, 64, false}, {1, 256, 256, false}, {2, 64, 64, true}, {3, 32, 32, true}, {5, 128, 128, true}, {14, 192, 192, true}, {56, 48, 48, true}} {
		p := ConvParams{InH: k.hw, InW: k.hw, InC: k.inC, OutH: k.hw, OutW: k.hw, OutC: k.outC, KH: 3, KW: 3}
		if wgWins(&p) != k.want {
			win, direct := wgCost(&p)
			t.Errorf("cost model %dx%dx%d->%d: Winograd %.0f, direct %.0f: Winograd wins %v, measured %v", k.hw, k.hw, k.inC, k.outC, win, direct, !k.want, k.want)
		}
	}
}

// TestWgTransformKernels compares wgInput and wgOutput with their twins over random sizes and
// extreme values, with guard bands.
func TestWgTransformKernels(t *testing.T) {
	needAsm(t)
	needNEON(t) // on amd64 the name calls its twin
	r := newRand(21)
	for i := 0; i < scale(t, 200); i++ {
		icg, n4 := 1+r.IntN(9), 1+r.IntN(9)
		// Input: 16 pixels of icg*8 channels, some the same (the row of InZero).
		pix := make([][]int8, 16)
		for j := range pix {
			pix[j] = randInt8s(r, icg*8)
			if i%3 == 0 {
				for k := range pix[j] {
					pix[j][k] = []int8{-128, 127}[r.IntN(2)]
				}
			}
		}
		var ptrs [16]*int8
		for j := range ptrs {
			ptrs[j] = &pix[r.IntN(16)][0]
		}
		xs := 2 * (icg*32 + 8*r.IntN(4))
		n := 15*xs/2 + icg*32 + 32
		want, got := make([]int16, n), make([]int16, n)
		for j := range want {
			want[j] = int16(r.Uint32())
			got[j] = want[j]
		}
		wgInputGeneric(&ptrs, &want[8], xs, icg)
		wgInput(&ptrs, &got[8], xs, icg)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("wgInput icg %d xs %d: v[%d] = %d, want %d", icg, xs, j-8, got[j], want[j])
			}
		}
		// Output: random M (large magnitudes included), parameters and header.
		m := make([]int32, n4*64)
		for j := range m {
			m[j] = int32(r.Uint32()) >> r.IntN(31)
		}
		p := make([]int32, n4*16)
		for j := range p {
			p[j] = int32(r.Uint32()) >> r.IntN(31)
			if j%16 >= 4 && j%16 < 8 {
				_, sc := randEpilogueFP32(r, i%2 == 0)
				p[j] = int32(math.Float32bits(sc))
			}
		}
		oz, lo, hi := randActRange(r)
		hdr := makeHdr(oz, lo, hi)
		var dw, dg [4]*int8
		bufW, bufG := make([]int8, 4*n4*4+32), make([]int8, 4*n4*4+32)
		fill := int8(r.Uint32())
		for j := range bufW {
			bufW[j], bufG[j] = fill, fill
		}
		for j := range dw {
			dw[j], dg[j] = &bufW[8+j*n4*4], &bufG[8+j*n4*4]
		}
		wgOutputGeneric(&m[0], &p[0], &hdr[0], &dw, n4)
		wgOutput(&m[0], &p[0], &hdr[0], &dg, n4)
		for j := range bufW {
			if bufG[j] != bufW[j] {
				t.Fatalf("wgOutput n4 %d: byte %d = %d, want %d", n4, j-8, bufG[j], bufW[j])
			}
		}
	}
}

// TestWinogradRepVGGShapes runs RepVGG-A0's stride-1 layer shapes (14x14x192, 28x28x96, 56x56x48,
// fp32, the ReLU clamp) through Winograd and the direct kernels of every path: the same bytes.
func TestWinogradRepVGGShapes(t *testing.T) {
	r := newRand(22)
	for _, s := range [][2]int{{14, 192}, {28, 96}, {56, 48}} {
		hw, ch := s[0], s[1]
		p := ConvParams{InH: hw, InW: hw, InC: ch, OutH: hw, OutW: hw, OutC: ch, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1}
		fillConvQuant(r, &p)
		p.Mult, p.Shift = nil, nil
		p.Scale = randScales(r, ch, 9*float64(ch)*64*64)
		p.ActMin = min(p.OutZero, p.ActMax)
		src := randInt8s(r, hw*hw*ch)
		for _, pth := range testPaths() {
			if pth == pathGeneric && haveAsm {
				continue // the twins' run of these shapes is the native (amd64) one: slow under qemu
			}
			var got, want []int8
			withWinograd(wgForce, func() { got = runConv(t, r, pth, &p, src) })
			withWinograd(wgOff, func() { want = runConv(t, r, pth, &p, src) })
			diffInt8(t, fmt.Sprintf("%v path %v", &p, pth), got, want)
		}
	}
}

package kernels

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
)

// These tests call each assembly kernel and its pure-Go twin on the same random packed operands and
// compare every output byte. They need the assembly: on arm64 run them under qemu-aarch64 with
// QEMU_CPU=cortex-a53, cortex-a72 and cortex-a76 (README.md); on amd64 they run natively (AVX2), the
// kernels that have no amd64 form skipping (needNEON).

func needAsm(t testing.TB) {
	if !haveAsm || !hwNEON && !hwSDOT {
		t.Skip("assembly kernels not built for this GOARCH (or purego): twins are covered by the op tests")
	}
}

// randEpilogue fills one channel's requantization parameters: a bias (the accumulator start),
// multiplier, negated right shift and left shift. With tie set, the bias is chosen so that the
// rounding shift sees an exact tie (x = 2*(k*2^e +- 2^(e-1)) with mult 2^30), where an error in the
// ties-away-from-zero fixup shows (or a neighbour of the tie, also of magnitude >= 2^30); otherwise random, sometimes extreme.
func randEpilogue(r *rand.Rand, tie bool) (bias, mult, rsh, lsh int32) {
	e := int32(r.IntN(32))
	if tie && e > 0 && r.IntN(2) == 0 {
		// A tie of magnitude >= 2^30 after SQRDMULH by MaxInt32 (where the sign fixup must use bit 31
		// alone): find the bias b with SRDHM(b, MaxInt32) == y.
		k := int64(r.IntN(1<<(31-e)+1)) | int64(1<<30)>>e
		y := k<<e + 1<<(e-1)
		if y >= math.MaxInt32 {
			y -= 1 << e
		}
		if r.IntN(2) == 0 {
			y = -y
		}
		y += int64(r.IntN(3) - 1) // the tie or a neighbour
		for _, b := range []int64{y, y + 1, y - 1, y + 2, y - 2} {
			if b >= math.MinInt32 && b <= math.MaxInt32 && int64(fixedpoint.SaturatingRoundingDoublingHighMul(int32(b), math.MaxInt32)) == y {
				return int32(b), math.MaxInt32, -e, 0
			}
		}
	}
	if tie && e > 0 {
		k := int64(r.IntN(1<<(31-e))) >> 1
		y := k<<e + 1<<(e-1)
		if r.IntN(2) == 0 {
			y = -y
		}
		if y >= 1<<30 || y < -(1<<30) {
			y = 1 << (e - 1)
		}
		y += int64(r.IntN(3) - 1)
		return int32(2 * y), 1 << 30, -e, 0
	}
	switch r.IntN(6) {
	case 0:
		bias = []int32{math.MinInt32, math.MaxInt32, -1, 0, 1}[r.IntN(5)]
	default:
		bias = int32(r.Uint32()) >> r.IntN(32)
	}
	switch r.IntN(6) {
	case 0:
		mult = []int32{0, 1, math.MaxInt32, 1 << 30}[r.IntN(4)]
	default:
		mult = int32(r.Uint32() >> 1)
	}
	if r.IntN(4) == 0 {
		return bias, mult, 0, int32(r.IntN(32))
	}
	return bias, mult, -e, 0
}

// randEpilogueFP32 returns an accumulator start (the bias) and a float32 scale for the fp32
// epilogue. With tie set, bias*scale is a half-integer within or just beyond the int8 range, or a
// neighbour of one: bias = ±(2k+1)*2^(e-1) and scale 2^-e (often 0.5 or 0.25), moved by up to one
// float32 step when bias has more than 24 bits, so that SCVTF's rounding (to nearest even, ties
// included) comes before FCVTNS's. Otherwise both are random, sometimes extreme.
func randEpilogueFP32(r *rand.Rand, tie bool) (int32, float32) {
	if tie {
		e := 1 + r.IntN(30)
		if r.IntN(3) == 0 {
			e = 1 + r.IntN(2)
		}
		kmax := min(160, 1<<(30-e)-1)
		y := int64(2*r.IntN(kmax+1)+1) << (e - 1)
		step := int64(1) << max(0, bits.Len64(uint64(y))-24)
		y += r.Int64N(2*step+1) - step
		if r.IntN(2) == 0 {
			y = -y
		}
		return int32(y), float32(math.Ldexp(1, -e))
	}
	bias, _, _, _ := randEpilogue(r, false)
	return bias, randScale(r, math.Ldexp(1, r.IntN(31)))
}

func randHdr(r *rand.Rand) [4]int32 {
	oz, lo, hi := randActRange(r)
	return [4]int32{oz, lo, hi, 0}
}

type gemmKernel struct {
	name   string
	mr, nr int
	sdot   bool
	asm    func(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int)
}

func gemmKernels() []gemmKernel {
	var ks []gemmKernel
	if hwNEON {
		ks = append(ks, gemmKernel{"gemmMLAL4", 4, mlalNR, false, gemmMLAL4}, gemmKernel{"gemmMLAL1", 1, mlalNR, false, gemmMLAL1})
	}
	if hwSDOT {
		ks = append(ks, gemmKernel{"gemmSDOT4", 4, sdotNR, true, gemmSDOT4}, gemmKernel{"gemmSDOT1", 1, sdotNR, true, gemmSDOT1})
	}
	return ks
}

func (k gemmKernel) twin(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	if k.sdot {
		gemmSDOTGeneric(k.mr, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
	} else {
		gemmMLALGeneric(k.mr, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
	}
}

// checkGemm runs kernel k and its twin on random operands of kc chunks and ntiles tiles.
func checkGemm(t testing.TB, r *rand.Rand, k gemmKernel, kc, ntiles, flags int) {
	t.Helper()
	tie := r.IntN(3) == 0
	a := randInt8s(r, kc*16*k.mr*k.mr) // gemmMLAL4: the panel holds four rotations (random here)
	w := randInt8s(r, ntiles*kc*16*k.nr)
	switch r.IntN(4) {
	case 0: // the int16 pair overflow of the SMLAL fast loop: (-128)*(-128) twice
		for i := range a {
			a[i] = math.MinInt8
		}
		for i := range w {
			if r.IntN(2) == 0 {
				w[i] = math.MinInt8
			}
		}
	case 1:
		if tie {
			clear(a)
		}
	}
	if k.sdot && hwVNNI && r.IntN(2) == 0 { // amd64: the AVX-512 VNNI loop
		flags |= flagVNNI
	}
	fp32 := flags&flagFP32 != 0
	if tie && fp32 {
		clear(a)
	}
	if tie {
		flags &^= flagWZ
	}
	per := sdotParams
	if !k.sdot {
		per = mlalParams
	}
	p := make([]int32, ntiles*per)
	for j := 0; j < ntiles; j++ {
		pt := p[j*per:]
		for n := 0; n < k.nr; n++ {
			b, m, rsh, lsh := randEpilogue(r, tie)
			if flags&flagFastRQ != 0 && rsh == 0 {
				rsh = -1 - int32(r.IntN(31))
			}
			if fp32 { // the scale in the multiplier's place; the shifts are ignored
				var sc float32
				b, sc = randEpilogueFP32(r, tie)
				m = int32(math.Float32bits(sc))
			}
			wz := int32(r.Uint32()) >> r.IntN(32)
			q := pt
			if !k.sdot {
				q = pt[4:]
			}
			q[n], q[16+n], q[32+n], q[48+n], q[64+n] = b, m, rsh, lsh, wz
		}
		if !k.sdot {
			pt[0] = int32(r.IntN(2)) // safe or fast loop, whatever the weights
		}
	}
	if !k.sdot && r.IntN(4) != 0 { // the tile flags are read only with flagSafe
		flags |= flagSafe
	}
	hdr := randHdr(r)
	if hdr[1] == math.MinInt8 && r.IntN(4) != 0 {
		flags |= flagNoMin
	}
	if hdr[2] == math.MaxInt8 && r.IntN(4) != 0 {
		flags |= flagNoMax
	}
	var rs [4]int32
	for i := range rs {
		rs[i] = int32(r.Uint32()) >> r.IntN(32)
	}
	var got, want [4]*guarded
	var gp, wp [4]*int8
	for m := 0; m < 4; m++ {
		got[m] = newGuarded(r, ntiles*k.nr)
		want[m] = &guarded{all: slices.Clone(got[m].all), lo: got[m].lo, n: got[m].n, fill: got[m].fill}
		gp[m], wp[m] = &got[m].data()[0], &want[m].data()[0]
	}
	k.asm(&a[0], kc, &w[0], &p[0], &hdr[0], &rs[0], gp[0], gp[1], gp[2], gp[3], ntiles, flags)
	k.twin(&a[0], kc, &w[0], &p[0], &hdr[0], &rs[0], wp[0], wp[1], wp[2], wp[3], ntiles, flags)
	for m := 0; m < 4; m++ {
		got[m].check(t, k.name)
		if !slices.Equal(got[m].all, want[m].all) {
			diffInt8(t, fmt.Sprintf("%s kc %d ntiles %d flags %d row %d", k.name, kc, ntiles, flags, m), got[m].all, want[m].all)
		}
	}
}

func TestGemmKernels(t *testing.T) {
	needAsm(t)
	r := newRand(10)
	iters := scale(t, 80)
	for _, k := range gemmKernels() {
		for kc := 1; kc <= 13; kc++ { // every remainder of the 4-step SMLAL loop
			for i := 0; i < iters; i++ {
				checkGemm(t, r, k, kc, 1+r.IntN(3), r.IntN(16)) // flags: half of them flagFP32
			}
		}
	}
}

func TestPackA4(t *testing.T) {
	needAsm(t)
	r := newRand(11)
	for i := 0; i < scale(t, 200); i++ {
		ntaps, kc := 1+r.IntN(5), 1+r.IntN(6)
		srcs := make([][]int8, 4*ntaps)
		ptrs := make([]*int8, 4*ntaps)
		for j := range srcs {
			srcs[j] = randInt8s(r, kc*16+r.IntN(8))
			ptrs[j] = &srcs[j][r.IntN(len(srcs[j])-kc*16+1)]
		}
		rot := i%2 == 1 // packA4R: four rotations of each chunk
		size, name, asm, twin := ntaps*kc*64, "packA4", packA4, packA4Generic
		if rot {
			size, name, asm, twin = 4*size, "packA4R", packA4R, packA4RGeneric
		}
		got, want := newGuarded(r, size), make([]int8, size)
		var gs, ws [4]int32
		var gsp, wsp *int32
		if r.IntN(2) == 0 {
			gsp, wsp = &gs[0], &ws[0]
		}
		asm(&got.data()[0], &ptrs[0], ntaps, kc, gsp)
		twin(&want[0], &ptrs[0], ntaps, kc, wsp)
		got.check(t, name)
		diffInt8(t, name, got.data(), want)
		if gs != ws {
			t.Fatalf("%s sums %v, twin %v", name, gs, ws)
		}
	}
}

func TestGatherA4Kernel(t *testing.T) {
	needAsm(t)
	needNEON(t)
	r := newRand(15)
	for i := 0; i < scale(t, 300); i++ {
		kc := 1 + r.IntN(3)
		var rows [16][]int8
		var p [16]*int8
		for j := range rows {
			rows[j] = randInt8s(r, 16+r.IntN(4))
			p[j] = &rows[j][r.IntN(len(rows[j])-15)]
		}
		idx := make([]byte, 48)
		for j := range idx {
			idx[j] = byte(r.IntN(80))
			if r.IntN(8) == 0 {
				idx[j] = 0xff
			}
		}
		got, want := newGuarded(r, 64*kc), make([]int8, 64*kc)
		gatherA4(&got.data()[0], &p[0], &idx[0], kc)
		gatherA4Generic(&want[0], &p[0], &idx[0], kc)
		got.check(t, "gatherA4")
		diffInt8(t, fmt.Sprintf("gatherA4 kc %d idx %v", kc, idx), got.data(), want)
	}
}

func TestDw3x3Kernel(t *testing.T) {
	needAsm(t)
	r := newRand(12)
	for i := 0; i < scale(t, 1000); i++ {
		n, s, nb := 1+r.IntN(60), 1+r.IntN(3), 1+r.IntN(3) // n: every group of the sliding windows; s 3: the plain loop // nb blocks of 16 channels
		cin := 16*nb + r.IntN(40)
		cout := cin
		if nb == 1 && r.IntN(3) == 0 {
			cout = 16
		}
		span := ((n-1)*s+2)*cin + 16*nb
		var rows [3][]int16
		for k := range rows {
			rows[k] = make([]int16, span)
			for j := range rows[k] {
				rows[k][j] = int16(int8(r.Uint32()))
				if r.IntN(8) == 0 {
					rows[k][j] = int16(r.Uint32()) // beyond int8: the kernel is exact on any int16
				}
			}
			if r.IntN(4) == 0 {
				for j := range rows[k] {
					rows[k][j] = math.MinInt8
				}
			}
		}
		w := make([]int16, nb*9*16)
		for j := range w {
			if r.IntN(4) == 0 {
				w[j] = int16(r.Uint32())
			} else {
				w[j] = int16(r.IntN(511) - 255)
			}
		}
		tie := r.IntN(3) == 0
		if tie {
			clear(w)
		}
		p := make([]int32, nb*dwParams)
		flags := r.IntN(2)
		switch r.IntN(3) {
		case 0:
			flags = flagFastRQ // implies no left shift: all shifts are right shifts
		case 1:
			flags |= flagFP32 // the shifts, and flagLSH, are ignored
		}
		for blk := 0; blk < nb; blk++ {
			p := p[blk*dwParams:]
			for ch := 0; ch < 16; ch++ {
				p[ch], p[16+ch], p[32+ch], p[48+ch] = randEpilogue(r, tie)
				if flags&flagFastRQ != 0 && p[32+ch] == 0 {
					p[32+ch] = -1 - int32(r.IntN(31))
				}
				if flags&flagFP32 != 0 {
					b, sc := randEpilogueFP32(r, tie)
					p[ch], p[16+ch] = b, int32(math.Float32bits(sc))
				}
			}
		}
		hdr := randHdr(r)
		got := newGuarded(r, (n-1)*cout+16*nb)
		want := slices.Clone(got.all)
		dw3x3(&got.data()[0], &rows[0][0], &rows[1][0], &rows[2][0], &w[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
		dw3x3Generic(&want[got.lo], &rows[0][0], &rows[1][0], &rows[2][0], &w[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
		got.check(t, "dw3x3")
		diffInt8(t, fmt.Sprintf("dw3x3 n %d s %d cin %d cout %d flags %d nb %d", n, s, cin, cout, flags, nb), got.all, want)
	}
}

// TestDw5x5Kernel compares dw5x5 with its twin: pixel counts 1-60, strides 1-3, 1-3 blocks, channel
// strides beyond the blocks, int16 inputs and weights beyond int8, the three epilogues, ties.
func TestDw5x5Kernel(t *testing.T) {
	needAsm(t)
	needNEON(t) // on amd64 the name calls its twin
	r := newRand(17)
	for i := 0; i < scale(t, 600); i++ {
		n, s, nb := 1+r.IntN(60), 1+r.IntN(3), 1+r.IntN(3)
		cin := 16*nb + r.IntN(40)
		cout := cin
		if nb == 1 && r.IntN(3) == 0 {
			cout = 16
		}
		span := ((n-1)*s+4)*cin + 16*nb
		var rows [5][]int16
		for k := range rows {
			rows[k] = make([]int16, span)
			for j := range rows[k] {
				rows[k][j] = int16(int8(r.Uint32()))
				if r.IntN(8) == 0 {
					rows[k][j] = int16(r.Uint32()) // beyond int8: the kernel is exact on any int16
				}
			}
			if r.IntN(4) == 0 {
				for j := range rows[k] {
					rows[k][j] = math.MinInt8
				}
			}
		}
		w := make([]int16, nb*25*16)
		for j := range w {
			if r.IntN(4) == 0 {
				w[j] = int16(r.Uint32()) // the sums wrap in int32 alike in both
			} else {
				w[j] = int16(r.IntN(511) - 255)
			}
		}
		tie := r.IntN(3) == 0
		if tie {
			clear(w)
		}
		p := make([]int32, nb*dwParams)
		flags := r.IntN(2)
		switch r.IntN(3) {
		case 0:
			flags = flagFastRQ
		case 1:
			flags |= flagFP32
		}
		for blk := 0; blk < nb; blk++ {
			p := p[blk*dwParams:]
			for ch := 0; ch < 16; ch++ {
				p[ch], p[16+ch], p[32+ch], p[48+ch] = randEpilogue(r, tie)
				if flags&flagFastRQ != 0 && p[32+ch] == 0 {
					p[32+ch] = -1 - int32(r.IntN(31))
				}
				if flags&flagFP32 != 0 {
					b, sc := randEpilogueFP32(r, tie)
					p[ch], p[16+ch] = b, int32(math.Float32bits(sc))
				}
			}
		}
		hdr := randHdr(r)
		got := newGuarded(r, (n-1)*cout+16*nb)
		want := slices.Clone(got.all)
		rp := [5]*int16{&rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &rows[4][0]}
		dw5x5(&got.data()[0], &rp, &w[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
		dw5x5Generic(&want[got.lo], &rp, &w[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
		got.check(t, "dw5x5")
		diffInt8(t, fmt.Sprintf("dw5x5 n %d s %d cin %d cout %d flags %d nb %d", n, s, cin, cout, flags, nb), got.all, want)
	}
}

func TestWiden16Kernel(t *testing.T) {
	needAsm(t)
	r := newRand(16)
	for i := 0; i < scale(t, 50); i++ {
		n := 1 + r.IntN(20)
		src := randInt8s(r, 16*n)
		got, want := make([]int16, 16*n+8), make([]int16, 16*n+8)
		widen16(&got[0], &src[0], n)
		widen16Generic(&want[0], &src[0], n)
		if !slices.Equal(got, want) {
			t.Fatalf("widen16 n %d: %v, twin %v", n, got, want)
		}
	}
}

func randAddParams(r *rand.Rand) AddParams {
	p := AddParams{In1Zero: int32(r.IntN(256) - 128), In2Zero: int32(r.IntN(256) - 128), LeftShift: int32(r.IntN(23))}
	if r.IntN(2) == 0 {
		p.LeftShift = 20
	}
	ms := []*int32{&p.In1Mult, &p.In2Mult, &p.OutMult}
	ss := []*int32{&p.In1Shift, &p.In2Shift, &p.OutShift}
	for i := range ms {
		*ms[i] = int32(r.Uint32() >> 1)
		*ss[i] = -int32(r.IntN(32))
		if r.IntN(8) == 0 {
			*ms[i] = []int32{0, math.MaxInt32, 1 << 30}[r.IntN(3)]
		}
	}
	p.OutZero, p.ActMin, p.ActMax = randActRange(r)
	return p
}

func TestAddKernel(t *testing.T) {
	needAsm(t)
	needNEON(t)
	r := newRand(13)
	for i := 0; i < scale(t, 300); i++ {
		n := 1 + r.IntN(6)
		a, b := randInt8s(r, 16*n), randInt8s(r, 16*n)
		p := randAddParams(r)
		k := p.consts()
		got, want := newGuarded(r, 16*n), make([]int8, 16*n)
		addInt8(&got.data()[0], &a[0], &b[0], n, &k[0])
		addInt8Generic(&want[0], &a[0], &b[0], n, &k[0])
		got.check(t, "addInt8")
		diffInt8(t, fmt.Sprintf("addInt8 %+v", p), got.data(), want)
	}
}

// randAddXParams returns XNNPACK add parameters: from random scales through NewAddParamsXNNPACK, or
// (half the time) random within what Validate accepts, where int32 sums may wrap.
func randAddXParams(r *rand.Rand) AddParams {
	oz, lo, hi := randActRange(r)
	if r.IntN(2) == 0 {
		for {
			p, err := NewAddParamsXNNPACK(float32(math.Exp(r.Float64()*6-3)), int32(r.IntN(256)-128),
				float32(math.Exp(r.Float64()*6-3)), int32(r.IntN(256)-128), float32(math.Exp(r.Float64()*6-3)), oz, lo, hi)
			if err == nil {
				return p
			}
		}
	}
	p := AddParams{XNNPACK: true, In1Zero: int32(r.IntN(256) - 128), In2Zero: int32(r.IntN(256) - 128),
		OutZero: oz, ActMin: lo, ActMax: hi, XShift: int32(r.IntN(32)), XBias: int32(r.Uint32()),
		XMul1: int32(r.IntN(1<<22 + 1)), XMul2: int32(r.IntN(1<<22 + 1))}
	if r.IntN(4) == 0 {
		p.XMul1, p.XMul2 = p.XMul1>>r.IntN(22), p.XMul2>>r.IntN(22)
	}
	return p
}

func TestAddXNNPACKKernel(t *testing.T) {
	needAsm(t)
	r := newRand(17)
	for i := 0; i < scale(t, 300); i++ {
		n := 1 + r.IntN(6)
		a, b := randInt8s(r, 16*n), randInt8s(r, 16*n)
		if r.IntN(4) == 0 { // the extremes: -128 and 127 in either operand
			for j := range a {
				a[j] = []int8{math.MinInt8, math.MaxInt8}[r.IntN(2)]
				b[j] = []int8{math.MinInt8, math.MaxInt8}[r.IntN(2)]
			}
		}
		p := randAddXParams(r)
		k := p.constsX()
		got, want := newGuarded(r, 16*n), make([]int8, 16*n)
		addXNNPACK(&got.data()[0], &a[0], &b[0], n, &k[0])
		addXNNPACKGeneric(&want[0], &a[0], &b[0], n, &k[0])
		got.check(t, "addXNNPACK")
		diffInt8(t, fmt.Sprintf("addXNNPACK %+v", p), got.data(), want)
	}
}

func TestSumPixelsKernel(t *testing.T) {
	needAsm(t)
	needNEON(t)
	r := newRand(14)
	for i := 0; i < scale(t, 100); i++ {
		n, stride := 1+r.IntN(256), 16+r.IntN(40)
		src := randInt8s(r, (n-1)*stride+16)
		if r.IntN(3) == 0 {
			v := int8([]int{-128, 127}[r.IntN(2)])
			for j := range src {
				src[j] = v
			}
		}
		var got, want [16]int32
		for j := range got {
			got[j] = int32(r.IntN(1 << 20))
		}
		want = got
		sumPixels16(&got[0], &src[0], n, stride)
		sumPixels16Generic(&want[0], &src[0], n, stride)
		if got != want {
			t.Fatalf("sumPixels16 n %d stride %d: %v, twin %v", n, stride, got, want)
		}
	}
}

// TestTwinsMatchFixedpoint pins the twins' shared epilogue to TFLite's MultiplyByQuantizedMultiplier.
func TestTwinsMatchFixedpoint(t *testing.T) {
	r := newRand(15)
	for i := 0; i < 100000; i++ {
		acc, mult, rsh, lsh := randEpilogue(r, r.IntN(2) == 0)
		shift := int(lsh + rsh)
		v := requant(acc, mult, int(lsh), int(-rsh), 0, math.MinInt8, math.MaxInt8)
		want := int8(max(-128, min(127, mulQ(acc, mult, shift))))
		if v != want {
			t.Fatalf("requant(%d, %d, %d, %d) = %d, want %d", acc, mult, lsh, -rsh, v, want)
		}
	}
}

// TestRequantFP32MatchesNaive pins the twins' fp32 epilogue (clamp in float32, then round) to the
// formula of ConvParams (round, then clamp), over random, extreme and tie cases.
func TestRequantFP32MatchesNaive(t *testing.T) {
	r := newRand(18)
	ties := 0
	for i := 0; i < 200000; i++ {
		acc, sc := randEpilogueFP32(r, r.IntN(2) == 0)
		if i%100 == 0 {
			acc = []int32{math.MinInt32, math.MaxInt32, 0, -1, 1 << 24, 1<<24 + 1}[r.IntN(6)]
		}
		oz, lo, hi := randActRange(r)
		if v := float64(float32(acc) * sc); v-math.Floor(v) == 0.5 && math.Abs(v) < 128 {
			ties++
		}
		if got, want := requantFP32(acc, sc, oz, lo, hi), naiveFP32(acc, sc, oz, lo, hi); got != want {
			t.Fatalf("requantFP32(%d, %g, %d, [%d, %d]) = %d, want %d", acc, sc, oz, lo, hi, got, want)
		}
	}
	if ties < 10000 {
		t.Fatalf("only %d ties", ties)
	}
}

func TestDwdotKernel(t *testing.T) {
	needAsm(t)
	needNEON(t)
	if !hwSDOT {
		t.Skip("no dot product on this CPU: dwdot is chosen on the sdot path only")
	}
	r := newRand(13)
	for i := 0; i < scale(t, 1000); i++ {
		n, nb := 1+r.IntN(20), 1+r.IntN(3)
		cout := 16*nb + r.IntN(40)
		if nb == 1 && r.IntN(3) == 0 {
			cout = 16
		}
		var rows [4][]int8
		for k := range rows {
			rows[k] = randInt8s(r, 64*n*nb)
			if r.IntN(4) == 0 {
				for j := range rows[k] {
					rows[k][j] = math.MinInt8
				}
			}
		}
		w := randInt8s(r, 192*nb)
		tie := r.IntN(3) == 0
		if tie {
			clear(w)
		} else if r.IntN(4) == 0 {
			for j := range w {
				w[j] = math.MinInt8
			}
		}
		p := make([]int32, nb*dwParams)
		for blk := 0; blk < nb; blk++ {
			for ch := 0; ch < 16; ch++ {
				b, sc := randEpilogueFP32(r, tie)
				p[blk*dwParams+ch], p[blk*dwParams+16+ch] = b, int32(math.Float32bits(sc))
			}
		}
		flags := r.IntN(4)
		if r.IntN(2) == 0 { // weight zero point: the factors (-wz, -wz, -wz, 0) in the third slot, per block
			flags |= dwWZ
			for blk := 0; blk < nb; blk++ {
				if r.IntN(4) != 0 { // the block adds them (any word not 0)
					p[blk*dwParams+48] = 1 << r.IntN(32)
				}
				for ch := 0; ch < 16; ch++ {
					wz := int32(r.IntN(255) - 127)
					if tie {
						wz = 0
					}
					p[blk*dwParams+32+ch] = int32(uint32(uint8(-wz)) * 0x010101)
					if !tie && r.IntN(8) == 0 { // any bytes: the kernel takes the fourth too
						p[blk*dwParams+32+ch] = int32(r.Uint32())
					}
				}
			}
		}
		hdr := randHdr(r)
		got := newGuarded(r, (n-1)*cout+16*nb)
		want := slices.Clone(got.all)
		dwdot(&got.data()[0], &rows[0][0], &rows[1][0], &rows[2][0], &w[0], &p[0], &hdr[0], n, cout, flags, nb)
		dwdotGeneric(&want[got.lo], &rows[0][0], &rows[1][0], &rows[2][0], &w[0], &p[0], &hdr[0], n, cout, flags, nb)
		got.check(t, "dwdot")
		diffInt8(t, fmt.Sprintf("dwdot n %d cout %d flags %d nb %d hdr %v", n, cout, flags, nb, hdr), got.all, want)

		// dwdot2: two output rows, ostride apart, from rows 0-2 and 1-3 (no weight zero point).
		flags &^= dwWZ
		ostride := (n-1)*cout + 16*nb + r.IntN(40)
		got2 := newGuarded(r, ostride+(n-1)*cout+16*nb)
		want2 := slices.Clone(got2.all)
		dwdot2(&got2.data()[0], &rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &w[0], &p[0], &hdr[0], n, cout, ostride, flags, nb)
		dwdot2Generic(&want2[got2.lo], &rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &w[0], &p[0], &hdr[0], n, cout, ostride, flags, nb)
		got2.check(t, "dwdot2")
		diffInt8(t, fmt.Sprintf("dwdot2 n %d cout %d ostride %d flags %d nb %d hdr %v", n, cout, ostride, flags, nb, hdr), got2.all, want2)
	}
}

func TestDwprepKernel(t *testing.T) {
	needAsm(t)
	needNEON(t)
	r := newRand(14)
	for i := 0; i < scale(t, 500); i++ {
		n, s, nb := 1+r.IntN(60), 1+r.IntN(3), 1+r.IntN(3) // n: every group of the sliding windows; s 3: the plain loop
		cin := 16*(nb-1) + 1 + r.IntN(40)
		src := randInt8s(r, (s*(n-1)+3)*cin+16*nb)
		bstride := 64 * (n + r.IntN(3))
		got := newGuarded(r, bstride*(nb-1)+64*n)
		want := slices.Clone(got.data())
		dwprep(&got.data()[0], &src[0], n, cin, s, nb, bstride)
		dwprepGeneric(&want[0], &src[0], n, cin, s, nb, bstride)
		got.check(t, "dwprep")
		diffInt8(t, fmt.Sprintf("dwprep n %d s %d cin %d nb %d", n, s, cin, nb), got.data(), want)
	}
}

func TestGemmPanelsKernel(t *testing.T) {
	needAsm(t)
	r := newRand(16)
	type kern struct {
		name string
		mlal bool
		asm  func(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int)
		rows int // per panel
	}
	var ks []kern
	if hwNEON {
		ks = append(ks, kern{"gemmMLAL4P", true, gemmMLAL4P, 4})
	}
	if hwSDOT {
		ks = append(ks, kern{"gemmSDOT4P", false, gemmSDOT4P, 4}, kern{"gemmSDOT6P", false, gemmSDOT6P, 6})
	}
	for _, k := range ks {
		for i := 0; i < scale(t, 200); i++ {
			kc, np, ntiles := 1+r.IntN(9), 1+r.IntN(4), 1+r.IntN(3) // kc: every remainder of the 4-chunk loop
			inC := 16*kc - r.IntN(16)                               // a pixel's read runs into the next one (modeRows)
			n := 16*ntiles + r.IntN(20)
			src := randInt8s(r, (k.rows*np-1)*inC+16*kc)
			w := randInt8s(r, ntiles*kc*256)
			per := sdotParams
			if k.mlal {
				per = mlalParams
			}
			p := make([]int32, ntiles*per)
			flags := []int{0, flagFastRQ, flagFP32}[r.IntN(3)]
			if k.rows == 6 { // gemmSDOT6P: fp32 only
				flags = flagFP32
			}
			wzs := r.IntN(2) == 0
			if wzs {
				flags |= flagWZ
			}
			for j := 0; j < ntiles; j++ {
				q := p[j*per:]
				if k.mlal {
					q[0] = int32(r.IntN(2))
					q = q[4:]
				}
				for c := 0; c < 16; c++ {
					b, m, rsh, lsh := randEpilogue(r, false)
					if flags&flagFastRQ != 0 && rsh == 0 {
						rsh = -1 - int32(r.IntN(31))
					}
					if flags&flagFP32 != 0 {
						var sc float32
						b, sc = randEpilogueFP32(r, false)
						m = int32(math.Float32bits(sc))
					}
					q[c], q[16+c], q[32+c], q[48+c] = b, m, rsh, lsh
					if wzs { // a TF1 model's, or any int32 (the products wrap alike)
						q[64+c] = int32(r.IntN(256)) - 128
						if r.IntN(8) == 0 {
							q[64+c] = int32(r.Uint32())
						}
					}
				}
			}
			if k.mlal && r.IntN(2) == 0 {
				flags |= flagSafe
			}
			if !k.mlal && hwVNNI && r.IntN(2) == 0 { // amd64: the AVX-512 VNNI loop
				flags |= flagVNNI
			}
			h := randHdr(r)
			hdr := makeHdr(h[0], h[1], h[2])
			if hdr[1] == math.MinInt8 && r.IntN(2) == 0 {
				flags |= flagNoMin
			}
			if hdr[2] == math.MaxInt8 && r.IntN(2) == 0 {
				flags |= flagNoMax
			}
			panel := make([]int8, kc*256)
			got := newGuarded(r, (k.rows*np-1)*n+16*ntiles)
			want := slices.Clone(got.all)
			k.asm(&src[0], inC, &got.data()[0], n, np, &panel[0], kc, &w[0], &p[0], &hdr[0], ntiles, flags)
			if k.rows == 6 {
				gemmSDOT6PGeneric(&src[0], inC, &want[got.lo], n, np, &panel[0], kc, &w[0], &p[0], &hdr[0], ntiles, flags)
			} else {
				gemmPanelsGeneric(k.mlal, &src[0], inC, &want[got.lo], n, np, &panel[0], kc, &w[0], &p[0], &hdr[0], ntiles, flags)
			}
			got.check(t, k.name)
			diffInt8(t, fmt.Sprintf("%s kc %d inC %d panels %d ntiles %d n %d flags %d", k.name, kc, inC, np, ntiles, n, flags), got.all, want)
		}
	}
}

func TestGatherRunKernel(t *testing.T) {
	needAsm(t)
	r := newRand(17)
	for i := 0; i < scale(t, 300); i++ {
		kc, npix := 1+r.IntN(3), 1+r.IntN(9)
		var p [4]*int8
		var steps [4]int
		for j := range p {
			steps[j] = r.IntN(3) * (1 + r.IntN(20))
			buf := randInt8s(r, (npix-1)*steps[j]+16+r.IntN(4))
			p[j] = &buf[r.IntN(len(buf)-(npix-1)*steps[j]-15)]
		}
		idx := make([]byte, 48)
		for j := range idx {
			idx[j] = byte(r.IntN(80))
			if r.IntN(8) == 0 {
				idx[j] = 0xff
			}
		}
		got, want := newGuarded(r, 16*kc*npix), make([]int8, 16*kc*npix)
		gatherRun(&got.data()[0], &p, &steps, &idx[0], kc, npix)
		gatherRunGeneric(&want[0], &p, &steps, &idx[0], kc, npix)
		got.check(t, "gatherRun")
		diffInt8(t, fmt.Sprintf("gatherRun kc %d npix %d steps %v", kc, npix, steps), got.data(), want)
	}
}

// TestGemmSDOT6PGeneric checks the twin of gemmSDOT6P (its own panel layout) against gemmSDOT4P's
// on the same pixels: 2q panels of 6 are 3q panels of 4.
func TestGemmSDOT6PGeneric(t *testing.T) {
	r := newRand(18)
	for i := 0; i < scale(t, 100); i++ {
		kc, q, ntiles := 1+r.IntN(6), 1+r.IntN(2), 1+r.IntN(3)
		inC := 16*kc - r.IntN(16)
		n := 16*ntiles + r.IntN(20)
		src := randInt8s(r, (12*q-1)*inC+16*kc)
		w := randInt8s(r, ntiles*kc*256)
		p := make([]int32, ntiles*sdotParams)
		flags := flagFP32
		if r.IntN(2) == 0 {
			flags |= flagWZ
		}
		for j := range ntiles {
			for c := 0; c < 16; c++ {
				b, sc := randEpilogueFP32(r, false)
				p[j*sdotParams+c], p[j*sdotParams+16+c] = b, int32(math.Float32bits(sc))
				p[j*sdotParams+64+c] = int32(r.IntN(256)) - 128
			}
		}
		h := randHdr(r)
		hdr := makeHdr(h[0], h[1], h[2])
		panel := make([]int8, kc*96)
		got, want := make([]int8, (12*q-1)*n+16*ntiles), make([]int8, (12*q-1)*n+16*ntiles)
		gemmSDOT6PGeneric(&src[0], inC, &got[0], n, 2*q, &panel[0], kc, &w[0], &p[0], &hdr[0], ntiles, flags)
		gemmPanelsGeneric(false, &src[0], inC, &want[0], n, 3*q, &panel[0], kc, &w[0], &p[0], &hdr[0], ntiles, flags)
		diffInt8(t, fmt.Sprintf("kc %d inC %d n %d flags %d", kc, inC, n, flags), got, want)
	}
}

func TestDwprep4Kernel(t *testing.T) {
	needAsm(t)
	needNEON(t)
	r := newRand(19)
	for i := 0; i < scale(t, 300); i++ {
		nb := 1 + r.IntN(4)
		var p [4]*int8
		for j := range p {
			buf := randInt8s(r, 16*nb+r.IntN(8))
			p[j] = &buf[r.IntN(len(buf)-16*nb+1)]
		}
		bstride := 64 * (1 + r.IntN(3))
		got := newGuarded(r, bstride*(nb-1)+64)
		want := slices.Clone(got.data())
		dwprep4(&got.data()[0], &p, nb, bstride)
		dwprep4Generic(&want[0], &p, nb, bstride)
		got.check(t, "dwprep4")
		diffInt8(t, fmt.Sprintf("dwprep4 nb %d bstride %d", nb, bstride), got.data(), want)
	}
}

// TestDw3x3bKernel checks dw3x3b (int8 rows and weights, two taps summed in int16) against its Go
// twin, and the twin against dw3x3's on the same values widened to int16. The extremes: rows of
// -128 with weights of +127 or -127 everywhere (each int16 pair sum is then ±32512, the largest
// there is), and random rows with random weights in [-127, 127].
func TestDw3x3bKernel(t *testing.T) {
	r := newRand(13)
	for i := 0; i < scale(t, 1000); i++ {
		n, s, nb := 1+r.IntN(60), 1+r.IntN(3), 1+r.IntN(3)
		flags := r.IntN(2)
		switch r.IntN(3) {
		case 0:
			flags = flagFastRQ
		case 1:
			flags |= flagFP32
		}
		checkDw3x3b(t, r, i, n, s, nb, flags)
	}
}

// TestDw3x3bPipelineEdges runs dw3x3b's fp32 body, which is software-pipelined (the first pixel's
// sums before the loop, the last pixel's epilogue after it), on every pixel count from 1 to 5 with
// every stride and block count, against its twin.
func TestDw3x3bPipelineEdges(t *testing.T) {
	r := newRand(14)
	i := 0
	for n := 1; n <= 5; n++ {
		for s := 1; s <= 3; s++ {
			for nb := 1; nb <= 3; nb++ {
				for rep := 0; rep < 4; rep++ {
					checkDw3x3b(t, r, i, n, s, nb, flagFP32|r.IntN(2)) // bit 0 (flagLSH) is ignored by fp32
					i++
				}
			}
		}
	}
}

// checkDw3x3b runs dw3x3b on random rows, weights and parameters of the given shape and flags
// against its twin (and the twin against dw3x3's); every fourth case (by r) uses the extremes of
// TestDw3x3bKernel, i selects mixed signs among them.
func checkDw3x3b(t *testing.T, r *rand.Rand, i, n, s, nb, flags int) {
	t.Helper()
	cin := 16*nb + r.IntN(40)
	cout := cin
	if nb == 1 && r.IntN(3) == 0 {
		cout = 16
	}
	span := ((n-1)*s+2)*cin + 16*nb
	extreme := r.IntN(4) == 0
	var rows [3][]int8
	var rows16 [3][]int16
	for k := range rows {
		rows[k] = randInt8s(r, span)
		if extreme || r.IntN(4) == 0 {
			for j := range rows[k] {
				rows[k][j] = math.MinInt8
			}
		}
		rows16[k] = make([]int16, span)
		for j, v := range rows[k] {
			rows16[k][j] = int16(v)
		}
	}
	w := make([]int8, nb*9*16)
	w16 := make([]int16, len(w))
	sign := int8(1 - 2*r.IntN(2))
	for j := range w {
		w[j] = int8(r.IntN(255) - 127)
		if extreme {
			w[j] = sign * math.MaxInt8
			if r.IntN(2) == 0 && i%2 == 1 { // mixed signs within a channel's taps
				w[j] = -w[j]
			}
		}
		w16[j] = int16(w[j])
	}
	p := make([]int32, nb*dwParams)
	for blk := 0; blk < nb; blk++ {
		p := p[blk*dwParams:]
		for ch := 0; ch < 16; ch++ {
			p[ch], p[16+ch], p[32+ch], p[48+ch] = randEpilogue(r, false)
			if flags&flagFastRQ != 0 && p[32+ch] == 0 {
				p[32+ch] = -1 - int32(r.IntN(31))
			}
			if flags&flagFP32 != 0 {
				b, sc := randEpilogueFP32(r, false)
				p[ch], p[16+ch] = b, int32(math.Float32bits(sc))
			}
		}
	}
	hdr := randHdr(r)
	what := fmt.Sprintf("dw3x3b n %d s %d cin %d cout %d flags %d nb %d extreme %v", n, s, cin, cout, flags, nb, extreme)
	got := newGuarded(r, (n-1)*cout+16*nb)
	want := slices.Clone(got.all)
	ref := slices.Clone(got.all)
	dw3x3bGeneric(&want[got.lo], &rows[0][0], &rows[1][0], &rows[2][0], &w[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
	dw3x3Generic(&ref[got.lo], &rows16[0][0], &rows16[1][0], &rows16[2][0], &w16[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
	diffInt8(t, what+" (twins)", want, ref)
	if !haveAsm || !hwNEON {
		return
	}
	dw3x3b(&got.data()[0], &rows[0][0], &rows[1][0], &rows[2][0], &w[0], &p[0], &hdr[0], n, cin, s, cout, flags, nb)
	got.check(t, "dw3x3b")
	diffInt8(t, what, got.all, want)
}

// needNEON skips kernels that exist only on arm64 (their amd64 names call the twins).
func needNEON(t testing.TB) {
	if !hwNEON {
		t.Skip("arm64 kernel: on this GOARCH the name calls its twin")
	}
}

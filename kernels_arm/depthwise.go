package kernels

import (
	"math"
	"unsafe"
)

// DepthwiseParams describes one int8 NHWC batch-1 depthwise convolution (TFLite DEPTHWISE_CONV_2D):
// output channel oc = ic*Multiplier + m reads input channel ic only,
//
//	acc[oy,ox,oc] = Bias[oc] + Σ_{ky,kx in bounds} (in[iy,ix,ic] - InZero) * (w[ky,kx,oc] - WeightZero[oc])
//
// requantized as in ConvParams: by Mult and Shift, or by Scale in float32 (XNNPACK) when Scale is set.
type DepthwiseParams struct {
	InH, InW, InC, OutH, OutW            int
	KH, KW, StrideH, StrideW, DilH, DilW int
	PadTop, PadLeft                      int
	Multiplier                           int     // depth multiplier; output channels = InC*Multiplier
	InZero                               int32   // input zero point
	Weights                              []int8  // [1, KH, KW, InC*Multiplier]
	WeightZero                           []int32 // len 1 or InC*Multiplier
	Bias                                 []int32 // len InC*Multiplier, or nil
	Mult, Shift                          []int32 // per output channel (or 1 for all)
	OutZero, ActMin, ActMax              int32
	Scale                                []float32 // if not nil: fp32 requantization (ConvParams.Scale)
}

// Depthwise is a depthwise convolution prepared for one instruction path. The 3x3 and 5x5 stride 1
// and stride 2 convolutions with multiplier 1 and no dilation run the dw3x3 (dw5x5) kernel on three
// (five) padded input rows, widened to int16 once per input row (a ring of three or five rows in
// scratch) with the padding filled in, so the kernel has no per-pixel branches; the others run a
// plain Go loop. When every w - wz of a 3x3 layer is in [-127, 127] (TFLite's symmetric int8
// weights), the arm64 paths run dw3x3b instead: the rows are copied as int8 into a ring of three,
// and two taps' int8 products are summed in int16 (exact: see dw3x3b), twice the MACs per multiply
// of dw3x3. On the sdot
// path, with fp32 requantization, they run dwdot (dwdot2 for two output rows at stride 1, without
// weight zero point) instead, on rows prepared by dwprep (four SDOTs per kernel row and 16 channels,
// eight with a weight zero point).
type Depthwise struct {
	p    DepthwiseParams
	outC int
	path path
	fast bool

	// fast path
	k      int // window: 3 (dw3x3) or 5 (dw5x5)
	s      int
	blocks int // 16-channel blocks, the last one partial when tailC > 0
	tailC  int
	wp     int     // padded input row width in pixels: (OutW-1)*s + k
	w      []int16 // [block][k*k taps][16]
	params []int32
	hdr    [4]int32
	flags  int
	zrow   []int16 // a padded row of InZero

	// int8 form (dw3x3b): w - wz all in [-127, 127]; rows copied, not widened
	b8    bool
	w8    []int8 // [block][tap][16], as w
	zrow8 []int8 // a padded row of InZero

	// SDOT form (dwdot): rows prepared by dwprep, [block][x][16][4] int8
	dot    bool
	wdot   []int8 // [block][ky][16][4], kx = 3 zero
	dflags int    // dwNoMin, dwNoMax
	zdot   []int8 // a prepared row of InZero

	// generic path
	wsub []int32 // w - wz
}

// NewDepthwise validates p, packs its weights and picks the kernel: the dw3x3 (dw5x5) fast path for
// 3x3 (5x5) stride 1 or 2, multiplier 1, no dilation; a generic loop otherwise.
func NewDepthwise(p DepthwiseParams) (*Depthwise, error) {
	if p.InH <= 0 || p.InW <= 0 || p.InC <= 0 || p.OutH <= 0 || p.OutW <= 0 || p.Multiplier <= 0 {
		return nil, errorf("depthwise: non-positive shape %dx%dx%d -> %dx%d, multiplier %d", p.InH, p.InW, p.InC, p.OutH, p.OutW, p.Multiplier)
	}
	if p.KH <= 0 || p.KW <= 0 || p.StrideH <= 0 || p.StrideW <= 0 || p.DilH <= 0 || p.DilW <= 0 {
		return nil, errorf("depthwise: kernel %dx%d, stride %dx%d, dilation %dx%d must be positive", p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW)
	}
	if p.PadTop < 0 || p.PadLeft < 0 {
		return nil, errorf("depthwise: negative padding %d, %d", p.PadTop, p.PadLeft)
	}
	if !sizeOK(p.InH, p.InW, p.InC) || !sizeOK(p.OutH, p.OutW, p.InC, p.Multiplier) || !sizeOK(p.KH, p.KW, p.InC, p.Multiplier) ||
		!sizeOK(p.StrideH, p.StrideW, p.DilH, p.DilW, p.PadTop+1, p.PadLeft+1) {
		return nil, errorf("depthwise: shape too large: %dx%dx%d -> %dx%d, kernel %dx%d, multiplier %d", p.InH, p.InW, p.InC, p.OutH, p.OutW, p.KH, p.KW, p.Multiplier)
	}
	outC := p.InC * p.Multiplier
	if len(p.Weights) != p.KH*p.KW*outC {
		return nil, errorf("depthwise: %d weights, want KH*KW*InC*Multiplier = %d", len(p.Weights), p.KH*p.KW*outC)
	}
	if err := quantCheck("depthwise", outC, p.InZero, p.WeightZero, p.Bias, p.Mult, p.Shift, p.Scale, p.OutZero, p.ActMin, p.ActMax); err != nil {
		return nil, err
	}
	d := &Depthwise{p: p, outC: outC, path: currentPath()}
	d.hdr = [4]int32{p.OutZero, p.ActMin, p.ActMax, 0}
	d.fast = p.KH == p.KW && (p.KH == 3 || p.KH == 5) && p.StrideH == p.StrideW && (p.StrideH == 1 || p.StrideH == 2) &&
		p.DilH == 1 && p.DilW == 1 && p.Multiplier == 1
	if d.fast {
		d.packFast()
		if d.k == 3 && d.path == pathSDOT && haveDWDot && dotOK(&p) {
			d.packDot()
		}
		if d.k == 3 && haveDW3x3b && !d.dot && d.path != pathGeneric && d.b8Fits() {
			d.packB8()
		}
	} else {
		d.wsub = make([]int32, len(p.Weights))
		for i, w := range p.Weights {
			d.wsub[i] = int32(w) - at(p.WeightZero, i%outC)
		}
	}
	return d, nil
}

func (d *Depthwise) packFast() {
	p := &d.p
	c := p.InC
	d.k, d.s = p.KH, p.StrideH
	taps := d.k * d.k
	d.blocks, d.tailC = (c+15)/16, c%16
	d.wp = (p.OutW-1)*d.s + d.k
	d.w = make([]int16, d.blocks*taps*16)
	d.params = make([]int32, d.blocks*dwParams)
	fast := true
	for ch := 0; ch < c; ch++ {
		b, l := ch/16, ch%16
		wz := at(p.WeightZero, ch)
		var sum int32
		for t := 0; t < taps; t++ {
			w := int32(p.Weights[t*c+ch]) - wz
			d.w[(b*taps+t)*16+l] = int16(w)
			sum += w
		}
		var bias int32
		if p.Bias != nil {
			bias = p.Bias[ch]
		}
		mult, rsh, lsh := chanQuant(p.Mult, p.Shift, p.Scale, ch)
		if lsh > 0 {
			d.flags |= flagLSH
		}
		if rsh > -1 {
			fast = false
		}
		pb := d.params[b*dwParams:]
		// Padding reads InZero: Σ (a - zi)*w' = Σ a*w' - zi*Σ w'.
		pb[l], pb[16+l], pb[32+l], pb[48+l] = bias-p.InZero*sum, mult, rsh, lsh
	}
	switch {
	case p.Scale != nil:
		d.flags |= flagFP32
	case fast:
		d.flags |= flagFastRQ
	}
	d.zrow = make([]int16, d.rowLen())
	for i := range d.zrow {
		d.zrow[i] = int16(p.InZero)
	}
}

// b8Fits reports whether every packed weight w - wz is in [-127, 127], so that dw3x3b computes the
// convolution exactly (see dw3x3b).
func (d *Depthwise) b8Fits() bool {
	for _, w := range d.w {
		if w < -math.MaxInt8 || w > math.MaxInt8 {
			return false
		}
	}
	return true
}

// packB8 prepares the int8 form (dw3x3b): the weights of packFast as int8 and a padded row of
// InZero. The parameters are packFast's: the input zero point is in the bias (Σ (a - zi)*w' =
// Σ a*w' - zi*Σ w'), so the kernel multiplies the raw int8 inputs.
func (d *Depthwise) packB8() {
	d.b8 = true
	d.w8 = make([]int8, len(d.w))
	for i, w := range d.w {
		d.w8[i] = int8(w)
	}
	d.zrow8 = make([]int8, d.rowLen())
	for i := range d.zrow8 {
		d.zrow8[i] = int8(d.p.InZero)
	}
}

// dotOK reports whether the SDOT form (dwdot) computes a fast-path depthwise convolution: fp32
// requantization, and each 16-channel block either without weight zero point, or with weights
// whose w - wz all fit in int8 (dotFits: those are the factors), or with weight zero points whose
// negation is an int8 (not -128: a second set of SDOTs by -wz).
func dotOK(p *DepthwiseParams) bool {
	if p.Scale == nil {
		return false
	}
	for b := 0; b < (p.InC+15)/16; b++ {
		if dotFits(p, b) {
			continue
		}
		for ch := 16 * b; ch < min(16*b+16, p.InC); ch++ {
			if at(p.WeightZero, ch) == math.MinInt8 {
				return false
			}
		}
	}
	return true
}

// dotFits reports whether every weight of 16-channel block b less its zero point fits in int8.
func dotFits(p *DepthwiseParams, b int) bool {
	c := p.InC
	for ch := 16 * b; ch < min(16*b+16, c); ch++ {
		wz := at(p.WeightZero, ch)
		for t := 0; t < 9; t++ {
			if d := int32(p.Weights[t*c+ch]) - wz; d < math.MinInt8 || d > math.MaxInt8 {
				return false
			}
		}
	}
	return true
}

// packDot prepares the SDOT form: weights [block][ky][16][4] with a zero fourth tap, the clamps
// that cannot bind, and a prepared row of InZero for the rows outside the image. The parameters
// (bias with the input zero point folded in, scales) are packFast's. A block whose w - wz fit in
// int8 takes them as its weights; the others (with a weight zero point) keep w, and Σ a*(w - wz) =
// Σ a*w + Σ a*(-wz) takes the factors (-wz, -wz, -wz, 0) as 4 bytes per channel in the parameters'
// third slot, and a word not 0 in the fourth (both unused with fp32 requantization, which dwdot
// requires); dwdot2, which has no registers left for them, is then not used.
func (d *Depthwise) packDot() {
	p := &d.p
	c := p.InC
	d.dot = true
	d.wdot = make([]int8, d.blocks*192)
	for b := 0; b < d.blocks; b++ {
		fits := dotFits(p, b)
		for ch := 16 * b; ch < min(16*b+16, c); ch++ {
			l, wz := ch%16, at(p.WeightZero, ch)
			for t := 0; t < 9; t++ {
				w := p.Weights[t*c+ch]
				if fits {
					w = int8(int32(w) - wz)
				}
				d.wdot[192*b+64*(t/3)+4*l+t%3] = w
			}
			if !fits && wz != 0 {
				d.dflags |= dwWZ
				d.params[b*dwParams+32+l] = int32(uint32(uint8(-wz)) * 0x010101)
				d.params[b*dwParams+48] = 1
			}
		}
	}
	if p.ActMin == -128 {
		d.dflags |= dwNoMin
	}
	if p.ActMax == 127 {
		d.dflags |= dwNoMax
	}
	d.zdot = make([]int8, d.dotRowLen())
	for i := range d.zdot {
		d.zdot[i] = int8(p.InZero)
	}
}

// dotRowLen is the length of one row prepared for dwdot; stageLen that of the stage of four padded
// pixels for the pixels at the edges, with 16 bytes of slack for the last, partial channel block.
func (d *Depthwise) dotRowLen() int { return d.blocks * d.p.OutW * 64 }
func (d *Depthwise) stageLen() int  { return 4*d.p.InC + 16 }

// rowLen is the length in int16 of one padded input row: wp pixels and 16 elements of slack for
// the last, partial channel block.
func (d *Depthwise) rowLen() int { return d.wp*d.p.InC + 16 }

// ScratchSize is the number of bytes of scratch one concurrent Run needs.
func (d *Depthwise) ScratchSize() int {
	if !d.fast {
		return 0
	}
	if d.dot {
		return 4*d.dotRowLen() + d.stageLen() + d.p.OutW*16 // a ring of 4 prepared rows (dwdot2)
	}
	if d.b8 {
		return 3*d.rowLen() + d.p.OutW*16
	}
	return 1 + d.k*2*d.rowLen() + d.p.OutW*16
}

// Path names the instruction path the convolution was prepared for: "sdot", "neon", "avx2" or "generic"
// (the sdot path runs dwdot for fp32 requantization with weight zero points other than -128, dw3x3
// otherwise).
func (d *Depthwise) Path() string { return d.path.String() }

// Run computes output rows [y0, y1) (clamped to [0, OutH)) of dst from src (both NHWC, batch 1). It
// does not allocate. It panics if dst, src or scratch is too short (see ScratchSize).
func (d *Depthwise) Run(dst, src, scratch []int8, y0, y1 int) {
	p := &d.p
	y0, y1 = max(y0, 0), min(y1, p.OutH)
	if y0 >= y1 {
		return
	}
	if len(dst) < p.OutH*p.OutW*d.outC || len(src) < p.InH*p.InW*p.InC || len(scratch) < d.ScratchSize() {
		panic(errShort)
	}
	if !d.fast {
		d.runGeneric(dst, src, y0, y1)
		return
	}
	if d.dot {
		d.runDot(dst, src, scratch, y0, y1)
		return
	}
	if d.b8 {
		d.runB8(dst, src, scratch, y0, y1)
		return
	}
	c, rl, kk := p.InC, d.rowLen(), d.k
	// The int16 ring of k rows starts at the first even address of scratch.
	skip := int(uintptr(unsafe.Pointer(&scratch[0])) & 1)
	ring := unsafe.Slice((*int16)(unsafe.Pointer(&scratch[skip])), kk*rl)
	tailOut := scratch[skip+2*kk*rl : skip+2*kk*rl+p.OutW*16]
	// Padding columns are the same in every row: fill them once per Run.
	lo, hi := d.padCols()
	for k := 0; k < kk; k++ {
		row := ring[k*rl : (k+1)*rl]
		copy(row[:lo*c], d.zrow)
		copy(row[hi*c:], d.zrow)
	}
	held := [5]int{-1, -1, -1, -1, -1} // input row held by each ring slot
	var rows [5][]int16
	for oy := y0; oy < y1; oy++ {
		for ky := 0; ky < kk; ky++ {
			iy := oy*d.s - p.PadTop + ky
			if iy < 0 || iy >= p.InH {
				rows[ky] = d.zrow
				continue
			}
			k := iy % kk
			rows[ky] = ring[k*rl : (k+1)*rl]
			if held[k] != iy && hi > lo {
				held[k] = iy
				d.widenRow(rows[ky][lo*c:hi*c], src[(iy*p.InW+lo-p.PadLeft)*c:])
			}
		}
		out := dst[oy*p.OutW*c : (oy+1)*p.OutW*c]
		full := d.blocks // blocks of 16 channels written straight into dst, in one call
		if d.tailC > 0 {
			full--
		}
		if full > 0 {
			d.kernel(&out[0], &rows, 0, c, full)
		}
		if d.tailC > 0 {
			d.kernel(&tailOut[0], &rows, d.blocks-1, 16, 1)
			o := 16 * (d.blocks - 1)
			for x := 0; x < p.OutW; x++ {
				copySmall(out[x*c+o:(x+1)*c], tailOut[16*x:16*x+d.tailC])
			}
		}
	}
}

// runB8 is Run for the int8 form (dw3x3b): as Run, with a ring of three padded int8 rows into which
// the input rows are copied. Its walk over the ring repeats Run's on purpose: every shared form
// tried (a walk generic over int16 and int8 rows; an inlined slot helper; even only the count of
// whole blocks hoisted out of the row loop) executed more instructions in this function on the A72
// path, 1.1 K to 16 K per MobileNetV2 inference by the per-function counts of
// scripts/insncount-prof (kernels_arm/README.md, "Depthwise ring walk").
func (d *Depthwise) runB8(dst, src, scratch []int8, y0, y1 int) {
	p := &d.p
	c, rl := p.InC, d.rowLen()
	ring := scratch[:3*rl]
	tailOut := scratch[3*rl : 3*rl+p.OutW*16]
	lo, hi := d.padCols()
	for k := 0; k < 3; k++ {
		row := ring[k*rl : (k+1)*rl]
		copy(row[:lo*c], d.zrow8)
		copy(row[hi*c:], d.zrow8)
	}
	held := [3]int{-1, -1, -1} // input row held by each ring slot
	var rows [3][]int8
	for oy := y0; oy < y1; oy++ {
		for ky := 0; ky < 3; ky++ {
			iy := oy*d.s - p.PadTop + ky
			if iy < 0 || iy >= p.InH {
				rows[ky] = d.zrow8
				continue
			}
			k := iy % 3
			rows[ky] = ring[k*rl : (k+1)*rl]
			if held[k] != iy && hi > lo {
				held[k] = iy
				copy(rows[ky][lo*c:hi*c], src[(iy*p.InW+lo-p.PadLeft)*c:])
			}
		}
		out := dst[oy*p.OutW*c : (oy+1)*p.OutW*c]
		full := d.blocks // blocks of 16 channels written straight into dst, in one call
		if d.tailC > 0 {
			full--
		}
		if full > 0 {
			d.kernelB8(&out[0], &rows[0][0], &rows[1][0], &rows[2][0], 0, c, full)
		}
		if d.tailC > 0 {
			o := 16 * (d.blocks - 1)
			d.kernelB8(&tailOut[0], &rows[0][o], &rows[1][o], &rows[2][o], d.blocks-1, 16, 1)
			for x := 0; x < p.OutW; x++ {
				copySmall(out[x*c+o:(x+1)*c], tailOut[16*x:16*x+d.tailC])
			}
		}
	}
}

// kernelB8 runs dw3x3b on nb blocks from block b, outputs cout bytes apart.
func (d *Depthwise) kernelB8(out *int8, r0, r1, r2 *int8, b, cout, nb int) {
	w, p := &d.w8[b*9*16], &d.params[b*dwParams]
	if d.path == pathGeneric {
		dw3x3bGeneric(out, r0, r1, r2, w, p, &d.hdr[0], d.p.OutW, d.p.InC, d.s, cout, d.flags, nb)
	} else {
		dw3x3b(out, r0, r1, r2, w, p, &d.hdr[0], d.p.OutW, d.p.InC, d.s, cout, d.flags, nb)
	}
}

// runDot is Run for the SDOT form: each input row is prepared once into a ring of four prepared
// rows (at stride 1, dwdot2 computes two output rows from four): by dwprep straight from src for
// the pixels whose taps are inside the row (and whose reads stay inside src), by dwprep4 from four
// pixel pointers (zdot in the padding) for the others, through a four-pixel stage when a read would
// pass the end of src; rows outside the image are zdot.
func (d *Depthwise) runDot(dst, src, scratch []int8, y0, y1 int) {
	p := &d.p
	c, rl := p.InC, d.dotRowLen()
	ring := scratch[:4*rl]
	stage := scratch[4*rl : 4*rl+d.stageLen()]
	tailOut := scratch[4*rl+d.stageLen():][:p.OutW*16]
	held := [4]int{-1, -1, -1, -1}
	var rows [4][]int8
	full := d.blocks
	if d.tailC > 0 {
		full--
	}
	for oy := y0; oy < y1; {
		// Two output rows at once (dwdot2) at stride 1: input rows oy-PadTop .. +3.
		nr := 1
		if d.s == 1 && oy+1 < y1 && full > 0 && d.dflags&dwWZ == 0 { // dwdot2: no weight zero point
			nr = 2
		}
		for ky := 0; ky < 2+nr; ky++ {
			iy := oy*d.s - p.PadTop + ky
			if iy < 0 || iy >= p.InH {
				rows[ky] = d.zdot
				continue
			}
			k := iy % 4
			rows[ky] = ring[k*rl : (k+1)*rl]
			if held[k] != iy {
				held[k] = iy
				d.prepRow(rows[ky], src, stage, iy)
			}
		}
		for r := 0; r < nr; r++ {
			out := dst[(oy+r)*p.OutW*c : (oy+r+1)*p.OutW*c]
			if nr == 2 && r == 0 {
				d.kernelDot2(&out[0], rows, p.OutW*c, full)
			} else if nr == 1 && full > 0 {
				d.kernelDot(&out[0], [3][]int8(rows[r:r+3]), 0, c, full)
			}
			if d.tailC > 0 {
				d.kernelDot(&tailOut[0], [3][]int8(rows[r:r+3]), d.blocks-1, 16, 1)
				o := 16 * (d.blocks - 1)
				for x := 0; x < p.OutW; x++ {
					copySmall(out[x*c+o:(x+1)*c], tailOut[16*x:16*x+d.tailC])
				}
			}
		}
		oy += nr
	}
}

// prepRow prepares input row iy into dst (dotRowLen bytes).
func (d *Depthwise) prepRow(dst, src, stage []int8, iy int) {
	p := &d.p
	c, s, n := p.InC, d.s, p.OutW
	prep := dwprep
	if d.path == pathGeneric {
		prep = dwprepGeneric
	}
	// Output pixel x reads padded pixels s*x .. s*x+3, that is input pixels s*x-PadLeft+j, bytes
	// [(iy*InW + s*x-PadLeft)*c, ... + 3*c + 16*blocks): directly from src when taps 0-2 are input
	// pixels (the fourth meets a zero weight) and the reads end inside src.
	row := iy * p.InW
	x0 := (p.PadLeft + s - 1) / s
	x1 := 0 // one past the last x with s*x-PadLeft+2 < InW
	if lim := p.InW - 3 + p.PadLeft; lim >= 0 {
		x1 = lim/s + 1
	}
	if lim := (len(src)-16*d.blocks)/c - 3 - row + p.PadLeft; len(src) < 16*d.blocks || lim < 0 {
		x1 = 0
	} else {
		x1 = min(x1, lim/s+1)
	}
	x1 = min(x1, n)
	if x0 < x1 {
		prep(&dst[64*x0], &src[(row+s*x0-p.PadLeft)*c], x1-x0, c, s, d.blocks, 64*n)
	} else {
		x0, x1 = n, n
	}
	for x := 0; x < n; x++ {
		if x == x0 {
			x = x1 - 1
			continue
		}
		// The four taps from their pixels (zdot in the padding), unless a read would pass the end
		// of src: then through the stage.
		var taps [4]*int8
		direct := true
		for j := range taps {
			taps[j] = &d.zdot[0]
			if ix := s*x - p.PadLeft + j; ix >= 0 && ix < p.InW {
				if o := (row + ix) * c; o+16*d.blocks <= len(src) {
					taps[j] = &src[o]
				} else {
					direct = false
				}
			}
		}
		if direct { // called directly, not through a func value: taps must not escape
			if d.path == pathGeneric {
				dwprep4Generic(&dst[64*x], &taps, d.blocks, 64*n)
			} else {
				dwprep4(&dst[64*x], &taps, d.blocks, 64*n)
			}
			continue
		}
		for j := 0; j < 4; j++ {
			px := stage[j*c : (j+1)*c]
			if ix := s*x - p.PadLeft + j; ix >= 0 && ix < p.InW {
				copy(px, src[(row+ix)*c:])
			} else {
				copy(px, d.zdot)
			}
		}
		prep(&dst[64*x], &stage[0], 1, c, s, d.blocks, 64*n)
	}
}

// kernelDot2 runs dwdot2 on the first nb blocks of two output rows, ostride bytes apart.
func (d *Depthwise) kernelDot2(out *int8, rows [4][]int8, ostride, nb int) {
	w, p, c := &d.wdot[0], &d.params[0], d.p.InC
	if d.path == pathGeneric {
		dwdot2Generic(out, &rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], w, p, &d.hdr[0], d.p.OutW, c, ostride, d.dflags, nb)
	} else {
		dwdot2(out, &rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], w, p, &d.hdr[0], d.p.OutW, c, ostride, d.dflags, nb)
	}
}

// kernelDot runs dwdot on nb blocks from block b, outputs cout bytes apart.
func (d *Depthwise) kernelDot(out *int8, rows [3][]int8, b, cout, nb int) {
	o := 64 * d.p.OutW * b
	w, p := &d.wdot[192*b], &d.params[b*dwParams]
	if d.path == pathGeneric {
		dwdotGeneric(out, &rows[0][o], &rows[1][o], &rows[2][o], w, p, &d.hdr[0], d.p.OutW, cout, d.dflags, nb)
	} else {
		dwdot(out, &rows[0][o], &rows[1][o], &rows[2][o], w, p, &d.hdr[0], d.p.OutW, cout, d.dflags, nb)
	}
}

// padCols returns the padded pixels [lo, hi) that hold input pixels (x - PadLeft); the others hold
// InZero.
func (d *Depthwise) padCols() (lo, hi int) {
	p := &d.p
	lo = min(p.PadLeft, d.wp)
	hi = min(max(p.InW+p.PadLeft, lo), d.wp)
	return lo, hi
}

// widenRow sign-extends len(dst) input values from src: whole vectors in assembly, the tail in Go.
func (d *Depthwise) widenRow(dst []int16, src []int8) {
	n := len(dst) / 16
	if n > 0 {
		if d.path == pathGeneric {
			widen16Generic(&dst[0], &src[0], n)
		} else {
			widen16(&dst[0], &src[0], n)
		}
	}
	for i := 16 * n; i < len(dst); i++ {
		dst[i] = int16(src[i])
	}
}

// kernel runs dw3x3 or dw5x5 on nb blocks from block b of the input rows, outputs cout bytes apart.
func (d *Depthwise) kernel(out *int8, rows *[5][]int16, b, cout, nb int) {
	o := 16 * b
	w, p := &d.w[b*d.k*d.k*16], &d.params[b*dwParams]
	if d.k == 5 {
		r := [5]*int16{&rows[0][o], &rows[1][o], &rows[2][o], &rows[3][o], &rows[4][o]}
		if d.path == pathGeneric {
			dw5x5Generic(out, &r, w, p, &d.hdr[0], d.p.OutW, d.p.InC, d.s, cout, d.flags, nb)
		} else {
			dw5x5(out, &r, w, p, &d.hdr[0], d.p.OutW, d.p.InC, d.s, cout, d.flags, nb)
		}
		return
	}
	r0, r1, r2 := &rows[0][o], &rows[1][o], &rows[2][o]
	if d.path == pathGeneric {
		dw3x3Generic(out, r0, r1, r2, w, p, &d.hdr[0], d.p.OutW, d.p.InC, d.s, cout, d.flags, nb)
	} else {
		dw3x3(out, r0, r1, r2, w, p, &d.hdr[0], d.p.OutW, d.p.InC, d.s, cout, d.flags, nb)
	}
}

// runGeneric is the direct loop for the shapes without a fast kernel (7x7 and non-square windows,
// strides above 2, multipliers above one, dilation). For each output pixel it takes the window's taps one at a time
// (bounds checked once per tap, not per channel) and accumulates a block of channels in a row of
// int32 on the stack, so that the inner loop walks input, weights and accumulators contiguously.
func (d *Depthwise) runGeneric(dst, src []int8, y0, y1 int) {
	p := &d.p
	oc, m := d.outC, p.Multiplier
	const block = 64
	var acc [block]int32
	for oy := y0; oy < y1; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			out := dst[(oy*p.OutW+ox)*oc:][:oc]
			for o0 := 0; o0 < oc; o0 += block {
				n := min(block, oc-o0)
				a := acc[:n]
				if p.Bias != nil {
					for k := range a {
						a[k] = p.Bias[o0+k]
					}
				} else {
					clear(a)
				}
				for ky := 0; ky < p.KH; ky++ {
					iy := oy*p.StrideH - p.PadTop + ky*p.DilH
					if iy < 0 || iy >= p.InH {
						continue
					}
					for kx := 0; kx < p.KW; kx++ {
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilW
						if ix < 0 || ix >= p.InW {
							continue
						}
						w := d.wsub[(ky*p.KW+kx)*oc+o0:][:n]
						pix := src[(iy*p.InW+ix)*p.InC:][:p.InC]
						if m == 1 {
							in := pix[o0:][:n]
							for k := range a {
								a[k] += (int32(in[k]) - p.InZero) * w[k]
							}
							continue
						}
						for k := range a {
							a[k] += (int32(pix[(o0+k)/m]) - p.InZero) * w[k]
						}
					}
				}
				for k, v := range a {
					o := o0 + k
					if p.Scale != nil {
						out[o] = requantFP32(v, atF(p.Scale, o), p.OutZero, p.ActMin, p.ActMax)
						continue
					}
					lsh, rsh := splitShift(at(p.Shift, o))
					out[o] = requant(v, at(p.Mult, o), int(lsh), int(-rsh), p.OutZero, p.ActMin, p.ActMax)
				}
			}
		}
	}
}

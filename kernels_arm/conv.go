package kernels

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// ConvParams describes one int8 NHWC batch-1 convolution with TensorFlow Lite's integer semantics:
//
//	acc[oy,ox,oc] = Bias[oc] + Σ_{ky,kx,ic in bounds} (in - InZero) * (w - WeightZero[oc])
//	out[oy,ox,oc] = clamp(MultiplyByQuantizedMultiplier(acc, Mult[oc], Shift[oc]) + OutZero, ActMin, ActMax)
//
// with in = input[oy*StrideH - PadTop + ky*DilH, ox*StrideW - PadLeft + kx*DilW, ic]. Padding
// positions contribute 0 (as if the input there were InZero).
//
// When Scale is set, the layer requantizes as XNNPACK does (its fp32 requantization, which is what
// TensorFlow Lite runs by default), and Mult and Shift are ignored (they may be nil):
//
//	v             = float32(acc) * Scale[oc]                       // IEEE float32, nearest even
//	out[oy,ox,oc] = clamp(roundHalfEven(v) + OutZero, ActMin, ActMax)
type ConvParams struct {
	InH, InW, InC, OutH, OutW, OutC      int
	KH, KW, StrideH, StrideW, DilH, DilW int
	PadTop, PadLeft                      int
	InZero                               int32   // input zero point
	Weights                              []int8  // OHWI, len OutC*KH*KW*InC
	WeightZero                           []int32 // len 1 or OutC; non-zero for converted TF1 uint8 models
	Bias                                 []int32 // len OutC, or nil
	Mult                                 []int32 // per output channel (or 1 for all): fixedpoint.QuantizeMultiplier
	Shift                                []int32 // per output channel (or 1 for all), >0 left
	OutZero, ActMin, ActMax              int32
	// Scale, if not nil, selects the fp32 requantization: per output channel (or 1 for all), the
	// real multiplier inScale*weightScale/outScale, finite and positive.
	Scale []float32
}

type convMode uint8

const (
	// modeTaps: InC is a multiple of 16; the A panel is gathered straight from the input, one pointer
	// per (row, tap), padding taps pointing at a row of InZero (indirect im2col, no copy).
	modeTaps convMode = iota
	// modeIm2col: other InC; each A row is first built in scratch (im2col) and zero-padded to 16.
	modeIm2col
	// modeRows: other InC, no horizontal dilation: each kernel row (KW*InC input bytes, contiguous
	// in the input) starts a new k-chunk, its weights zero-padded to whole chunks, so the A panel is
	// gathered straight from the input, one pointer per (row, kernel row). The bytes read past a
	// kernel row meet zero weights (wz with a weight zero point, cancelling them in the row sums);
	// rows at the left or right border, and reads that would pass the end of the input, are built in
	// scratch instead.
	modeRows
	// modeGather: other InC, no horizontal dilation, a kernel row of at most 16 bytes, at most 4
	// kernel rows, and fewer chunks for K than kernel rows (the 3x3 convolutions of 3 channels: 2
	// chunks, not modeRows' 3): each A row is gathered from 16 bytes at each kernel row's start by one
	// TBL per chunk (gatherRow) into K contiguous bytes, zero-padded; rows at the borders, and reads
	// that would pass the end of the input, are built in scratch (im2col).
	modeGather
)

// maxTaps bounds KH*KW for modeTaps: its pointer table lives on Run's stack.
const maxTaps = 64

// Conv is a convolution prepared for one instruction path, its weights packed. Run it from several
// goroutines on disjoint output rows, each with its own scratch.
type Conv struct {
	inH, inW, inC, outH, outW, outC int
	kh, kw, sh, sw, dh, dw, pt, pl  int
	inZero                          int32

	path      path
	mode      convMode
	k, kc     int // K = KH*KW*InC; kc = ceil(K/16) chunks of 16 (modeRows: KH*pc)
	pc        int // modeRows: chunks per kernel row, ceil(KW*InC/16)
	taps      int
	contig    bool // 1x1, stride 1, no padding, same width: A row m is input pixel m
	nr        int  // output channels per column tile
	fullTiles int
	tailN     int // output channels of the last, partial tile (0: none)
	tileW     int // packed weight bytes per tile
	tileP     int // int32 parameters per tile
	w         []int8
	params    []int32
	hdr       [8]int32
	flags     int
	zrow      []int8 // InZero, for padding
	tapOff    []int  // modeTaps, modeRows: byte offset of each tap (kernel row) from the first
	tapEnd    int    // bytes read from the first tap's start to the end of the last tap's read
	gidx      []byte // modeGather: the TBL indices, kc*16 (0xff: a zero byte)
	gOff      [4]int // modeGather: tapOff, 0 beyond KH
	wg        *wino  // Winograd F(2,3) when chosen (winograd.go); the direct kernel's fields unused
}

// errorf returns an error prefixed with the package name.
func errorf(format string, args ...any) error {
	return fmt.Errorf("kernels: "+format, args...)
}

// quantCheck validates the per-channel quantization common to all convolutions: mult and shift, or
// scale when it is not nil (then mult and shift are ignored).
func quantCheck(what string, nout int, inZero int32, wz, bias, mult, shift []int32, scale []float32, outZero, actMin, actMax int32) error {
	if inZero < -128 || inZero > 127 {
		return errorf("%s: input zero point %d outside [-128, 127]", what, inZero)
	}
	if outZero < -128 || outZero > 127 {
		return errorf("%s: output zero point %d outside [-128, 127]", what, outZero)
	}
	if actMin < -128 || actMax > 127 || actMin > actMax {
		return errorf("%s: activation range [%d, %d] not within [-128, 127]", what, actMin, actMax)
	}
	if len(wz) != 1 && len(wz) != nout {
		return errorf("%s: %d weight zero points for %d output channels (want 1 or %d)", what, len(wz), nout, nout)
	}
	for i, z := range wz {
		if z < -128 || z > 127 {
			return errorf("%s: weight zero point %d of channel %d outside [-128, 127]", what, z, i)
		}
	}
	if bias != nil && len(bias) != nout {
		return errorf("%s: %d biases for %d output channels", what, len(bias), nout)
	}
	if scale != nil {
		if len(scale) != 1 && len(scale) != nout {
			return errorf("%s: %d scales for %d output channels (want 1 or %d)", what, len(scale), nout, nout)
		}
		for i, sc := range scale {
			if !(sc > 0) || math.IsInf(float64(sc), 0) {
				return errorf("%s: scale %g of channel %d is not finite and positive", what, sc, i)
			}
		}
		return nil
	}
	if len(mult) != 1 && len(mult) != nout {
		return errorf("%s: %d multipliers for %d output channels (want 1 or %d)", what, len(mult), nout, nout)
	}
	if len(shift) != len(mult) {
		return errorf("%s: %d shifts for %d multipliers", what, len(shift), len(mult))
	}
	for i := range mult {
		if mult[i] < 0 {
			return errorf("%s: multiplier %d of channel %d is negative", what, mult[i], i)
		}
		if shift[i] < -31 || shift[i] > 31 {
			return errorf("%s: shift %d of channel %d outside [-31, 31]", what, shift[i], i)
		}
	}
	return nil
}

// sizeOK reports whether every dimension is at most 2^16 and their product at most 2^30, so that
// no index computation overflows an int, even on 32-bit platforms.
func sizeOK(dims ...int) bool {
	prod := int64(1)
	for _, d := range dims {
		if d > 1<<16 {
			return false
		}
		prod *= int64(max(d, 1))
	}
	return prod <= 1<<30
}

// at returns s[i], or s[0] when s holds one value for all channels.
func at(s []int32, i int) int32 {
	if len(s) == 1 {
		return s[0]
	}
	return s[i]
}

// atF returns s[i], or s[0] when s holds one value for all channels.
func atF(s []float32, i int) float32 {
	if len(s) == 1 {
		return s[0]
	}
	return s[i]
}

// chanQuant returns the epilogue parameters of output channel o as the kernels store them: the
// multiplier, negated right shift and left shift, or with fp32 (Scale set) the scale's float32 bits
// in the multiplier's place and no shifts.
func chanQuant(mult, shift []int32, scale []float32, o int) (m, rsh, lsh int32) {
	if scale != nil {
		return int32(math.Float32bits(atF(scale, o))), 0, 0
	}
	lsh, rsh = splitShift(at(shift, o))
	return at(mult, o), rsh, lsh
}

// splitShift splits a TFLite shift into the kernels' left shift and negated right shift.
func splitShift(shift int32) (lsh, rsh int32) {
	if shift > 0 {
		return shift, 0
	}
	return 0, shift
}

// NewConv validates p, packs its weights for the instruction path chosen now (Path) and returns the
// prepared convolution.
func NewConv(p ConvParams) (*Conv, error) { return newConv("conv", p) }

// newConv is NewConv with what naming the layer kind in errors.
func newConv(what string, p ConvParams) (*Conv, error) {
	if p.InH <= 0 || p.InW <= 0 || p.InC <= 0 || p.OutH <= 0 || p.OutW <= 0 || p.OutC <= 0 {
		return nil, errorf("%s: non-positive shape in %dx%dx%d -> %dx%dx%d", what, p.InH, p.InW, p.InC, p.OutH, p.OutW, p.OutC)
	}
	if p.KH <= 0 || p.KW <= 0 || p.StrideH <= 0 || p.StrideW <= 0 || p.DilH <= 0 || p.DilW <= 0 {
		return nil, errorf("%s: kernel %dx%d, stride %dx%d, dilation %dx%d must be positive", what, p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW)
	}
	if p.PadTop < 0 || p.PadLeft < 0 {
		return nil, errorf("%s: negative padding %d, %d", what, p.PadTop, p.PadLeft)
	}
	if !sizeOK(p.InH, p.InW, p.InC) || !sizeOK(p.OutH, p.OutW, p.OutC) || !sizeOK(p.KH, p.KW, p.InC, p.OutC) ||
		!sizeOK(p.StrideH, p.StrideW, p.DilH, p.DilW, p.PadTop+1, p.PadLeft+1) {
		return nil, errorf("%s: shape too large: %dx%dx%d -> %dx%dx%d, kernel %dx%d", what, p.InH, p.InW, p.InC, p.OutH, p.OutW, p.OutC, p.KH, p.KW)
	}
	k := p.KH * p.KW * p.InC
	if len(p.Weights) != p.OutC*k {
		return nil, errorf("%s: %d weights, want OutC*KH*KW*InC = %d", what, len(p.Weights), p.OutC*k)
	}
	if err := quantCheck(what, p.OutC, p.InZero, p.WeightZero, p.Bias, p.Mult, p.Shift, p.Scale, p.OutZero, p.ActMin, p.ActMax); err != nil {
		return nil, err
	}
	c := &Conv{
		inH: p.InH, inW: p.InW, inC: p.InC, outH: p.OutH, outW: p.OutW, outC: p.OutC,
		kh: p.KH, kw: p.KW, sh: p.StrideH, sw: p.StrideW, dh: p.DilH, dw: p.DilW, pt: p.PadTop, pl: p.PadLeft,
		inZero: p.InZero,
		path:   currentPath(),
		k:      k,
		kc:     (k + 15) / 16,
		taps:   p.KH * p.KW,
	}
	c.zrow = make([]int8, (max(p.KW*p.InC, 16)+15)/16*16)
	for i := range c.zrow {
		c.zrow[i] = int8(p.InZero)
	}
	c.hdr = makeHdr(p.OutZero, p.ActMin, p.ActMax)
	c.flags = epilogueFlags(&p)
	// Winograd where it wins on the SMLAL path: fp32 requantization, InC % 8 == 0 and OutC % 4 == 0
	// (the assembly transforms; other layers would take the slower Go ones). Chosen before the direct
	// kernel's mode and packing, which a Winograd layer does not use.
	auto := c.path == pathNEON && p.Scale != nil && p.InC%8 == 0 && p.OutC%4 == 0 && wgWins(&p)
	if wgEligible(&p) && (winogradUse == wgForce || winogradUse == wgAuto && auto) {
		c.wg = newWino(&p)
		return c, nil
	}
	c.mode = modeIm2col
	if p.InC%16 == 0 && c.taps <= maxTaps {
		c.mode = modeTaps
	} else if span := p.KW * p.InC; p.DilW == 1 && span <= 16 && p.KH <= 4 && c.kc < p.KH {
		c.mode = modeGather
		c.gidx = make([]byte, 48) // gatherA4 loads three chunks of indices
		for i := range c.gidx {
			c.gidx[i] = 0xff
			if i < k {
				c.gidx[i] = byte(i/span*16 + i%span)
			}
		}
	} else if pc := (p.KW*p.InC + 15) / 16; p.DilW == 1 && p.KH <= maxTaps && p.KH*pc <= 2*c.kc {
		// At most twice the k-chunks (3 instead of 2 for a 3x3 convolution of 3 channels).
		c.mode, c.pc, c.kc = modeRows, pc, p.KH*pc
	}
	c.contig = c.taps == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadTop == 0 && p.PadLeft == 0 &&
		p.InW == p.OutW && p.OutH <= p.InH
	switch c.mode {
	case modeTaps:
		for ky := 0; ky < p.KH; ky++ {
			for kx := 0; kx < p.KW; kx++ {
				c.tapOff = append(c.tapOff, (ky*p.DilH*p.InW+kx*p.DilW)*p.InC)
			}
		}
		c.tapEnd = c.tapOff[len(c.tapOff)-1] + p.InC
	case modeRows, modeGather:
		for ky := 0; ky < p.KH; ky++ {
			c.tapOff = append(c.tapOff, ky*p.DilH*p.InW*p.InC)
		}
		c.tapEnd = c.tapOff[len(c.tapOff)-1] + c.pc*16
		if c.mode == modeGather {
			c.tapEnd = c.tapOff[len(c.tapOff)-1] + 16
			copy(c.gOff[:], c.tapOff)
		}
	}
	c.pack(&p)
	return c, nil
}

// epilogueFlags returns the flags of the layer's epilogue, read by the direct kernels and by
// Winograd alike: flagLSH, flagWZ, flagFP32 or flagFastRQ, flagNoMin, flagNoMax.
func epilogueFlags(p *ConvParams) int {
	flags, fast := 0, true
	for o := 0; o < p.OutC; o++ {
		_, rsh, lsh := chanQuant(p.Mult, p.Shift, p.Scale, o)
		if lsh > 0 {
			flags |= flagLSH
		}
		if rsh > -1 {
			fast = false
		}
		if at(p.WeightZero, o) != 0 {
			flags |= flagWZ
		}
	}
	switch {
	case p.Scale != nil:
		flags |= flagFP32
	case fast:
		flags |= flagFastRQ
	}
	if p.ActMin == math.MinInt8 {
		flags |= flagNoMin
	}
	if p.ActMax == math.MaxInt8 {
		flags |= flagNoMax
	}
	return flags
}

// pack lays the weights and per-channel parameters out for c.path (README.md, "Packing"), and adds
// the flags that depend on the packed weights (flagSafe, flagVNNI) to epilogueFlags'.
func (c *Conv) pack(p *ConvParams) {
	n, k, kc := p.OutC, c.k, c.kc
	if c.path == pathNEON {
		c.nr, c.tileW, c.tileP = mlalNR, kc*256, mlalParams
	} else {
		c.nr, c.tileW, c.tileP = sdotNR, kc*256, sdotParams
	}
	tiles := (n + c.nr - 1) / c.nr
	c.fullTiles, c.tailN = n/c.nr, n%c.nr
	c.w = make([]int8, tiles*c.tileW)
	c.params = make([]int32, tiles*c.tileP)
	zi := p.InZero
	for o := 0; o < n; o++ {
		j, v := o/c.nr, o%c.nr
		wo := p.Weights[o*k : (o+1)*k]
		wz := at(p.WeightZero, o)
		// put stores weight x at position q of the channel's kc*16 k positions.
		put := func(q int, x int8) {
			ch, r := q/16, q%16
			if c.path == pathNEON { // gemmMLAL: rotation rot, column group v/4, byte (r-2rot) mod 16
				rot := (r/2 - v%4) & 3
				c.w[j*c.tileW+ch*256+rot*64+v/4*16+((r-2*rot)&15)] = x
			} else {
				c.w[j*c.tileW+ch*256+r/4*64+v*4+r%4] = x
			}
		}
		if wz != 0 {
			// The positions no weight takes (beyond K, between modeRows' kernel rows) hold wz:
			// whatever A byte a meets one there (zero padding, InZero, the next pixel's bytes)
			// adds a*wz, and the row sum's -wz*a takes it away again.
			for q := 0; q < kc*16; q++ {
				put(q, int8(wz))
			}
			if wz == math.MinInt8 && c.path == pathNEON && kc*16 > k {
				c.params[j*c.tileP] |= mlalTileSafe
				c.flags |= flagSafe
			}
		}
		var sum int32
		for i, x := range wo {
			sum += int32(x)
			q := i
			if c.mode == modeRows { // kernel row ky starts chunk ky*pc
				span := c.kw * c.inC
				q = i/span*c.pc*16 + i%span
			}
			put(q, x)
		}
		var bias int32
		if p.Bias != nil {
			bias = p.Bias[o]
		}
		// Σ (a - zi)(w - wz) = Σ a*w - wz*Σa - zi*Σw + K*zi*wz: the kernels compute Σ a*w (and wz*Σa).
		bias = bias - zi*sum + int32(k)*zi*wz
		mult, rsh, lsh := chanQuant(p.Mult, p.Shift, p.Scale, o)
		pt := c.params[j*c.tileP : (j+1)*c.tileP]
		if c.path == pathNEON {
			for _, x := range wo {
				if x == math.MinInt8 {
					pt[0] |= mlalTileSafe
					c.flags |= flagSafe
				}
			}
			pt = pt[4:] // then as on the SDOT path
		}
		pt[v], pt[16+v], pt[32+v], pt[48+v], pt[64+v] = bias, mult, rsh, lsh, wz
	}
	if c.path == pathSDOT && useVNNI {
		// amd64's VNNI loop: the weights stored plus 128 (w^0x80), its unsigned operand.
		c.flags |= flagVNNI
		for i := range c.w {
			c.w[i] ^= math.MinInt8
		}
	}
}

// panelLen is the length of the A panel: [kc][4][16] for 4 rows, four times that for the rotations
// of packA4R on the SMLAL path, kc*96 bytes for gemmSDOT6P's 6 rows on the SDOT path and 32 for
// its row sums.
func (c *Conv) panelLen() int {
	if c.path == pathNEON {
		return 16 * c.kc * 16
	}
	if c.path == pathSDOT { // gemmSDOT6P's
		return 6*c.kc*16 + 32
	}
	return 4 * c.kc * 16
}

// ScratchSize is the number of bytes of scratch one concurrent Run needs: the A panel, 4 rows to
// build A rows in, the column tail tile.
func (c *Conv) ScratchSize() int {
	if c.wg != nil {
		return c.wgScratch()
	}
	n := c.panelLen() + 4*c.kc*16 + 4*c.nr
	if c.gatherRuns() {
		n += gatherPix * c.kc * 16
	}
	return n
}

// gatherPix is the number of A rows runGather gathers before one gemmSDOT4P or gemmMLAL4P call.
const gatherPix = 64

// gatherRuns reports whether Run takes runGather: modeGather on an assembly path, no column tail.
func (c *Conv) gatherRuns() bool {
	return c.mode == modeGather && c.path != pathGeneric && c.tailN == 0
}

// Path names the instruction path the convolution was prepared for: "sdot", "neon", "avx2" or "generic".
func (c *Conv) Path() string { return c.path.String() }

// errShort is the panic value of Run when a buffer is too short: a caller bug, not bad model data.
var errShort = errors.New("kernels: Run: dst, src or scratch shorter than the layer needs")

// Run computes output rows [y0, y1) (clamped to [0, OutH)) of dst from src (both NHWC, batch 1). It
// does not allocate. It panics if dst, src or scratch is too short (see ScratchSize).
func (c *Conv) Run(dst, src, scratch []int8, y0, y1 int) {
	y0, y1 = max(y0, 0), min(y1, c.outH)
	if y0 >= y1 {
		return
	}
	c.RunPixels(dst, src, scratch, y0*c.outW, y1*c.outW)
}

// Pixels is the number of output pixels, OutH·OutW: the range of RunPixels.
func (c *Conv) Pixels() int { return c.outH * c.outW }

// SplitAlign is the block of output pixels that parts of a layer shared by RunPixels should start
// at multiples of: 4, the direct kernels' panels, or 2·OutW under Winograd, whose tiles span two
// output rows (a range that starts or ends inside a tile row computes that tile row whole).
func (c *Conv) SplitAlign() int {
	if c.wg != nil {
		return 2 * c.outW
	}
	return 4
}

// RunPixels computes output pixels [m0, m1) (row-major, clamped to [0, Pixels())) of dst, as Run
// does for whole rows: workers can share a layer by pixels rather than rows, so that a 7×7 output
// splits into four near-equal parts. Ranges that start at a multiple of 4 keep the 4-pixel panels
// of Run; any range is correct. A Winograd layer (see Winograd) computes the whole rows that hold
// the range.
func (c *Conv) RunPixels(dst, src, scratch []int8, m0, m1 int) {
	m0, m1 = max(m0, 0), min(m1, c.outH*c.outW)
	if m0 >= m1 {
		return
	}
	if len(dst) < c.outH*c.outW*c.outC || len(src) < c.inH*c.inW*c.inC || len(scratch) < c.ScratchSize() {
		panic(errShort)
	}
	if c.wg != nil {
		// Winograd works in whole rows (tiles of 2): the rows that hold [m0, m1), all of them.
		c.runWino(dst, src, scratch, m0/c.outW, (m1+c.outW-1)/c.outW)
		return
	}
	kp, pl := c.kc*16, c.panelLen()
	panel := scratch[:pl]
	rowbuf := scratch[pl : pl+4*kp]
	tail := scratch[pl+4*kp : pl+4*kp+4*c.nr]
	var ptrs [4 * maxTaps]*int8
	var rs [4]int32
	var sums *int32
	if c.flags&flagWZ != 0 {
		sums = &rs[0]
	}
	m := m0
	if c.contig && (c.mode == modeTaps || c.mode == modeRows) && c.path != pathGeneric {
		m = c.runContig(dst, src, &panel[0], tail, m, m1, sums != nil)
	}
	if c.gatherRuns() {
		m = c.runGather(dst, src, &panel[0], scratch[pl+4*kp+4*c.nr:], m, m1)
	}
	base := unsafe.Pointer(unsafe.SliceData(src))
	oy, ox := m/c.outW, m%c.outW // of pixel m
	ekh, ekw := (c.kh-1)*c.dh+1, (c.kw-1)*c.dw+1
	for ; m+4 <= m1; m, ox = m+4, ox+4 {
		for ox >= c.outW {
			oy, ox = oy+1, ox-c.outW
		}
		ntaps, kcTap := 1, c.kc
		iy0, ix0 := oy*c.sh-c.pt, ox*c.sw-c.pl
		off := (iy0*c.inW + ix0) * c.inC
		switch {
		case c.mode == modeTaps && c.contig:
			ntaps, kcTap = 1, c.inC/16
			for r := 0; r < 4; r++ {
				ptrs[r] = &src[(m+r)*c.inC]
			}
		case c.mode == modeGather:
			c.gather4(rowbuf, src, m, ox, iy0, ix0, off)
			ntaps, kcTap = 1, c.kc
			for r := 0; r < 4; r++ {
				ptrs[r] = &rowbuf[r*kp]
			}
		case c.mode != modeIm2col && ox+3 < c.outW && iy0 >= 0 && iy0+ekh <= c.inH && ix0 >= 0 &&
			ix0+3*c.sw+ekw <= c.inW && off+3*c.sw*c.inC+c.tapEnd <= len(src):
			// Four pixels of one output row, all their taps inside the input: pointers by addition.
			ntaps, kcTap = len(c.tapOff), c.inC/16
			if c.mode == modeRows {
				kcTap = c.pc
			}
			step := c.sw * c.inC
			for t, o := range c.tapOff {
				p := unsafe.Add(base, off+o) // in src: checked above
				ptrs[4*t] = (*int8)(p)
				ptrs[4*t+1] = (*int8)(unsafe.Add(p, step))
				ptrs[4*t+2] = (*int8)(unsafe.Add(p, 2*step))
				ptrs[4*t+3] = (*int8)(unsafe.Add(p, 3*step))
			}
		case c.mode == modeTaps:
			ntaps, kcTap = c.taps, c.inC/16
			for r := 0; r < 4; r++ {
				c.tapPointers(ptrs[:], r, m+r, src)
			}
		case c.mode == modeRows:
			ntaps, kcTap = c.kh, c.pc
			c.rowPointers4(&ptrs, m, src, rowbuf)
		default:
			for r := 0; r < 4; r++ {
				c.buildRow(rowbuf[r*kp:(r+1)*kp], src, m+r)
				ptrs[r] = &rowbuf[r*kp]
			}
		}
		switch c.path {
		case pathGeneric:
			packA4Generic(&panel[0], &ptrs[0], ntaps, kcTap, sums)
		case pathNEON:
			packA4R(&panel[0], &ptrs[0], ntaps, kcTap, sums)
		default:
			packA4(&panel[0], &ptrs[0], ntaps, kcTap, sums)
		}
		if c.tailN == 0 && c.path != pathGeneric {
			// Full column tiles only: the rows of dst without bounds checks (len(dst) checked above).
			d, n := unsafe.Pointer(unsafe.SliceData(dst)), c.outC
			d = unsafe.Add(d, m*n)
			rows := [4]*int8{(*int8)(d), (*int8)(unsafe.Add(d, n)), (*int8)(unsafe.Add(d, 2*n)), (*int8)(unsafe.Add(d, 3*n))}
			switch c.path { // the micro-kernel directly (c.kernel, without its switch on mr)
			case pathSDOT:
				gemmSDOT4(&panel[0], c.kc, &c.w[0], &c.params[0], &c.hdr[0], &rs[0], rows[0], rows[1], rows[2], rows[3], c.fullTiles, c.flags)
			default:
				gemmMLAL4(&panel[0], c.kc, &c.w[0], &c.params[0], &c.hdr[0], &rs[0], rows[0], rows[1], rows[2], rows[3], c.fullTiles, c.flags)
			}
			continue
		}
		c.gemm(4, &panel[0], dst, m, &rs, tail)
	}
	for ; m < m1; m++ {
		var a *int8
		if c.mode == modeTaps && c.taps == 1 {
			// 1x1: the row is the input pixel itself (kc*16 == InC), or a row of InZero.
			row := c.zrow[:c.inC]
			if iy, ix := m/c.outW*c.sh-c.pt, m%c.outW*c.sw-c.pl; iy >= 0 && iy < c.inH && ix >= 0 && ix < c.inW {
				row = src[(iy*c.inW+ix)*c.inC:][:c.inC]
			}
			a = &row[0]
			if sums != nil {
				rs[0] = 0
				for _, x := range row {
					rs[0] += int32(x)
				}
			}
		} else {
			row := rowbuf[:kp]
			c.buildRow(row, src, m)
			a = &row[0]
			if sums != nil {
				rs[0] = 0
				for _, x := range row {
					rs[0] += int32(x)
				}
			}
		}
		c.gemm(1, a, dst, m, &rs, tail)
	}
}

// tapPointers sets ptrs[4t+r] to the input pixel read by tap t for output pixel m (a row of InZero
// when it falls in the padding).
func (c *Conv) tapPointers(ptrs []*int8, r, m int, src []int8) {
	oy, ox := m/c.outW, m%c.outW
	if iy0, ix0 := oy*c.sh-c.pt, ox*c.sw-c.pl; iy0 >= 0 && iy0+(c.kh-1)*c.dh < c.inH && ix0 >= 0 && ix0+(c.kw-1)*c.dw < c.inW {
		// Every tap inside the input: the prepared offsets.
		px := src[(iy0*c.inW+ix0)*c.inC:]
		for t, o := range c.tapOff {
			ptrs[4*t+r] = &px[o]
		}
		return
	}
	t := 0
	for ky := 0; ky < c.kh; ky++ {
		iy := oy*c.sh - c.pt + ky*c.dh
		for kx := 0; kx < c.kw; kx++ {
			ix := ox*c.sw - c.pl + kx*c.dw
			if iy >= 0 && iy < c.inH && ix >= 0 && ix < c.inW {
				ptrs[4*t+r] = &src[(iy*c.inW+ix)*c.inC]
			} else {
				ptrs[4*t+r] = &c.zrow[0]
			}
			t++
		}
	}
}

// runContig computes the 4-pixel panels from pixel m up to m1 of a 1x1 stride-1 convolution (the
// common pointwise layer; with InC not a multiple of 16, modeRows, the kc*16 bytes read from a pixel
// run into the next, meeting zero weights) with little per-panel work, and returns the first pixel
// left over: also the panels whose reads would pass the end of src. The column tail goes through
// the scratch tile tail. Run has checked the lengths of dst and src.
func (c *Conv) runContig(dst, src []int8, panel *int8, tail []int8, m, m1 int, rowSums bool) int {
	var rs [4]int32
	var sp *int32
	if rowSums {
		sp = &rs[0]
	}
	sbase, dbase := unsafe.Pointer(unsafe.SliceData(src)), unsafe.Pointer(unsafe.SliceData(dst))
	inC, n, kcTap := c.inC, c.outC, c.kc
	if len(src) < kcTap*16 {
		return m
	}
	m1 = min(m1, (len(src)-kcTap*16)/inC+1) // pixel m1-1 reads kc*16 bytes inside src
	w, params, hdr := &c.w[0], &c.params[0], &c.hdr[0]
	sdot := c.path == pathSDOT
	if np := (m1 - m) / 4; np > 0 && c.tailN == 0 {
		// The whole range in one call: the kernel packs each panel itself (and sums its rows
		// with a weight zero point).
		s, d := (*int8)(unsafe.Add(sbase, m*inC)), (*int8)(unsafe.Add(dbase, m*n))
		if sdot {
			c.panelsSDOT(s, inC, d, 4*np, panel)
		} else {
			gemmMLAL4P(s, inC, d, n, np, panel, c.kc, w, params, hdr, c.fullTiles, c.flags)
		}
		return m + 4*np
	}
	for ; m+4 <= m1; m += 4 {
		s := unsafe.Add(sbase, m*inC) // pixels m..m+3: in src (m1 <= OutH*OutW <= InH*InW)
		ptrs := [4]*int8{(*int8)(s), (*int8)(unsafe.Add(s, inC)), (*int8)(unsafe.Add(s, 2*inC)), (*int8)(unsafe.Add(s, 3*inC))}
		if sdot {
			packA4(panel, &ptrs[0], 1, kcTap, sp)
		} else {
			packA4R(panel, &ptrs[0], 1, kcTap, sp)
		}
		d := unsafe.Add(dbase, m*n)
		r0, r1, r2, r3 := (*int8)(d), (*int8)(unsafe.Add(d, n)), (*int8)(unsafe.Add(d, 2*n)), (*int8)(unsafe.Add(d, 3*n))
		if c.fullTiles > 0 {
			if sdot {
				gemmSDOT4(panel, c.kc, w, params, hdr, &rs[0], r0, r1, r2, r3, c.fullTiles, c.flags)
			} else {
				gemmMLAL4(panel, c.kc, w, params, hdr, &rs[0], r0, r1, r2, r3, c.fullTiles, c.flags)
			}
		}
		if c.tailN > 0 {
			rows := [4]*int8{&tail[0], &tail[c.nr], &tail[2*c.nr], &tail[3*c.nr]}
			c.kernel(4, panel, &c.w[c.fullTiles*c.tileW], &c.params[c.fullTiles*c.tileP], &rs[0], rows, 1)
			o := c.fullTiles * c.nr
			for r := 0; r < 4; r++ {
				copySmall(dst[(m+r)*n+o:(m+r+1)*n], tail[r*c.nr:r*c.nr+c.tailN])
			}
		}
	}
	return m
}

// panelsSDOT computes rows output pixels (a multiple of 4) from the A rows at s, inC bytes apart,
// into the rows at d (OutC bytes apart), without column tail: by gemmSDOT6P in panels of 6 when it
// applies (fp32 requantization), gemmSDOT4P for the rest.
func (c *Conv) panelsSDOT(s *int8, inC int, d *int8, rows int, panel *int8) {
	n := c.outC
	if c.flags&flagFP32 != 0 {
		n6 := rows / 6
		if rows-6*n6 == 2 { // 8 rows by gemmSDOT4P
			n6--
		}
		if n6 > 0 {
			gemmSDOT6P(s, inC, d, n, n6, panel, c.kc, &c.w[0], &c.params[0], &c.hdr[0], c.fullTiles, c.flags)
			s, d, rows = (*int8)(unsafe.Add(unsafe.Pointer(s), 6*n6*inC)), (*int8)(unsafe.Add(unsafe.Pointer(d), 6*n6*n)), rows-6*n6
		}
	}
	if rows > 0 {
		gemmSDOT4P(s, inC, d, n, rows/4, panel, c.kc, &c.w[0], &c.params[0], &c.hdr[0], c.fullTiles, c.flags)
	}
}

// rowPointers4 sets ptrs[4*ky+r] to the input bytes of kernel row ky of output pixel m+r, r < 4
// (modeRows): a pointer into src, into the row of InZero (vertical padding), or into rowbuf, where
// the pixel's A row is built instead when it meets horizontal padding or the end of src.
func (c *Conv) rowPointers4(ptrs *[4 * maxTaps]*int8, m int, src, rowbuf []int8) {
	outW, sw, pl, kw, inW, inC := c.outW, c.sw, c.pl, c.kw, c.inW, c.inC
	sh, pt, dh, kh, inH := c.sh, c.pt, c.dh, c.kh, c.inH
	oy, ox := m/outW, m%outW
	base, z, end := unsafe.Pointer(unsafe.SliceData(src)), &c.zrow[0], len(src)
	n, step := c.pc*16, dh*inW*inC
	var todo [4]bool
	for r := 0; r < 4; r, ox = r+1, ox+1 {
		if ox == outW {
			oy, ox = oy+1, 0
		}
		ix0 := ox*sw - pl
		if ix0 < 0 || ix0+kw > inW {
			todo[r] = true
			continue
		}
		iy := oy*sh - pt
		off := (iy*inW + ix0) * inC
		p := ptrs[r:]
		for ky := 0; ky < kh; ky, iy, off = ky+1, iy+dh, off+step {
			if uint(iy) >= uint(inH) {
				p[4*ky] = z
				continue
			}
			if off+n > end {
				todo[r] = true
				break
			}
			p[4*ky] = (*int8)(unsafe.Add(base, off)) // in src: 0 <= off, off+n <= len(src)
		}
	}
	for r, b := range todo {
		if b {
			kp := c.kc * 16
			row := rowbuf[r*kp : (r+1)*kp]
			c.buildRow(row, src, m+r)
			for ky := 0; ky < kh; ky++ {
				ptrs[4*ky+r] = &row[ky*n]
			}
		}
	}
}

// gather4 writes the A rows of output pixels m..m+3 (modeGather) into rowbuf, kc*16 bytes apart:
// by gatherA4 from the kernel rows (pointers by addition when the four pixels lie in one output row
// with every read inside the input, per pixel otherwise), by buildRow for the pixels gatherPtrs
// rejects. (oy, ox) is pixel m, (iy0, ix0) its window's corner and off that corner's byte offset.
func (c *Conv) gather4(rowbuf, src []int8, m, ox, iy0, ix0, off int) {
	var g [16]*int8
	if ox+3 < c.outW && iy0 >= 0 && iy0+(c.kh-1)*c.dh+1 <= c.inH && ix0 >= 0 && ix0+3*c.sw+c.kw <= c.inW &&
		off+3*c.sw*c.inC+c.tapEnd <= len(src) {
		base, step := unsafe.Add(unsafe.Pointer(unsafe.SliceData(src)), off), uintptr(c.sw*c.inC)
		z := unsafe.Pointer(&c.zrow[0])
		for ky := range 4 {
			p, s := unsafe.Add(base, c.gOff[ky]), step // in src: checked above
			if ky >= c.kh {
				p, s = z, 0
			}
			g[ky], g[4+ky], g[8+ky], g[12+ky] = (*int8)(p), (*int8)(unsafe.Add(p, s)), (*int8)(unsafe.Add(p, 2*s)), (*int8)(unsafe.Add(p, 3*s))
		}
		c.gatherKernel(rowbuf, &g)
		return
	}
	var todo [4]bool
	for r := range todo {
		todo[r] = !c.gatherPtrs(&g, r, m+r, src)
	}
	c.gatherKernel(rowbuf, &g)
	kp := c.kc * 16
	for r, b := range todo {
		if b {
			c.buildRow(rowbuf[r*kp:(r+1)*kp], src, m+r)
		}
	}
}

// gatherKernel runs gatherA4 (or its twin) into rowbuf.
func (c *Conv) gatherKernel(rowbuf []int8, g *[16]*int8) {
	if c.path == pathGeneric {
		gatherA4Generic(&rowbuf[0], &g[0], &c.gidx[0], c.kc)
	} else {
		gatherA4(&rowbuf[0], &g[0], &c.gidx[0], c.kc)
	}
}

// runGather computes the 4-pixel panels from pixel m up to m1 of a modeGather convolution
// (gatherRuns): the A rows of up to gatherPix pixels are gathered into gbuf, by gatherRun for the
// pixels of one output row whose kernel rows lie inside the input (the rows of InZero for vertical
// padding), per pixel (gatherPtrs, buildRow) for the others, and then computed by one
// gemmSDOT4P/gemmMLAL4P call. It returns the first pixel left over (fewer than 4).
func (c *Conv) runGather(dst, src []int8, panel *int8, gbuf []int8, m, m1 int) int {
	kp, n := c.kc*16, c.outC
	step := c.sw * c.inC
	for m+4 <= m1 {
		g := min(gatherPix, (m1-m)/4*4)
		for i := 0; i < g; {
			p := m + i
			oy, ox := p/c.outW, p%c.outW
			// The pixels ox.. of this output row whose reads stay inside the input.
			iy, ix0 := oy*c.sh-c.pt, ox*c.sw-c.pl
			run := 0
			if ix0 >= 0 {
				last := min(g-i, c.outW-ox) // pixels of this row in the group
				// Horizontally inside: ix0 + (run-1)*sw + kw <= inW.
				run = min(last, (c.inW-c.kw-ix0)/c.sw+1)
				if c.inW-c.kw-ix0 < 0 {
					run = 0
				}
			}
			var ptrs [4]*int8
			var steps [4]int
			if run > 0 {
				for ky := range ptrs {
					ptrs[ky] = &c.zrow[0]
					if y := iy + ky*c.dh; ky < c.kh && y >= 0 && y < c.inH {
						off := (y*c.inW + ix0) * c.inC
						// The last pixel reads 16 bytes at off + (run-1)*step.
						if lim := len(src) - 16 - off; lim < 0 {
							run = 0
						} else {
							run = min(run, lim/step+1)
						}
						ptrs[ky], steps[ky] = &src[min(off, len(src)-1)], step
					}
				}
			}
			if run == 0 {
				var gp [16]*int8
				row := gbuf[i*kp : (i+1)*kp]
				if c.gatherPtrs(&gp, 0, p, src) {
					c.gatherKernelRun(row, (*[4]*int8)(gp[:4]), &steps, 1)
				} else {
					c.buildRow(row, src, p)
				}
				i++
				continue
			}
			c.gatherKernelRun(gbuf[i*kp:(i+run)*kp], &ptrs, &steps, run)
			i += run
		}
		d := &dst[m*n]
		if c.path == pathSDOT {
			c.panelsSDOT(&gbuf[0], kp, d, g, panel)
		} else {
			gemmMLAL4P(&gbuf[0], kp, d, n, g/4, panel, c.kc, &c.w[0], &c.params[0], &c.hdr[0], c.fullTiles, c.flags)
		}
		m += g
	}
	return m
}

// gatherKernelRun runs gatherRun (or its twin) for npix pixels into dst.
func (c *Conv) gatherKernelRun(dst []int8, ptrs *[4]*int8, steps *[4]int, npix int) {
	if c.path == pathGeneric {
		gatherRunGeneric(&dst[0], ptrs, steps, &c.gidx[0], c.kc, npix)
	} else {
		gatherRun(&dst[0], ptrs, steps, &c.gidx[0], c.kc, npix)
	}
}

// gatherPtrs sets g[4r..4r+3] to the kernel rows of output pixel m (modeGather; the row of InZero
// for vertical padding and for ky >= KH) and reports true, or false when the pixel meets horizontal
// padding or a read of 16 bytes would pass the end of src (then buildRow must write its A row).
func (c *Conv) gatherPtrs(g *[16]*int8, r, m int, src []int8) bool {
	oy, ox := m/c.outW, m%c.outW
	ix0, iy := ox*c.sw-c.pl, oy*c.sh-c.pt
	p := g[4*r : 4*r+4]
	for ky := range p {
		p[ky] = &c.zrow[0]
	}
	if ix0 < 0 || ix0+c.kw > c.inW {
		return false
	}
	for ky := 0; ky < c.kh; ky++ {
		y := iy + ky*c.dh
		if y < 0 || y >= c.inH {
			continue
		}
		off := (y*c.inW + ix0) * c.inC
		if off+16 > len(src) {
			return false
		}
		p[ky] = &src[off]
	}
	return true
}

// buildRow writes the im2col row of output pixel m: the KH*KW*InC inputs it reads, InZero in the
// padding, then zeros up to the multiple of 16 (modeRows: each kernel row from a chunk boundary).
func (c *Conv) buildRow(row, src []int8, m int) {
	oy, ox := m/c.outW, m%c.outW
	pos, span := 0, c.kw*c.inC
	for ky := 0; ky < c.kh; ky++ {
		if c.mode == modeRows { // each kernel row starts a chunk; zeros in between (not modeGather)
			clear(row[pos : ky*c.pc*16])
			pos = ky * c.pc * 16
		}
		iy := oy*c.sh - c.pt + ky*c.dh
		if iy < 0 || iy >= c.inH {
			copy(row[pos:pos+span], c.zrow)
			pos += span
			continue
		}
		ix0 := ox*c.sw - c.pl
		if c.dw == 1 && ix0 >= 0 && ix0+c.kw <= c.inW {
			copy(row[pos:pos+span], src[(iy*c.inW+ix0)*c.inC:])
			pos += span
			continue
		}
		for kx := 0; kx < c.kw; kx++ {
			ix := ix0 + kx*c.dw
			if ix >= 0 && ix < c.inW {
				copy(row[pos:pos+c.inC], src[(iy*c.inW+ix)*c.inC:])
			} else {
				copy(row[pos:pos+c.inC], c.zrow)
			}
			pos += c.inC
		}
	}
	clear(row[pos:])
}

// gemm runs the micro-kernel of c.path on an A panel of mr rows (output pixels m..m+mr-1): the full
// column tiles straight into dst, the partial last tile through the scratch tile tail.
func (c *Conv) gemm(mr int, a *int8, dst []int8, m int, rs *[4]int32, tail []int8) {
	n := c.outC
	var rows [4]*int8
	if c.fullTiles > 0 {
		for r := 0; r < 4; r++ {
			rows[r] = &dst[(m+min(r, mr-1))*n]
		}
		c.kernel(mr, a, &c.w[0], &c.params[0], &rs[0], rows, c.fullTiles)
	}
	if c.tailN > 0 {
		for r := 0; r < 4; r++ {
			rows[r] = &tail[r*c.nr]
		}
		c.kernel(mr, a, &c.w[c.fullTiles*c.tileW], &c.params[c.fullTiles*c.tileP], &rs[0], rows, 1)
		o := c.fullTiles * c.nr
		for r := 0; r < mr; r++ {
			copySmall(dst[(m+r)*n+o:(m+r+1)*n], tail[r*c.nr:r*c.nr+c.tailN])
		}
	}
}

// copySmall is copy for the tails of at most 16 bytes (len(src) >= len(dst)): 8-byte moves, not a
// call of memmove per row.
func copySmall(dst, src []int8) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		*(*[8]int8)(dst[i:]) = *(*[8]int8)(src[i:])
	}
	for ; i < len(dst); i++ {
		dst[i] = src[i]
	}
}

// kernel calls the micro-kernel directly (not through a func value, so that the pointers into Run's
// stack do not escape).
func (c *Conv) kernel(mr int, a, w *int8, p, rs *int32, rows [4]*int8, ntiles int) {
	switch {
	case c.path == pathSDOT && mr == 4:
		gemmSDOT4(a, c.kc, w, p, &c.hdr[0], rs, rows[0], rows[1], rows[2], rows[3], ntiles, c.flags)
	case c.path == pathSDOT:
		gemmSDOT1(a, c.kc, w, p, &c.hdr[0], rs, rows[0], rows[1], rows[2], rows[3], ntiles, c.flags)
	case c.path == pathNEON && mr == 4:
		gemmMLAL4(a, c.kc, w, p, &c.hdr[0], rs, rows[0], rows[1], rows[2], rows[3], ntiles, c.flags)
	case c.path == pathNEON:
		gemmMLAL1(a, c.kc, w, p, &c.hdr[0], rs, rows[0], rows[1], rows[2], rows[3], ntiles, c.flags)
	default:
		gemmSDOTGeneric(mr, a, c.kc, w, p, &c.hdr[0], rs, rows[0], rows[1], rows[2], rows[3], ntiles, c.flags)
	}
}

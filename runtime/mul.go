package runtime

import (
	"math"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
	"github.com/edgeinfer/edgeinfer/models"
)

// Mul: TensorFlow Lite's 8-bit MUL (kernels/mul.cc), element by element with NumPy broadcasting, as
// squeeze-excitation (x * sigmoid(fc(pool(x))): [N,H,W,C] * [N,1,1,C]), swish and per-channel affine
// layers use it.

func init() {
	preparers[models.OpMul] = prepareMul
}

// maxBroadcastRank is the largest rank Mul broadcasts over (TensorFlow Lite's limit is 6).
const maxBroadcastRank = 6

// broadcast is the iteration plan of a binary op with NumPy broadcasting: the output's dimensions,
// left-padded with ones to maxBroadcastRank, and each input's element strides along them (0 where the
// input is broadcast). Adjacent dimensions that broadcast alike are merged, so that the innermost loop
// is as long as possible.
type broadcast struct {
	dims       [maxBroadcastRank]int
	aStr, bStr [maxBroadcastRank]int
	n          int // elements of the output
}

// newBroadcast plans out = f(a, b) for shapes that broadcast to out (checked by the caller).
func newBroadcast(a, b, out []int) (*broadcast, bool) {
	r := len(out)
	if r > maxBroadcastRank {
		return nil, false
	}
	// Strides of each input in its own layout, aligned right with the output.
	stride := func(s []int) []int {
		st := make([]int, r)
		acc := 1
		for i := r - 1; i >= 0; i-- {
			j := i - (r - len(s))
			if j < 0 || s[j] == 1 {
				continue
			}
			st[i] = acc
			acc *= s[j]
		}
		return st
	}
	as, bs := stride(a), stride(b)
	// Merge dimension i into i+1 (the inner one) when both inputs step contiguously across them.
	type dim struct{ n, a, b int }
	var ds []dim
	for i := range r {
		d := dim{out[i], as[i], bs[i]}
		if d.n == 1 {
			continue
		}
		if k := len(ds) - 1; k >= 0 {
			p := ds[k]
			if (p.a == d.a*d.n || (p.a == 0 && d.a == 0)) && (p.b == d.b*d.n || (p.b == 0 && d.b == 0)) {
				ds[k] = dim{p.n * d.n, d.a, d.b}
				continue
			}
		}
		ds = append(ds, d)
	}
	bc := &broadcast{n: 1}
	for i := range bc.dims {
		bc.dims[i] = 1
	}
	off := maxBroadcastRank - len(ds)
	for i, d := range ds {
		bc.dims[off+i], bc.aStr[off+i], bc.bStr[off+i] = d.n, d.a, d.b
		bc.n *= d.n
	}
	return bc, true
}

// each calls row(dstOff, aOff, bOff) for every innermost row of the output, in order; the row has
// dims[last] elements with steps aStr[last], bStr[last]. It allocates nothing.
func (bc *broadcast) each(row func(o, a, b int)) {
	const L = maxBroadcastRank - 1
	var idx [maxBroadcastRank]int
	o, a, b := 0, 0, 0
	inner := bc.dims[L]
	for {
		row(o, a, b)
		o += inner
		k := L - 1
		for ; k >= 0; k-- {
			idx[k]++
			a += bc.aStr[k]
			b += bc.bStr[k]
			if idx[k] < bc.dims[k] {
				break
			}
			a -= bc.aStr[k] * bc.dims[k]
			b -= bc.bStr[k] * bc.dims[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// mulParams hold both requantizations of an 8-bit Mul: XNNPACK's (qs8-vmul, fp32: the int32 product
// times a float32 scale, rounded half to even) and the reference kernel's (a Q31 multiplier and shift).
type mulParams struct {
	xnnpack                   bool
	scale                     float32 // XNNPACK: in1Scale*in2Scale/outScale, in float32 as XNNPACK computes it
	in1Zero, in2Zero, outZero int32
	mult                      int32
	shift                     int
	lo, hi                    int32
}

func prepareMul(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 2, 1); err != nil {
		return err
	}
	a, b, out := c.input(0), c.input(1), c.output(0)
	shape, ok := models.BroadcastShape(a.Shape, b.Shape)
	if !ok {
		return c.errorf("shapes %v and %v do not broadcast", a.Shape, b.Shape)
	}
	if err := c.wantShape(out, shape); err != nil {
		return err
	}
	bc, ok := newBroadcast(a.Shape, b.Shape, shape)
	if !ok {
		return c.unsupported("rank %d above %d", len(shape), maxBroadcastRank)
	}
	s1, z1, err := c.quantized("input 0", a)
	if err != nil {
		return err
	}
	s2, z2, err := c.quantized("input 1", b)
	if err != nil {
		return err
	}
	so, zo, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	mp := &mulParams{in1Zero: z1, in2Zero: z2, outZero: zo}
	if mp.lo, mp.hi, err = c.outputRange(so, zo); err != nil {
		return err
	}
	// mul.cc: the multiplier from doubles.
	mp.mult, mp.shift = fixedpoint.QuantizeMultiplier(float64(s1) * float64(s2) / float64(so))
	// TensorFlow Lite's XNNPACK delegate takes the Mul when XNNPACK accepts the product scale
	// (xnn_create_multiply_nd_qs8: [2^-16, 2^8)); otherwise its own kernel runs.
	if x := s1 * s2 / so; c.opt.Requantization == XNNPACK && x >= 1.0/65536 && x < 256 {
		mp.xnnpack, mp.scale = true, x
	}
	x, y, dst := a.Int8s(), b.Int8s(), out.Int8s()
	p.macs = int64(bc.n)
	const L = maxBroadcastRank - 1
	switch {
	case mp.xnnpack && bc.aStr[L] == 1 && bc.bStr[L] == 1 && !c.opt.Generic:
		// Rows contiguous in both inputs (equal shapes, squeeze-excitation's channel rows): the
		// NEON kernel (kernels.Mul), the same arithmetic.
		kp, err := kernels.NewMulParams(z1, z2, zo, mp.lo, mp.hi, mp.scale)
		if err != nil {
			return c.errorf("%v", err)
		}
		n := bc.dims[L]
		p.kernel = "mul-" + kernelName(kernels.Path())
		p.run = func() {
			bc.each(func(o, i, j int) { kernels.Mul(dst[o:o+n], x[i:i+n], y[j:j+n], kp) })
		}
	case mp.xnnpack:
		p.run = func() {
			bc.each(func(o, i, j int) { mulRowXNNPACK(mp, dst[o:o+bc.dims[maxBroadcastRank-1]], x, y, i, j, bc) })
		}
	default:
		p.run = func() {
			bc.each(func(o, i, j int) { mulRowGeneric(mp, dst[o:o+bc.dims[maxBroadcastRank-1]], x, y, i, j, bc) })
		}
	}
	return nil
}

// magic rounds a float32 of magnitude below 2^22 to the nearest integer, ties to even, the way
// XNNPACK's fp32 "magic bias" requantization does.
const magic = 12582912.0 // 0x1.8p23

// mulRowXNNPACK is XNNPACK's qs8-vmul (fp32 requantization) over one output row.
func mulRowXNNPACK(p *mulParams, dst []int8, a, b []int8, i, j int, bc *broadcast) {
	const L = maxBroadcastRank - 1
	sa, sb := bc.aStr[L], bc.bStr[L]
	lo, hi := float32(p.lo-p.outZero), float32(p.hi-p.outZero)
	for k := range dst {
		acc := (int32(a[i]) - p.in1Zero) * (int32(b[j]) - p.in2Zero)
		f := min(max(float32(acc)*p.scale, lo), hi)
		f += magic
		dst[k] = int8(int32(math.Float32bits(f)&0x7fffff) - 0x400000 + p.outZero)
		i += sa
		j += sb
	}
}

// mulRowGeneric is reference_integer_ops::Mul over one output row.
func mulRowGeneric(p *mulParams, dst []int8, a, b []int8, i, j int, bc *broadcast) {
	const L = maxBroadcastRank - 1
	sa, sb := bc.aStr[L], bc.bStr[L]
	for k := range dst {
		acc := (int32(a[i]) - p.in1Zero) * (int32(b[j]) - p.in2Zero)
		v := fixedpoint.MultiplyByQuantizedMultiplier(acc, p.mult, p.shift) + p.outZero
		dst[k] = int8(fixedpoint.Clamp(v, p.lo, p.hi))
		i += sa
		j += sb
	}
}

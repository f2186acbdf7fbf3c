package runtime

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpAdd] = prepareAdd
	preparers[models.OpSoftmax] = prepareSoftmax
	preparers[models.OpQuantize] = prepareQuantize
	preparers[models.OpDequantize] = prepareDequantize
}

// addParams are TensorFlow Lite's ArithmeticParams for an 8-bit Add (kernels/add.cc), or XNNPACK's
// add parameters (xnnpack: multipliers, bias and shift).
type addParams struct {
	xnnpack                   bool
	xBias, xMulA, xMulB       int32
	xShift                    uint
	leftShift                 int
	in1Zero, in2Zero, outZero int32
	in1Mult, in2Mult, outMult int32
	in1Shift, in2Shift        int
	outShift                  int
	lo, hi                    int32
}

func prepareAdd(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 2, 1); err != nil {
		return err
	}
	a, b, out := c.input(0), c.input(1), c.output(0)
	if !slices.Equal(a.Shape, b.Shape) {
		return c.unsupported("broadcasting (shapes %v and %v)", a.Shape, b.Shape)
	}
	if err := c.wantShape(out, a.Shape); err != nil {
		return err
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
	ap := &addParams{leftShift: 20, in1Zero: z1, in2Zero: z2, outZero: zo}
	if ap.lo, ap.hi, err = c.outputRange(so, zo); err != nil {
		return err
	}
	// The same float/double mix as add.cc, so that the multipliers are bit-identical.
	twiceMax := 2 * float64(max(s1, s2))
	real1 := float64(s1) / twiceMax
	real2 := float64(s2) / twiceMax
	realOut := twiceMax / float64(float32(int32(1)<<ap.leftShift)*so)
	var m int32
	var s int
	m, s = fixedpoint.QuantizeMultiplier(real1)
	ap.in1Mult, ap.in1Shift = m, s
	m, s = fixedpoint.QuantizeMultiplier(real2)
	ap.in2Mult, ap.in2Shift = m, s
	m, s = fixedpoint.QuantizeMultiplier(realOut)
	ap.outMult, ap.outShift = m, s
	if ap.in1Shift > 0 || ap.in2Shift > 0 || ap.outShift > 0 {
		return c.unsupported("rescale factors above one (scales %g, %g -> %g)", s1, s2, so)
	}
	if c.opt.Requantization == XNNPACK {
		ap.xnnpackParams(s1/so, s2/so)
	}
	x, y, dst := a.Int8s(), b.Int8s(), out.Int8s()
	if k, ok := c.fastAdd(ap); ok {
		p.kernel = "add-" + kernelName(kernels.Path())
		p.run = func() { kernels.Add(dst, x, y, k) }
		return nil
	}
	if ap.xnnpack {
		p.run = func() { addXNNPACK(ap, dst, x, y) }
	} else {
		p.run = func() { addGeneric(ap, dst, x, y) }
	}
	return nil
}

// fastAdd hands the parameters, exactly as computed here, to kernels.Add.
func (c *opContext) fastAdd(ap *addParams) (*kernels.AddParams, bool) {
	if c.opt.Generic {
		return nil, false
	}
	if ap.xnnpack {
		k := &kernels.AddParams{XNNPACK: true, XMul1: ap.xMulA, XMul2: ap.xMulB, XBias: ap.xBias, XShift: int32(ap.xShift),
			In1Zero: ap.in1Zero, In2Zero: ap.in2Zero, OutZero: ap.outZero, ActMin: ap.lo, ActMax: ap.hi}
		return k, k.Validate() == nil
	}
	k := &kernels.AddParams{In1Zero: ap.in1Zero, In2Zero: ap.in2Zero, LeftShift: int32(ap.leftShift),
		In1Mult: ap.in1Mult, In1Shift: int32(ap.in1Shift), In2Mult: ap.in2Mult, In2Shift: int32(ap.in2Shift),
		OutMult: ap.outMult, OutShift: int32(ap.outShift), OutZero: ap.outZero, ActMin: ap.lo, ActMax: ap.hi}
	return k, k.Validate() == nil
}

// xnnpackParams computes XNNPACK's add parameters (xnn_init_qu8_add_minmax_scalar_params) from the
// input-to-output scale ratios a and b. TensorFlow Lite leaves an Add whose ratios fall outside
// [2^-10, 2^8) to its own kernel; so does this, keeping the reference parameters.
func (p *addParams) xnnpackParams(a, b float32) {
	inRange := func(r float32) bool { return r >= 1.0/1024 && r < 256 }
	if !inRange(a) || !inRange(b) {
		return
	}
	exp := int32(math.Float32bits(max(a, b))>>23) - 127
	shift := uint32(20 - exp)      // in [12, 30]
	mul := func(r float32) int32 { // r * 2^shift, exactly, rounded half to even (lrintf)
		return int32(math.RoundToEven(float64(math.Float32frombits(math.Float32bits(r) + shift<<23))))
	}
	p.xnnpack, p.xShift = true, uint(shift)
	p.xMulA, p.xMulB = mul(a), mul(b)
	p.xBias = int32(1)<<(shift-1) - p.xMulA*p.in1Zero - p.xMulB*p.in2Zero
}

// addXNNPACK is XNNPACK's quantized add (qu8/qs8-vadd): one multiply-add per input with 20-bit
// multipliers, an arithmetic shift that rounds half up, the clamp, the zero point.
func addXNNPACK(p *addParams, dst, a, b []int8) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	lo, hi := p.lo-p.outZero, p.hi-p.outZero
	for i := range a {
		acc := p.xBias + int32(a[i])*p.xMulA + int32(b[i])*p.xMulB
		dst[i] = int8(fixedpoint.Clamp(acc>>p.xShift, lo, hi) + p.outZero)
	}
}

// addGeneric is reference_integer_ops::Add: both inputs are brought to a common scale with 20 bits
// of headroom, summed, and requantized.
func addGeneric(p *addParams, dst, a, b []int8) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		x := (int32(a[i]) - p.in1Zero) << p.leftShift
		y := (int32(b[i]) - p.in2Zero) << p.leftShift
		x = fixedpoint.MultiplyByQuantizedMultiplier(x, p.in1Mult, p.in1Shift)
		y = fixedpoint.MultiplyByQuantizedMultiplier(y, p.in2Mult, p.in2Shift)
		v := fixedpoint.MultiplyByQuantizedMultiplier(x+y, p.outMult, p.outShift) + p.outZero
		dst[i] = int8(fixedpoint.Clamp(v, p.lo, p.hi))
	}
}

// softmaxParams hold TensorFlow Lite's lookup table for 8-bit softmax (optimized_ops::Softmax with
// PopulateSoftmaxLookupTable, the kernel its builtin op runs): table[255-d] = exp(-inScale*beta*d).
type softmaxParams struct {
	table    [256]float32
	outScale float32
	outZero  int32
	rows     int
	depth    int
}

func prepareSoftmax(c *opContext, p *preparedOp) error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	in, out := c.input(0), c.output(0)
	if len(in.Shape) == 0 {
		return c.errorf("input %q is a scalar", in.Name)
	}
	if err := c.wantShape(out, in.Shape); err != nil {
		return err
	}
	inScale, _, err := c.quantized("input", in)
	if err != nil {
		return err
	}
	outScale, outZero, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	beta := c.op.Beta
	if beta == 0 {
		beta = 1
	}
	sp := &softmaxParams{outScale: outScale, outZero: outZero}
	sp.depth = in.Shape[len(in.Shape)-1]
	if sp.depth == 0 {
		return c.errorf("input %q has an empty last dimension", in.Name)
	}
	sp.rows = in.NumElements() / sp.depth
	scale := -inScale * beta
	for v := 0; v <= 255; v++ {
		sp.table[255-v] = float32(math.Exp(float64(scale * float32(v))))
	}
	src, dst := in.Int8s(), out.Int8s()
	p.run = func() { softmaxGeneric(sp, dst, src) }
	return nil
}

func softmaxGeneric(p *softmaxParams, dst, src []int8) {
	for r := 0; r < p.rows; r++ {
		x := src[r*p.depth:][:p.depth]
		o := dst[r*p.depth:][:p.depth]
		m := int32(-128)
		for _, v := range x {
			m = max(m, int32(v))
		}
		// table[255 - (m - v)] = exp(-scale*beta*(m - v)); m - v is in [0, 255].
		off := 255 - m
		var sum float32
		for _, v := range x {
			sum += p.table[off+int32(v)]
		}
		inv := 1 / (sum * p.outScale)
		for i, v := range x {
			q := int32(math.Round(float64(p.table[off+int32(v)]*inv))) + p.outZero
			o[i] = int8(fixedpoint.Clamp(q, -128, 127))
		}
	}
}

// quantizeParams convert between a float and an int8 tensor, or requantize int8/uint8 to int8/uint8.
type quantizeParams struct {
	inZero, outZero int32
	inScale         float32
	outScale        float32
	mult            int32
	shift           int
	outMin, outMax  int32
	// xnnpack selects XNNPACK's conversions (quantizeFloatXNNPACK, requantizeXNNPACK); invScale is
	// the float32 reciprocal of outScale, mult then XNNPACK's 8.8 fixed-point multiplier.
	xnnpack  bool
	invScale float32
	// table maps each input byte to its output byte (8-bit to 8-bit requantization).
	table [256]byte
}

func intRange(t models.DType) (lo, hi int32, ok bool) {
	switch t {
	case models.Int8:
		return -128, 127, true
	case models.UInt8:
		return 0, 255, true
	}
	return 0, 0, false
}

// anyQuant returns the per-tensor quantization of an 8-bit tensor of either signedness.
func (c *opContext) anyQuant(what string, t *Tensor) (float32, int32, error) {
	if t.Quant == nil || len(t.Quant.Scale) != 1 {
		return 0, 0, c.errorf("%s %q needs per-tensor quantization parameters", what, t.Name)
	}
	s, z := t.Quant.Scale[0], t.Quant.ZeroAt(0)
	lo, hi, _ := intRange(t.Type)
	if !(s > 0) || math.IsInf(float64(s), 0) || z < lo || z > hi {
		return 0, 0, c.errorf("%s %q has invalid quantization (scale %g, zero point %d)", what, t.Name, s, z)
	}
	return s, z, nil
}

func prepareQuantize(c *opContext, p *preparedOp) error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	in, out := c.input(0), c.output(0)
	if err := c.wantShape(out, in.Shape); err != nil {
		return err
	}
	qp := &quantizeParams{}
	var ok bool
	if qp.outMin, qp.outMax, ok = intRange(out.Type); !ok {
		return c.unsupported("output type %s; int8 or uint8 only", out.Type)
	}
	var err error
	if qp.outScale, qp.outZero, err = c.anyQuant("output", out); err != nil {
		return err
	}
	n := in.NumElements()
	switch in.Type {
	case models.Float32:
		src, dst := in.data, out.data
		qp.invScale = 1 / qp.outScale
		// XNNPACK refuses scales that are not normal, and so keeps such an op out of its graph.
		qp.xnnpack = c.opt.Requantization == XNNPACK && !math.IsInf(float64(qp.invScale), 0) &&
			qp.outScale >= 0x1p-126 // the smallest normal float32
		if qp.xnnpack {
			p.run = func() { quantizeFloatXNNPACK(qp, dst[:n], asFloat32(src)[:n]) }
		} else {
			p.run = func() { quantizeFloat(qp, dst[:n], asFloat32(src)[:n]) }
		}
	case models.Int8, models.UInt8:
		if qp.inScale, qp.inZero, err = c.anyQuant("input", in); err != nil {
			return err
		}
		// TFLite's Requantize: effective scale in/out through QuantizeMultiplier.
		m, s := fixedpoint.QuantizeMultiplier(float64(qp.inScale) / float64(qp.outScale))
		qp.mult, qp.shift = m, s
		src, dst := in.data, out.data
		signedIn, signedOut := in.Type == models.Int8, out.Type == models.Int8
		// XNNPACK converts QS8 to QS8 and QU8 to QU8 (not one to the other) for input-to-output
		// scale ratios in [2^-8, 2^7]; TensorFlow Lite's own kernel does the rest.
		ratio := qp.inScale / qp.outScale
		if c.opt.Requantization == XNNPACK && in.Type == out.Type && ratio >= 0x1p-8 && ratio <= 0x1p7 {
			qp.xnnpack = true
			qp.mult = int32(math.RoundToEven(float64(256 * ratio)))
		}
		// Either conversion maps a byte to a byte: its table of 256 entries, computed by the
		// conversion itself, is applied instead (requantizeTable).
		var all [256]byte
		for i := range all {
			all[i] = byte(i)
		}
		if qp.xnnpack {
			requantizeXNNPACK(qp, qp.table[:], all[:], signedIn)
		} else {
			requantizeGeneric(qp, qp.table[:], all[:], signedIn, signedOut)
		}
		if d, ok := byteOffset(&qp.table); ok {
			p.run = func() { addBytes(d, dst[:n], src[:n]) }
		} else if c.opt.Generic {
			p.run = func() { requantizeTable(&qp.table, dst[:n], src[:n]) }
		} else {
			p.run = func() { kernels.Lookup(dst[:n], src[:n], &qp.table) }
		}
	default:
		return c.unsupported("input type %s", in.Type)
	}
	return nil
}

// quantizeFloat is reference_ops::AffineQuantize: q = round(x / scale) + zero, clamped.
func quantizeFloat(p *quantizeParams, dst []byte, src []float32) {
	for i, x := range src {
		q := int32(math.Round(float64(x/p.outScale))) + p.outZero
		if math.IsNaN(float64(x)) {
			q = p.outZero
		}
		dst[i] = byte(fixedpoint.Clamp(q, p.outMin, p.outMax))
	}
}

// quantizeFloatXNNPACK is XNNPACK's f32-qs8/qu8 conversion (f32-qs8-vcvt, all variants: scalar
// fmagic/imagic/lrintf, NEON, SSE, WebAssembly), which TensorFlow Lite's XNNPACK delegate runs for a
// QUANTIZE from float32: q = roundHalfEven(x * float32(1/scale)) + zero, clamped. It differs from
// TensorFlow Lite's own AffineQuantize (quantizeFloat) twice: ties go to even rather than away from
// zero, and x is multiplied by the reciprocal of the scale rather than divided by it, which moves
// values within an ulp of a tie (measured against TensorFlow Lite in runtime/tfliteref_test.go).
// The bounds are integers, so clamping before rounding, as XNNPACK does, gives the same result. NaN,
// which XNNPACK's variants map differently, becomes the zero point.
func quantizeFloatXNNPACK(p *quantizeParams, dst []byte, src []float32) {
	lo, hi := float32(p.outMin-p.outZero), float32(p.outMax-p.outZero)
	for i, x := range src {
		v := x * p.invScale
		q := p.outZero
		if v == v {
			q += int32(math.RoundToEven(float64(min(max(v, lo), hi))))
		}
		dst[i] = byte(q)
	}
}

// requantizeXNNPACK is XNNPACK's QS8/QU8 conversion (qs8-vcvt and qu8-vcvt: scalar, NEON, SSE,
// WebAssembly alike), which TensorFlow Lite's XNNPACK delegate runs for a QUANTIZE from an 8-bit
// type to the same type: with the 8.8 fixed-point multiplier m = lrintf(256 * float32(inScale/outScale)),
//
//	out = clamp(((m * (in - inZero) + 128) >> 8) + outZero)
//
// (the NEON form, SQRDMULH of (inZero - in) << 7 by -m, rounds identically). Its 8 fraction bits make it
// differ from TensorFlow Lite's Requantize (requantizeGeneric: a Q31 multiplier) by one step on some
// inputs (measured against TensorFlow Lite in runtime/tfliteref_test.go). Input and output have the same
// signedness.
func requantizeXNNPACK(p *quantizeParams, dst, src []byte, signed bool) {
	for i, b := range src {
		x := int32(b)
		if signed {
			x = int32(int8(b))
		}
		v := (p.mult*(x-p.inZero)+128)>>8 + p.outZero
		dst[i] = byte(fixedpoint.Clamp(v, p.outMin, p.outMax))
	}
}

// requantizeTable sets dst[i] = table[src[i]] (the generic form of kernels.Lookup).
func requantizeTable(table *[256]byte, dst, src []byte) {
	for i, b := range src {
		dst[i] = table[b]
	}
}

// byteOffset reports whether table adds one constant d to every byte, modulo 256: the requantization
// of a uint8 graph input into the int8 tensor of a converted model (same scale, zero point 128 lower).
func byteOffset(table *[256]byte) (d byte, ok bool) {
	d = table[0]
	for i, v := range table {
		if v != byte(i)+d {
			return 0, false
		}
	}
	return d, true
}

// addBytes sets dst[i] = src[i] + d (modulo 256), 16 bytes (two 64-bit words) at a time without
// carries between the bytes.
func addBytes(d byte, dst, src []byte) {
	const lo7, hi1 = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	dd := uint64(d) * 0x0101010101010101
	dst = dst[:len(src)]
	for len(src) >= 16 {
		s, t := src[:16:16], dst[:16:16]
		x, y := binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
		// Per byte: the low 7 bits added (their carry stays in the byte's top bit), then the top
		// bits of x and d added without carry (XOR).
		binary.LittleEndian.PutUint64(t, ((x&lo7)+(dd&lo7))^((x^dd)&hi1))
		binary.LittleEndian.PutUint64(t[8:], ((y&lo7)+(dd&lo7))^((y^dd)&hi1))
		src, dst = src[16:], dst[16:]
	}
	for i := range src {
		dst[i] = src[i] + d
	}
}

// requantizeGeneric is reference_ops::Requantize: out = MBQM(in - inZero, mult, shift) + outZero.
// The bytes are read and written as int8 or uint8 according to the signedness flags.
func requantizeGeneric(p *quantizeParams, dst, src []byte, signedIn, signedOut bool) {
	for i, b := range src {
		x := int32(b)
		if signedIn {
			x = int32(int8(b))
		}
		v := fixedpoint.MultiplyByQuantizedMultiplier(x-p.inZero, p.mult, p.shift) + p.outZero
		v = fixedpoint.Clamp(v, p.outMin, p.outMax)
		if signedOut {
			dst[i] = byte(int8(v))
		} else {
			dst[i] = byte(v)
		}
	}
}

func prepareDequantize(c *opContext, p *preparedOp) error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	in, out := c.input(0), c.output(0)
	if err := c.wantShape(out, in.Shape); err != nil {
		return err
	}
	if out.Type != models.Float32 {
		return c.unsupported("output type %s; float32 only", out.Type)
	}
	if _, _, ok := intRange(in.Type); !ok {
		return c.unsupported("input type %s; int8 or uint8 only", in.Type)
	}
	scale, zero, err := c.anyQuant("input", in)
	if err != nil {
		return err
	}
	n := in.NumElements()
	signed := in.Type == models.Int8
	src, dst := in.data, out.data
	p.run = func() {
		o := asFloat32(dst)[:n]
		for i, b := range src[:n] {
			x := int32(b)
			if signed {
				x = int32(int8(b))
			}
			o[i] = float32(x-zero) * scale
		}
	}
	return nil
}

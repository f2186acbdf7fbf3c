package kernels

import (
	"math"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
)

// AddParams are the parameters of TensorFlow Lite's int8 ADD (reference/integer_ops/add.h, with
// those of micro/kernels/add_common.cc): each input, minus its zero point and shifted left by
// LeftShift, is scaled by its multiplier; the sum is scaled to the output.
//
// With XNNPACK set (NewAddParamsXNNPACK), Add computes XNNPACK's form instead (qs8-vadd, what
// TensorFlow Lite runs by default), using only the zero points, the activation range and the X
// fields:
//
//	out = clamp((XBias + x*XMul1 + y*XMul2) >> XShift, ActMin-OutZero, ActMax-OutZero) + OutZero
//
// in int32 arithmetic (wrapping, as in XNNPACK's scalar code), >> arithmetic.
type AddParams struct {
	In1Zero, In2Zero        int32
	LeftShift               int32 // 20 for int8
	In1Mult, In1Shift       int32 // shifts <= 0 (multipliers below one)
	In2Mult, In2Shift       int32
	OutMult, OutShift       int32
	OutZero, ActMin, ActMax int32

	XNNPACK      bool
	XMul1, XMul2 int32 // in [0, 2^22]
	XBias        int32 // 1<<(XShift-1) - XMul1*In1Zero - XMul2*In2Zero
	XShift       int32 // in [0, 31]
}

// NewAddParamsXNNPACK computes XNNPACK's add parameters (xnn_init_qs8_add_minmax_scalar_params)
// from the tensors' float32 scales and zero points: with the ratios a = scale1/scaleOut and
// b = scale2/scaleOut (float32 divisions), shift = 20 - exponent(max(a, b)), the multipliers are
// a*2^shift and b*2^shift rounded half to even, and the bias carries the zero points and the
// rounding term. TensorFlow Lite runs XNNPACK's Add only when both ratios lie in [2^-10, 2^8); for
// other ratios this returns an error (use NewAddParams, TensorFlow Lite's own kernel).
func NewAddParamsXNNPACK(scale1 float32, zero1 int32, scale2 float32, zero2 int32, scaleOut float32, zeroOut, actMin, actMax int32) (AddParams, error) {
	for _, s := range []float32{scale1, scale2, scaleOut} {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return AddParams{}, errorf("add: scales %g, %g, %g must be finite and positive", scale1, scale2, scaleOut)
		}
	}
	a, b := scale1/scaleOut, scale2/scaleOut
	inRange := func(r float32) bool { return r >= 1.0/1024 && r < 256 }
	if !inRange(a) || !inRange(b) {
		return AddParams{}, errorf("add: scale ratios %g, %g outside XNNPACK's [2^-10, 2^8)", a, b)
	}
	exp := int32(math.Float32bits(max(a, b))>>23) - 127 // a normal float: in [-10, 7]
	shift := 20 - exp                                   // in [13, 30]
	mul := func(r float32) int32 {                      // r * 2^shift exactly (an exponent change), then lrintf
		return int32(math.RoundToEven(float64(math.Float32frombits(math.Float32bits(r) + uint32(shift)<<23))))
	}
	p := AddParams{In1Zero: zero1, In2Zero: zero2, OutZero: zeroOut, ActMin: actMin, ActMax: actMax,
		XNNPACK: true, XMul1: mul(a), XMul2: mul(b), XShift: shift}
	p.XBias = int32(1)<<(shift-1) - p.XMul1*zero1 - p.XMul2*zero2
	return p, p.Validate()
}

// NewAddParams computes AddParams from the tensors' scales and zero points as TensorFlow Lite does
// (scales are float32 in the model; pass them converted to float64).
func NewAddParams(scale1 float64, zero1 int32, scale2 float64, zero2 int32, scaleOut float64, zeroOut, actMin, actMax int32) (AddParams, error) {
	if !(scale1 > 0 && scale2 > 0 && scaleOut > 0) {
		return AddParams{}, errorf("add: scales %g, %g, %g must be positive", scale1, scale2, scaleOut)
	}
	p := AddParams{In1Zero: zero1, In2Zero: zero2, LeftShift: 20, OutZero: zeroOut, ActMin: actMin, ActMax: actMax}
	twiceMax := 2 * math.Max(scale1, scale2)
	var s1, s2, so int
	p.In1Mult, s1 = fixedpoint.QuantizeMultiplier(scale1 / twiceMax)
	p.In2Mult, s2 = fixedpoint.QuantizeMultiplier(scale2 / twiceMax)
	p.OutMult, so = fixedpoint.QuantizeMultiplier(twiceMax / (float64(int(1)<<p.LeftShift) * scaleOut))
	p.In1Shift, p.In2Shift, p.OutShift = int32(s1), int32(s2), int32(so)
	return p, p.Validate()
}

// Validate checks that the parameters are in the ranges the kernels (and TensorFlow Lite) support.
func (p *AddParams) Validate() error {
	for _, z := range []int32{p.In1Zero, p.In2Zero, p.OutZero} {
		if z < -128 || z > 127 {
			return errorf("add: zero point %d outside [-128, 127]", z)
		}
	}
	if p.ActMin < -128 || p.ActMax > 127 || p.ActMin > p.ActMax {
		return errorf("add: activation range [%d, %d] not within [-128, 127]", p.ActMin, p.ActMax)
	}
	if p.XNNPACK {
		if p.XMul1 < 0 || p.XMul1 > 1<<22 || p.XMul2 < 0 || p.XMul2 > 1<<22 {
			return errorf("add: XNNPACK multipliers %d, %d outside [0, 2^22]", p.XMul1, p.XMul2)
		}
		if p.XShift < 0 || p.XShift > 31 {
			return errorf("add: XNNPACK shift %d outside [0, 31]", p.XShift)
		}
		return nil
	}
	if p.LeftShift < 0 || p.LeftShift > 22 {
		return errorf("add: left shift %d outside [0, 22]", p.LeftShift)
	}
	for _, m := range []int32{p.In1Mult, p.In2Mult, p.OutMult} {
		if m < 0 {
			return errorf("add: negative multiplier %d", m)
		}
	}
	for _, s := range []int32{p.In1Shift, p.In2Shift, p.OutShift} {
		if s > 0 || s < -31 {
			return errorf("add: shift %d outside [-31, 0] (a multiplier of one or more)", s)
		}
	}
	return nil
}

func (p *AddParams) consts() [addConsts]int32 {
	return [addConsts]int32{-p.In1Zero, -p.In2Zero, p.LeftShift, p.In1Mult, p.In1Shift, p.In2Mult, p.In2Shift,
		p.OutMult, p.OutShift, p.OutZero, p.ActMin, p.ActMax}
}

func (p *AddParams) constsX() [addXConsts]int32 {
	return [addXConsts]int32{p.XBias, p.XMul1, p.XMul2, -p.XShift, p.OutZero, p.ActMin, p.ActMax}
}

// Add computes dst[i] = a[i] + b[i] with TensorFlow Lite's int8 arithmetic, or XNNPACK's when
// p.XNNPACK is set (same shapes, no broadcasting). It does not allocate.
func Add(dst, a, b []int8, p *AddParams) error {
	if len(a) != len(dst) || len(b) != len(dst) {
		return errorf("add: lengths %d + %d -> %d differ", len(a), len(b), len(dst))
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.XNNPACK {
		k := p.constsX()
		n := len(dst) / 16
		if n > 0 {
			if currentPath() == pathGeneric {
				addXNNPACKGeneric(&dst[0], &a[0], &b[0], n, &k[0])
			} else {
				addXNNPACK(&dst[0], &a[0], &b[0], n, &k[0])
			}
		}
		for i := 16 * n; i < len(dst); i++ {
			dst[i] = addOneX(a[i], b[i], k[:])
		}
		return nil
	}
	k := p.consts()
	n := len(dst) / 16
	if n > 0 {
		if currentPath() == pathGeneric {
			addInt8Generic(&dst[0], &a[0], &b[0], n, &k[0])
		} else {
			addInt8(&dst[0], &a[0], &b[0], n, &k[0])
		}
	}
	for i := 16 * n; i < len(dst); i++ {
		dst[i] = addOne(a[i], b[i], k[:])
	}
	return nil
}

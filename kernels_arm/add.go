package kernels

import (
	"math"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
)

// AddParams are the parameters of TensorFlow Lite's int8 ADD (reference/integer_ops/add.h, with
// those of micro/kernels/add_common.cc): each input, minus its zero point and shifted left by
// LeftShift, is scaled by its multiplier; the sum is scaled to the output.
type AddParams struct {
	In1Zero, In2Zero        int32
	LeftShift               int32 // 20 for int8
	In1Mult, In1Shift       int32 // shifts <= 0 (multipliers below one)
	In2Mult, In2Shift       int32
	OutMult, OutShift       int32
	OutZero, ActMin, ActMax int32
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

// Add computes dst[i] = a[i] + b[i] with TensorFlow Lite's int8 arithmetic (same shapes, no
// broadcasting). It does not allocate.
func Add(dst, a, b []int8, p *AddParams) error {
	if len(a) != len(dst) || len(b) != len(dst) {
		return errorf("add: lengths %d + %d -> %d differ", len(a), len(b), len(dst))
	}
	if err := p.Validate(); err != nil {
		return err
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

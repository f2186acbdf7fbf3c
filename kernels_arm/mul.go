package kernels

import (
	"math"
	"unsafe"
)

// MulParams is XNNPACK's int8 multiplication with fp32 requantization (qs8-vmul, which TensorFlow
// Lite's XNNPACK delegate runs for MUL): out = clamp(roundHalfEven(float32((a - AZero)*(b - BZero)) *
// Scale) + OutZero, ActMin, ActMax). XNNPACK clamps in float32 before rounding; with integer bounds
// that is the same.
type MulParams struct {
	c [6]int32 // AZero, BZero, OutZero, ActMin, ActMax, the bits of Scale
}

// NewMulParams validates and packs the parameters of Mul. The zero points and bounds must be int8
// values, ActMin <= ActMax, and the scale finite and in [2^-16, 2^8) (XNNPACK's range).
func NewMulParams(aZero, bZero, outZero, actMin, actMax int32, scale float32) (*MulParams, error) {
	for _, v := range []int32{aZero, bZero, outZero, actMin, actMax} {
		if v < -128 || v > 127 {
			return nil, errorf("mul: zero point or bound %d outside [-128, 127]", v)
		}
	}
	if actMin > actMax {
		return nil, errorf("mul: activation range [%d, %d] is empty", actMin, actMax)
	}
	if !(scale >= 0x1p-16 && scale < 0x1p8) {
		return nil, errorf("mul: scale %g outside [2^-16, 2^8)", scale)
	}
	return &MulParams{c: [6]int32{aZero, bZero, outZero, actMin, actMax, int32(math.Float32bits(scale))}}, nil
}

// Mul sets dst[i] = a[i] * b[i] for i < len(dst), requantized by p. Whole blocks of 16 elements run
// in assembly (mulX), the tail through a block on the stack. It does not allocate; it panics if a or
// b is shorter than dst.
func Mul(dst, a, b []int8, p *MulParams) {
	n := len(dst)
	a, b = a[:n], b[:n]
	generic := currentPath() == pathGeneric
	if k := n / 16; k > 0 {
		if generic {
			mulXGeneric(&dst[0], &a[0], &b[0], k, &p.c[0])
		} else {
			mulX(&dst[0], &a[0], &b[0], k, &p.c[0])
		}
	}
	if t := n % 16; t > 0 {
		var ta, tb, td [16]int8
		o := n - t
		copySmall(ta[:t], a[o:])
		copySmall(tb[:t], b[o:])
		if generic {
			mulXGeneric(&td[0], &ta[0], &tb[0], 1, &p.c[0])
		} else {
			mulX(&td[0], &ta[0], &tb[0], 1, &p.c[0])
		}
		copySmall(dst[o:], td[:t])
	}
}

// mulXGeneric is the pure-Go twin of mulX.
func mulXGeneric(dst, a, b *int8, n int, p *int32) {
	D, A, B := unsafe.Slice(dst, 16*n), unsafe.Slice(a, 16*n), unsafe.Slice(b, 16*n)
	P := unsafe.Slice(p, 6)
	scale := math.Float32frombits(uint32(P[5]))
	for i := range D {
		acc := (int32(A[i]) - P[0]) * (int32(B[i]) - P[1])
		D[i] = requantFP32(acc, scale, P[2], P[3], P[4])
	}
}

// Package fixedpoint is the integer arithmetic of quantized inference, bit-exact with TensorFlow Lite's
// reference kernels (tensorflow/lite/kernels/internal/common.h, quantization_util.cc) and the gemmlowp
// fixed-point functions they call, in their default "double rounding" form.
//
// Every kernel of the project, generic or assembly, requantizes through these definitions: the assembly
// kernels are tested bit-exact against them.
package fixedpoint

import "math"

// SaturatingRoundingDoublingHighMul returns the high 32 bits of 2*a*b, rounded to nearest with ties
// toward +infinity, saturating the single overflowing case a == b == MinInt32 (gemmlowp). It is what the
// NEON instruction SQRDMULH computes.
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	// Division truncates toward zero, as in C.
	return int32((ab + nudge) / (1 << 31))
}

// RoundingDivideByPOT returns x / 2^exponent rounded to nearest, ties away from zero (gemmlowp).
// exponent must be in [0, 31].
func RoundingDivideByPOT(x int32, exponent int) int32 {
	mask := int32(uint32(1)<<uint(exponent) - 1)
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> uint(exponent)
	if remainder > threshold {
		r++
	}
	return r
}

// MultiplyByQuantizedMultiplier returns x * multiplier * 2^shift / 2^31 with TensorFlow Lite's
// rounding: a left shift (shift > 0) first, then SaturatingRoundingDoublingHighMul, then a rounding
// right shift (shift < 0).
func MultiplyByQuantizedMultiplier(x, multiplier int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x*(1<<uint(left)), multiplier), right)
}

// QuantizeMultiplier splits a positive real multiplier into a Q31 fixed-point multiplier in
// [2^30, 2^31) and a power-of-two exponent, as TensorFlow Lite's QuantizeMultiplier does:
// real ≈ multiplier * 2^shift / 2^31. Zero, and multipliers below about 2^-31, give (0, 0).
func QuantizeMultiplier(real float64) (multiplier int32, shift int) {
	if real == 0 || math.IsNaN(real) || math.IsInf(real, 0) {
		return 0, 0
	}
	q, exp := math.Frexp(real)
	fixed := int64(math.Round(q * (1 << 31)))
	if fixed == 1<<31 {
		fixed /= 2
		exp++
	}
	if exp < -31 {
		return 0, 0
	}
	if fixed > math.MaxInt32 { // real >= 2^31 after rounding: unrepresentable; saturate
		fixed = math.MaxInt32
	}
	return int32(fixed), exp
}

// Clamp limits v to [lo, hi].
func Clamp(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

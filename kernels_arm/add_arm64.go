//go:build arm64 && gc && !purego

package kernels

// addInt8 adds n blocks of 16 int8 elements of a and b into dst, with TFLite's int8 Add arithmetic.
// p holds addConsts int32: -zero1, -zero2, left shift, mult1, shift1, mult2, shift2, out mult,
// out shift (shifts <= 0), out zero point, activation min, max. The reference loop:
//
//	for i := range 16 * n {
//		x := requant((int32(a[i])-zero1)<<lsh, mult1, 0, -shift1, 0, MinInt32, MaxInt32) // no zero point, no clamp
//		y := requant((int32(b[i])-zero2)<<lsh, mult2, 0, -shift2, 0, MinInt32, MaxInt32)
//		dst[i] = clamp(MBQM(x+y, outMult, outShift) + outZero, min, max)
//	}
//
//go:noescape
func addInt8(dst, a, b *int8, n int, p *int32)

// addXNNPACK adds n blocks of 16 int8 elements of a and b into dst with XNNPACK's arithmetic
// (AddParams.XNNPACK). p holds addXConsts int32: bias, mult1, mult2, -shift, out zero point,
// activation min, max. The reference loop:
//
//	for i := range 16 * n {
//		acc := bias + int32(a[i])*mult1 + int32(b[i])*mult2 // wrapping
//		dst[i] = clamp(acc >> shift, min - zero, max - zero) + zero
//	}
//
//go:noescape
func addXNNPACK(dst, a, b *int8, n int, p *int32)

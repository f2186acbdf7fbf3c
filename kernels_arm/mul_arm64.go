//go:build arm64 && gc && !purego

package kernels

// mulX multiplies n blocks of 16 int8 elements of a and b into dst with XNNPACK's fp32
// requantization; p holds MulParams.c (aZero, bZero, outZero, actMin, actMax, scale bits). The
// reference loop:
//
//	for i := range 16 * n {
//		acc := (int32(a[i]) - aZero) * (int32(b[i]) - bZero)
//		dst[i] = requantFP32(acc, scale, outZero, actMin, actMax)
//	}
//
//go:noescape
func mulX(dst, a, b *int8, n int, p *int32)

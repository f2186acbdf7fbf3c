//go:build arm64 && gc && !purego

package kernels

// dotRows4 computes the dot products of a (16*kc int8) with 4*n4 rows of b, bstride bytes apart,
// each over its first 16*kc elements. The reference loop:
//
//	for j := range 4 * n4 {
//		var s int32
//		for i := range 16 * kc {
//			s += int32(a[i]) * int32(b[j*bstride+i])
//		}
//		dst[j] = s
//	}
//
//go:noescape
func dotRows4(dst *int32, a *int8, b *int8, kc int, n4 int, bstride int)

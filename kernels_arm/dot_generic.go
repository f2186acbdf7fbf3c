package kernels

import "unsafe"

// dotRows4Generic is the pure-Go twin of dotRows4.
func dotRows4Generic(dst *int32, a *int8, b *int8, kc int, n4 int, bstride int) {
	D := unsafe.Slice(dst, 4*n4)
	A := unsafe.Slice(a, 16*kc)
	B := unsafe.Slice(b, (4*n4-1)*bstride+16*kc)
	for j := range D {
		D[j] = dotInt8(A, B[j*bstride:])
	}
}

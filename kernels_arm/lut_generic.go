package kernels

import "unsafe"

// lut16Generic is the pure-Go twin of lut16.
func lut16Generic(dst *byte, src *byte, table *[256]byte, n int) {
	D, S := unsafe.Slice(dst, 16*n), unsafe.Slice(src, 16*n)
	for i, b := range S {
		D[i] = table[b]
	}
}

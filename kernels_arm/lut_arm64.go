//go:build arm64 && gc && !purego

package kernels

// lut16 looks up n blocks of 16 bytes of src in table. The reference loop:
//
//	for i := range 16 * n {
//		dst[i] = table[src[i]]
//	}
//
//go:noescape
func lut16(dst *byte, src *byte, table *[256]byte, n int)

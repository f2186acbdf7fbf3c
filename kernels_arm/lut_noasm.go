//go:build !arm64 || !gc || purego

package kernels

func lut16(dst *byte, src *byte, table *[256]byte, n int) { lut16Generic(dst, src, table, n) }

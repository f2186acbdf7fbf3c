//go:build !arm64 || !gc || purego

package kernels

func mulX(dst, a, b *int8, n int, p *int32) { mulXGeneric(dst, a, b, n, p) }

//go:build !arm64 || !gc || purego

package kernels

func dotRows4(dst *int32, a *int8, b *int8, kc int, n4 int, bstride int) {
	dotRows4Generic(dst, a, b, kc, n4, bstride)
}

//go:build !arm64 || !gc || purego

package kernels

func sumPixels16(dst *int32, src *int8, n int, stride int) { sumPixels16Generic(dst, src, n, stride) }

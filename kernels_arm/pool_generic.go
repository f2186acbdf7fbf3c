package kernels

import "unsafe"

// sumPixels16Generic is the pure-Go twin of sumPixels16.
func sumPixels16Generic(dst *int32, src *int8, n int, stride int) {
	D := unsafe.Slice(dst, 16)
	S := unsafe.Slice(src, (n-1)*stride+16)
	for i := 0; i < n; i++ {
		for ch := 0; ch < 16; ch++ {
			D[ch] += int32(S[i*stride+ch])
		}
	}
}

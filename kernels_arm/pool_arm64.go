//go:build arm64 && gc && !purego

package kernels

// sumPixels16 adds to dst[0:16] the sums of 16 consecutive int8 channels over n pixels
// (1 <= n <= 256) that lie stride bytes apart. The reference loop:
//
//	for i := range n {
//		for ch := range 16 {
//			dst[ch] += int32(src[i*stride+ch])
//		}
//	}
//
//go:noescape
func sumPixels16(dst *int32, src *int8, n int, stride int)

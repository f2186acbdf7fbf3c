//go:build arm64 && gc && !purego

package kernels

// dw3x3 computes n output pixels of nb consecutive 16-channel blocks of a 3x3 depthwise convolution.
// r0, r1, r2 point at the first block in three input rows widened to int16 (pixel 0 = padded column
// 0), pixels cin elements apart; output pixel x reads pixels s*x, s*x+1, s*x+2 of each row. w holds
// (weight - weight zero point) as int16, [nb][tap][16]; p holds bias, mult, rsh, lsh
// ([nb][4][16]int32); outputs go cout bytes apart. Block b is the reference loop on r_ky[16*b:],
// w[b], p[b] and out[16*b:]:
//
//	for x := range n {
//		for ch := range 16 {
//			acc := bias[ch]
//			for ky, kx := range 3, 3 {
//				acc += int32(r_ky[(s*x+kx)*cin+ch]) * int32(w[3*ky+kx][ch])
//			}
//			out[x*cout+ch] = requant(acc, mult[ch], lsh[ch] (if flags&flagLSH), -rsh[ch], hdr)
//		}
//	}
//
// flags&flagFastRQ selects the shorter epilogue of gemmSDOT4 (every rsh <= -1, so no lsh either);
// flags&flagFP32 its fp32 epilogue (mult holds the float32 scales, rsh and lsh are ignored).
//
//go:noescape
func dw3x3(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int)

// widen16 sign-extends n blocks of 16 int8 to int16. The reference loop:
//
//	for i := range 16 * n {
//		dst[i] = int16(src[i])
//	}
//
//go:noescape
func widen16(dst *int16, src *int8, n int)

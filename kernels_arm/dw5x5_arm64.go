//go:build arm64 && gc && !purego

package kernels

// dw5x5 computes n output pixels of nb consecutive 16-channel blocks of a 5x5 depthwise convolution,
// as dw3x3 does for 3x3. rows[ky] points at the first block in input row ky widened to int16 (pixel
// 0 = padded column 0), pixels cin elements apart; output pixel x reads pixels s*x .. s*x+4 of each
// row. w holds (weight - weight zero point) as int16, [nb][tap][16] with tap = 5*ky+kx; p holds
// bias, mult, rsh, lsh ([nb][4][16]int32); outputs go cout bytes apart. Block b is the reference
// loop on rows[ky][16*b:], w[b], p[b] and out[16*b:]:
//
//	for x := range n {
//		for ch := range 16 {
//			acc := bias[ch]
//			for ky, kx := range 5, 5 {
//				acc += int32(rows[ky][(s*x+kx)*cin+ch]) * int32(w[5*ky+kx][ch])
//			}
//			out[x*cout+ch] = requant(acc, mult[ch], lsh[ch] (if flags&flagLSH), -rsh[ch], hdr)
//		}
//	}
//
// flags&flagFastRQ and flags&flagFP32 select the epilogues of dw3x3.
//
//go:noescape
func dw5x5(out *int8, rows *[5]*int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int)

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

// dw3x3b is dw3x3 on int8 input rows with int8 weights w (w - wz, each in [-127, 127]: never -128),
// [nb][tap][16]; the rest as dw3x3. The reference loop is dw3x3's, with r_ky and w int8: the sum is
// exact in int32 (dw3x3bGeneric). The assembly multiplies int8 by int8 and adds the products of two
// taps in int16 before widening them into the int32 accumulators; that is exact because an input is
// in [-128, 127] and a weight in [-127, 127], so one product is at most 128*127 = 16256 in magnitude
// and a sum of two at most 32512 <= 32767 (a weight of -128 could make it 2*16384 = 32768, which
// wraps: NewDepthwise then keeps dw3x3).
//
//go:noescape
func dw3x3b(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int)

// widen16 sign-extends n blocks of 16 int8 to int16. The reference loop:
//
//	for i := range 16 * n {
//		dst[i] = int16(src[i])
//	}
//
//go:noescape
func widen16(dst *int16, src *int8, n int)

// dwdot is the SDOT form of dw3x3 for fp32 requantization: n output pixels of nb consecutive
// 16-channel blocks. r0, r1, r2 point at the first block of three input rows prepared by dwprep
// ([block][x][16][4]: tap kx of channel ch of output pixel x at 64x+4ch+kx, blocks 64n bytes
// apart); w holds the weights [nb][ky][16][4] (kx = 3 zero); p the parameters ([nb][4][16]int32:
// bias, float32 scale bits, the weight zero point's factors wzf (4 int8 per channel: -wz, -wz,
// -wz, 0), then a word corr and 15 unused); outputs go cout bytes apart. flags bit 0 skips the
// clamp to ActMin, bit 1 the clamp to ActMax (set when they cannot bind); with bit 2 (dwWZ) the
// blocks whose corr is not 0 add the products with wzf, 4 more SDOTs per kernel row. Block b is
// the reference loop on r_ky[64*n*b:], w[192*b:], p[64*b:] and out[16*b:]:
//
//	for x := range n {
//		for ch := range 16 {
//			acc := bias[ch]
//			for ky, kx := range 3, 4 {
//				acc += int32(r_ky[64*x+4*ch+kx]) * int32(w[64*ky+4*ch+kx])
//				if flags&dwWZ != 0 && corr != 0 {
//					acc += int32(r_ky[64*x+4*ch+kx]) * int32(wzf[ch][kx])
//				}
//			}
//			out[x*cout+ch] = requantFP32(acc, scale[ch], hdr[0], hdr[1], hdr[2])
//		}
//	}
//
//go:noescape
func dwdot(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cout int, flags int, nb int)

// dwdot2 is dwdot for two consecutive output rows at stride 1, the second ostride bytes after the
// first, from the four prepared input rows r0-r3: the reference loop is
//
//	dwdot(out, r0, r1, r2, w, p, hdr, n, cout, flags, nb)
//	dwdot(out+ostride, r1, r2, r3, w, p, hdr, n, cout, flags, nb)
//
// flags&dwWZ is never set (not supported).
//
//go:noescape
func dwdot2(out *int8, r0, r1, r2, r3 *int8, w *int8, p *int32, hdr *int32, n int, cout int, ostride int, flags int, nb int)

// dwprep prepares n pixels of nb 16-channel blocks of one padded input row for dwdot, blocks
// bstride bytes apart in dst. The reference loop:
//
//	for b := range nb {
//		for x := range n {
//			for ch, kx := range 16, 4 {
//				dst[bstride*b+64*x+4*ch+kx] = src[(s*x+kx)*cin+16*b+ch]
//			}
//		}
//	}
//
//go:noescape
func dwprep(dst *int8, src *int8, n int, cin int, s int, nb int, bstride int)

// dwprep4 is dwprep of one output pixel whose four taps are read from p[0..3] (16*nb bytes each,
// blocks 16 bytes apart), blocks bstride bytes apart in dst. The reference loop:
//
//	for b := range nb {
//		for ch, kx := range 16, 4 {
//			dst[bstride*b+4*ch+kx] = p[kx][16*b+ch]
//		}
//	}
//
//go:noescape
func dwprep4(dst *int8, p *[4]*int8, nb int, bstride int)

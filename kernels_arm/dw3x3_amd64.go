//go:build amd64 && gc && !purego

package kernels

// dw3x3 has dw3x3_arm64.go's contract (and reference loop), computed with AVX2: per pair of taps
// the inputs and weights interleaved (VPUNPCKLWD/VPUNPCKHWD, weights once per block) and
// multiplied by VPMADDWD, whose pair sums wrap in int32 exactly as the reference loop's additions
// (it is exact on any int16, not only widened int8); the epilogues are gemmAVX2's.
//
//go:noescape
func dw3x3(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int)

// widen16 sign-extends n blocks of 16 int8 to int16 (VPMOVSXBW). The reference loop:
//
//	for i := range 16 * n {
//		dst[i] = int16(src[i])
//	}
//
//go:noescape
func widen16(dst *int16, src *int8, n int)

// The SDOT form of the depthwise convolution is not chosen on amd64 (haveDWDot): its names call
// the twins.

func dwdot(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cout int, flags int, nb int) {
	dwdotGeneric(out, r0, r1, r2, w, p, hdr, n, cout, flags, nb)
}

func dwprep(dst *int8, src *int8, n int, cin int, s int, nb int, bstride int) {
	dwprepGeneric(dst, src, n, cin, s, nb, bstride)
}

func dwdot2(out *int8, r0, r1, r2, r3 *int8, w *int8, p *int32, hdr *int32, n int, cout int, ostride int, flags int, nb int) {
	dwdot2Generic(out, r0, r1, r2, r3, w, p, hdr, n, cout, ostride, flags, nb)
}

func dwprep4(dst *int8, p *[4]*int8, nb int, bstride int) { dwprep4Generic(dst, p, nb, bstride) }

// dw3x3b is not chosen on amd64 (haveDW3x3b); the name calls its twin.
func dw3x3b(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dw3x3bGeneric(out, r0, r1, r2, w, p, hdr, n, cin, s, cout, flags, nb)
}

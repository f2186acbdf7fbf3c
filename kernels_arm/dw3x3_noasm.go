//go:build !(arm64 || amd64) || !gc || purego

package kernels

func dw3x3(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dw3x3Generic(out, r0, r1, r2, w, p, hdr, n, cin, s, cout, flags, nb)
}

func dw3x3b(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dw3x3bGeneric(out, r0, r1, r2, w, p, hdr, n, cin, s, cout, flags, nb)
}

func widen16(dst *int16, src *int8, n int) { widen16Generic(dst, src, n) }

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

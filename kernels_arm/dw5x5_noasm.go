//go:build !arm64 || !gc || purego

package kernels

func dw5x5(out *int8, rows *[5]*int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dw5x5Generic(out, rows, w, p, hdr, n, cin, s, cout, flags, nb)
}

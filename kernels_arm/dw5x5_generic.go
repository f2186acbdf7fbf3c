package kernels

// dw5x5Generic is the pure-Go twin of dw5x5.
func dw5x5Generic(out *int8, rows *[5]*int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dwTwin(out, rows, w, p, hdr, 5, n, cin, s, cout, flags, nb)
}

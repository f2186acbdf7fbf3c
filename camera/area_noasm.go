//go:build !arm64 || !gc || purego

package camera

// Without the assembly the NEON names are the twins (useNEON is never set; the tests skip).

func vaccNEON(acc *uint32, p *byte, n int, w uint32) { vaccGeneric(acc, p, n, w) }

func rowYUYVNEON(r, g, b, row *byte, n int, k *yuvConsts) { rowYUYVGeneric(r, g, b, row, n, k) }

func rowYU12NEON(r, g, b, y, u, v *byte, n int, k *yuvConsts) {
	rowYU12Generic(r, g, b, y, u, v, n, k)
}

func rowNV12NEON(r, g, b, y, uv *byte, n int, k *yuvConsts) { rowNV12Generic(r, g, b, y, uv, n, k) }

func hsumNEON(out *byte, rp, gp, bp *uint32, xf, xn *int32, xw *uint32, n int, d uint64, tab *[3][256]byte) {
	hsumGeneric(out, rp, gp, bp, xf, xn, xw, n, d, tab)
}

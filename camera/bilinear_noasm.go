//go:build !arm64 || !gc || purego

package camera

// Without the assembly the NEON names are the twins (useNEON is never set; the tests skip).

func hrowYUVNEON(h *uint16, y, u, v *byte, grp *bilGroup, n int, k *yuvConsts) {
	hrowYUVGeneric(h, y, u, v, grp, n, k)
}

func vlutNEON(out *byte, top, bot *uint16, n int, wy uint, tab *[256]byte) {
	vlutGeneric(out, top, bot, n, wy, tab)
}

func interleave3NEON(dst, src *byte, n int) { interleave3Generic(dst, src, n) }

func hrowPlanarNEON(h *uint16, rp, gp, bp *byte, grp *bilGroup, n int) {
	hrowPlanarGeneric(h, rp, gp, bp, grp, n)
}

func deinterleave3NEON(rp, gp, bp, src *byte, n int) { deinterleave3Generic(rp, gp, bp, src, n) }

func deinterleave4NEON(rp, gp, bp, src *byte, n int) { deinterleave4Generic(rp, gp, bp, src, n) }

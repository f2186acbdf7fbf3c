//go:build !arm64 || !gc || purego

package camera

func hrowYUV(h *uint16, y, u, v *byte, g *bilGroup, n int, k *yuvConsts) {
	hrowYUVGeneric(h, y, u, v, g, n, k)
}

func vlut(out *byte, top, bot *uint16, n int, wy uint, tab *[256]byte) {
	vlutGeneric(out, top, bot, n, wy, tab)
}

func interleave3(dst, src *byte, n int) { interleave3Generic(dst, src, n) }

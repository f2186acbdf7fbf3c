package camera

import "unsafe"

// The pure-Go twins of the bilinear kernels (bilinear_arm64.s): the reference the assembly is
// tested against, and the implementation on other architectures.

// hrowYUVGeneric converts and mixes the 16 samples of each of n groups: for group i, slot j, the
// samples Y = y[base[0]+idx[0][j]], U = u[base[1]+idx[1][j]], V = v[base[2]+idx[2][j]] are
// converted to R, G, B with the constants k (convert.go's arithmetic), and for channel c and
// column j < 8, with a, b the values of slots j and j+8:
//
//	h[24i+8c+j] = (a*(65536-w[j]) + b*w[j] + 128) >> 8
func hrowYUVGeneric(h *uint16, y, u, v *byte, g *bilGroup, n int, k *yuvConsts) {
	groups := unsafe.Slice(g, n)
	out := unsafe.Slice(h, 24*n)
	m := matrixOf(k)
	for i := range groups {
		gr := &groups[i]
		ys := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(y), gr.base[0])), 64)
		us := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(u), gr.base[1])), 64)
		vs := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(v), gr.base[2])), 64)
		var px [3][16]uint32
		for j := 0; j < 16; j++ {
			var r, g, b byte
			if y, u, v := tbl(ys, gr.idx[0][j]), tbl(us, gr.idx[1][j]), tbl(vs, gr.idx[2][j]); m != nil {
				r, g, b = m.rgb(y, u, v) // inlined: the tables, without a call per pixel
			} else {
				r, g, b = yuvPixel(nil, k, y, u, v)
			}
			px[0][j], px[1][j], px[2][j] = uint32(r), uint32(g), uint32(b)
		}
		o := out[24*i : 24*i+24 : 24*i+24]
		for c := 0; c < 3; c++ {
			for j := 0; j < 8; j++ {
				w := uint32(gr.w[j])
				o[8*c+j] = uint16((px[c][j]*(65536-w) + px[c][j+8]*w + 128) >> 8)
			}
		}
	}
}

// tbl reads a window as NEON's TBL does: an offset past its 64 bytes gives 0.
func tbl(win []byte, i uint8) byte {
	if i >= 64 {
		return 0
	}
	return win[i]
}

// hrowRGB mixes gathered RGB pixels (3 bytes each, in bilGeom.slots order) as hrowYUVGeneric
// does: the path of frames without windows.
func hrowRGB(h []uint16, rgb []byte, groups []bilGroup, wx []uint16) {
	for i := range groups {
		o := h[24*i : 24*i+24 : 24*i+24]
		px := rgb[48*i : 48*i+48 : 48*i+48]
		for j := 0; j < 8; j++ {
			w := uint32(wx[8*i+j])
			for c := 0; c < 3; c++ {
				a, b := uint32(px[3*j+c]), uint32(px[3*(j+8)+c])
				o[8*c+j] = uint16((a*(65536-w) + b*w + 128) >> 8)
			}
		}
	}
}

// vlutGeneric mixes two horizontal rows vertically and maps through a table, one channel of n
// groups (the 8 values at 24i of top and bot into out[24i:24i+8]):
//
//	out[24i+j] = tab[(top[24i+j]*(65536-wy) + bot[24i+j]*wy + 1<<23) >> 24]
func vlutGeneric(out *byte, top, bot *uint16, n int, wy uint, tab *[256]byte) {
	if n == 0 {
		return
	}
	o := unsafe.Slice(out, 24*(n-1)+8)
	t, b := unsafe.Slice(top, 24*(n-1)+8), unsafe.Slice(bot, 24*(n-1)+8)
	w := uint32(wy)
	for i := 0; i < n; i++ {
		for j := 24 * i; j < 24*i+8; j++ {
			o[j] = tab[(uint32(t[j])*(65536-w)+uint32(b[j])*w+1<<23)>>24]
		}
	}
}

// interleave3Generic writes n groups of 8 pixels held as planes (R 8, G 8, B 8 bytes) as R, G, B
// bytes: dst[24i+3j+c] = src[24i+8c+j].
func interleave3Generic(dst, src *byte, n int) {
	d, s := unsafe.Slice(dst, 24*n), unsafe.Slice(src, 24*n)
	for i := 0; i < 24*n; i += 24 {
		for j := 0; j < 8; j++ {
			d[i+3*j], d[i+3*j+1], d[i+3*j+2] = s[i+j], s[i+8+j], s[i+16+j]
		}
	}
}

// hrowPlanarGeneric is hrowYUVGeneric without the conversion: the 16 samples of each group are
// read from the windows of the R, G and B planes.
func hrowPlanarGeneric(h *uint16, rp, gp, bp *byte, g *bilGroup, n int) {
	groups := unsafe.Slice(g, n)
	out := unsafe.Slice(h, 24*n)
	planes := [3]*byte{rp, gp, bp}
	for i := range groups {
		gr := &groups[i]
		o := out[24*i : 24*i+24 : 24*i+24]
		for c, pl := range planes {
			win := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(pl), gr.base[c])), 64)
			for j := 0; j < 8; j++ {
				w := uint32(gr.w[j])
				a, b := uint32(tbl(win, gr.idx[c][j])), uint32(tbl(win, gr.idx[c][j+8]))
				o[8*c+j] = uint16((a*(65536-w) + b*w + 128) >> 8)
			}
		}
	}
}

// deinterleave3Generic splits 16*n pixels of R, G, B bytes into planes.
func deinterleave3Generic(rp, gp, bp, src *byte, n int) {
	r, g, b, s := unsafe.Slice(rp, 16*n), unsafe.Slice(gp, 16*n), unsafe.Slice(bp, 16*n), unsafe.Slice(src, 48*n)
	for i := range r {
		r[i], g[i], b[i] = s[3*i], s[3*i+1], s[3*i+2]
	}
}

// deinterleave4Generic splits 16*n pixels of R, G, B, A bytes into R, G, B planes.
func deinterleave4Generic(rp, gp, bp, src *byte, n int) {
	r, g, b, s := unsafe.Slice(rp, 16*n), unsafe.Slice(gp, 16*n), unsafe.Slice(bp, 16*n), unsafe.Slice(src, 64*n)
	for i := range r {
		r[i], g[i], b[i] = s[4*i], s[4*i+1], s[4*i+2]
	}
}

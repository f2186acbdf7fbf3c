package camera

import "unsafe"

// The pure-Go twins of the area kernels and row conversions (area_arm64.s): the reference the
// assembly is tested against, and the implementation on other architectures.

// vaccGeneric adds w times each of n bytes of p to acc: acc[i] += w*p[i].
func vaccGeneric(acc *uint32, p *byte, n int, w uint32) {
	a, s := unsafe.Slice(acc, n), unsafe.Slice(p, n)
	for i := range a {
		a[i] += w * uint32(s[i])
	}
}

// rowYUYVGeneric converts 32*n pixels of a YUYV row into R, G, B planes.
func rowYUYVGeneric(r, g, b, row *byte, n int, k *yuvConsts) {
	m := matrixOf(k)
	rp, gp, bp := unsafe.Slice(r, 32*n), unsafe.Slice(g, 32*n), unsafe.Slice(b, 32*n)
	s := unsafe.Slice(row, 64*n)
	for i := range rp {
		x := i &^ 1
		rp[i], gp[i], bp[i] = yuvPixel(m, k, s[2*i], s[2*x+1], s[2*x+3])
	}
}

// rowYU12Generic converts 32*n pixels of planar rows (Y, and U and V at half width).
func rowYU12Generic(r, g, b, y, u, v *byte, n int, k *yuvConsts) {
	m := matrixOf(k)
	rp, gp, bp := unsafe.Slice(r, 32*n), unsafe.Slice(g, 32*n), unsafe.Slice(b, 32*n)
	ys, us, vs := unsafe.Slice(y, 32*n), unsafe.Slice(u, 16*n), unsafe.Slice(v, 16*n)
	for i := range rp {
		rp[i], gp[i], bp[i] = yuvPixel(m, k, ys[i], us[i>>1], vs[i>>1])
	}
}

// rowNV12Generic converts 32*n pixels of a Y row and its interleaved U V row.
func rowNV12Generic(r, g, b, y, uv *byte, n int, k *yuvConsts) {
	m := matrixOf(k)
	rp, gp, bp := unsafe.Slice(r, 32*n), unsafe.Slice(g, 32*n), unsafe.Slice(b, 32*n)
	ys, cs := unsafe.Slice(y, 32*n), unsafe.Slice(uv, 32*n)
	for i := range rp {
		c := i &^ 1
		rp[i], gp[i], bp[i] = yuvPixel(m, k, ys[i], cs[c], cs[c+1])
	}
}

// hsumGeneric writes n output pixels of the area resize: for pixel x and channel c, with the
// x-th footprint's columns xf[x] to xf[x]+xn[x]-1 of plane c (rp, gp, bp) and their weights
// taken in order from xw,
//
//	S = sum(w * plane[col]); out[3x+c] = tab[c][(2S + d) / 2d]
func hsumGeneric(out *byte, rp, gp, bp *uint32, xf, xn *int32, xw *uint32, n int, d uint64, tab *[3][256]byte) {
	if n == 0 {
		return
	}
	fs, ns := unsafe.Slice(xf, n), unsafe.Slice(xn, n)
	end, taps := 0, 0
	for x := range ns {
		end = max(end, int(fs[x]+ns[x]))
		taps += int(ns[x])
	}
	planes := [3][]uint32{unsafe.Slice(rp, end), unsafe.Slice(gp, end), unsafe.Slice(bp, end)}
	ws, o := unsafe.Slice(xw, taps), unsafe.Slice(out, 3*n)
	d2 := 2 * d
	for x := range fs {
		f, c := int(fs[x]), int(ns[x])
		w := ws[:c]
		ws = ws[c:]
		for ch, pl := range planes {
			a := pl[f : f+c]
			var sum uint64
			for i, wt := range w {
				sum += uint64(wt) * uint64(a[i])
			}
			o[3*x+ch] = tab[ch][byte((2*sum+d)/d2)]
		}
	}
}

//go:build arm64 && gc && !purego

package camera

// vaccNEON is vaccGeneric for n a multiple of 16 and w < 65536: acc[i] += w*p[i].
//
//go:noescape
func vaccNEON(acc *uint32, p *byte, n int, w uint32)

// rowYUYVNEON is rowYUYVGeneric: 32*n pixels of a YUYV row (64*n bytes) converted with the
// constants k into the planes r, g, b. Per pixel i, with x = i &^ 1:
//
//	r[i], g[i], b[i] = yuvPixel(k, row[2*i], row[2*x+1], row[2*x+3])
//
//go:noescape
func rowYUYVNEON(rp, gp, bp, row *byte, n int, k *yuvConsts)

// rowYU12NEON is rowYU12Generic: r[i], g[i], b[i] = yuvPixel(k, y[i], u[i>>1], v[i>>1]), i < 32*n.
//
//go:noescape
func rowYU12NEON(rp, gp, bp, y, u, v *byte, n int, k *yuvConsts)

// rowNV12NEON is rowNV12Generic: r[i], g[i], b[i] = yuvPixel(k, y[i], uv[i&^1], uv[i|1]), i < 32*n.
//
//go:noescape
func rowNV12NEON(rp, gp, bp, y, uv *byte, n int, k *yuvConsts)

// hsumNEON is hsumGeneric (scalar AArch64: the three channels share each weight load).
//
//go:noescape
func hsumNEON(out *byte, rp, gp, bp *uint32, xf, xn *int32, xw *uint32, n int, d uint64, tab *[3][256]byte)

//go:build arm64 && gc && !purego

package camera

// hrowYUVNEON is hrowYUVGeneric: for each of n groups g[i], the 16 Y, U, V samples at the group's
// window offsets are converted to R, G, B and mixed horizontally with the group's weights into
// h[24i : 24i+24] (R 8, G 8, B 8). The reference loop, per group and slot j:
//
//	d := Y - k[0]; yy := d<<16 + d*k[1] + 1<<15
//	r, g, b := clamp8((yy + k[2]*(V-128)) >> 16), clamp8((yy + k[3]*(U-128) + k[4]*(V-128)) >> 16), clamp8((yy + k[5]*(U-128)) >> 16)
//	h[24i+8c+j] = (a*(65536-w[j]) + b*w[j] + 128) >> 8   // a, b: channel c of slots j and j+8
//
//go:noescape
func hrowYUVNEON(h *uint16, y, u, v *byte, grp *bilGroup, n int, k *yuvConsts)

// vlutNEON is vlutGeneric: for each of n groups, out[24i+j] = tab[(top[24i+j]*(65536-wy) +
// bot[24i+j]*wy + 1<<23) >> 24], j < 8.
//
//go:noescape
func vlutNEON(out *byte, top, bot *uint16, n int, wy uint, tab *[256]byte)

// interleave3NEON is interleave3Generic: dst[24i+3j+c] = src[24i+8c+j] for n groups of 8 pixels.
//
//go:noescape
func interleave3NEON(dst, src *byte, n int)

// hrowPlanarNEON is hrowPlanarGeneric: hrowYUVNEON's gather and horizontal mix from R, G, B planes,
// without a conversion.
//
//go:noescape
func hrowPlanarNEON(h *uint16, rp, gp, bp *byte, grp *bilGroup, n int)

// deinterleave3NEON is deinterleave3Generic: r[i], g[i], b[i] = src[3i], src[3i+1], src[3i+2], i < 16*n.
//
//go:noescape
func deinterleave3NEON(rp, gp, bp, src *byte, n int)

// deinterleave4NEON is deinterleave4Generic: r[i], g[i], b[i] = src[4i], src[4i+1], src[4i+2], i < 16*n.
//
//go:noescape
func deinterleave4NEON(rp, gp, bp, src *byte, n int)

//go:build arm64 && gc && !purego

package kernels

// wgGEMM computes one of the 16 GEMMs of Winograd F(2,3) (winograd.go): for each block ob of 16
// output channels and each group tg of 4 tiles, the int32 sums over icg·8 input channels of the
// int16 products of V (layout [ngroups][icg][4 tiles][8 ic]) and U (layout [nob][icg·8][16 oc]),
// stored into m, the tiles mstride int32 apart, each group of 4 channels 64 int32 apart (M's
// [tile][oc/4][ξ][4] layout with m at ξ). The reference loop:
//
//	for ob, tg := range nob, ngroups {
//		for t, o := range 4, 16 {
//			var acc int32
//			for ic := range icg * 8 {
//				acc += int32(v[tg][ic/8][t][ic%8]) * int32(u[ob][ic][o])
//			}
//			m[(4*tg+t)*mstride+(4*ob+o/4)*64+o%4] = acc
//		}
//	}
//
// Per 8 input channels and 4x16 outputs: one LD1 of 4 registers of V, four of U, 128 SMLAL/SMLAL2
// by element (V's lanes; the products are exact in int32 and the sums wrap).
//
//go:noescape
func wgGEMM(v, u *int16, m *int32, ngroups, icg, nob, mstride int)

// wgInput writes the input transform V = Bᵀ d B of one tile: d(r, q) is the pixel at ptrs[4r+q]
// (icg·8 int8 channels), V(ξ) of channels 8g..8g+7 goes to the 8 int16 at v + ξ·xs + 64·g bytes
// (V's [ξ][tile group][icg][4 tiles][8 ic] layout at the tile's column). The reference loop:
//
//	for ic := range icg * 8 {
//		d[r][q] = int32(ptrs[4r+q][ic])   // r, q < 4
//		vt := wgInputTransform(&d)
//		v[ξ·xs/2 + ic/8·32 + ic%8] = int16(vt[ξ/4][ξ%4])   // ξ < 16
//	}
//
// Per 8 channels: 16 loads of 8 bytes, 16 SSUBL/SADDL (Bᵀ d, widening), 16 ADD/SUB (·B), 16 stores.
//
//go:noescape
func wgInput(ptrs *[16]*int8, v *int16, xs, icg int)

// wgOutput writes the 2x2 output pixels of one tile, n4·4 channels, from its M ([n4][16 ξ][4]
// int32) with the fp32 epilogue: the parameters p hold per group of 4 channels bias', the scales'
// float32 bits and 8 unused int32 (wino.params), hdr is the GEMM kernels' header (makeHdr), dst
// the pixels (0,0), (0,1), (1,0), (1,1). The reference loop:
//
//	for o := range n4 * 4 {
//		y := wgOutputTransform(M of channel o)       // Aᵀ M A
//		dst[i][o] = requantFP32(bias'[o] + y[i/2][i%2]>>2, scale[o], hdr)   // i < 4
//	}
//
// Per 4 channels: 5 loads, 24 ADD/SUB, 4 SSHR + 4 ADD, the fp32 requantization (12) and narrowing
// (10), 4 lane stores.
//
//go:noescape
func wgOutput(m, p *int32, hdr *int32, dst *[4]*int8, n4 int)

// wgGEMM1 is wgGEMM for one tile: v points at the tile's 8 channels of the first group, the next 8
// are 32 int16 further (its slot in a group of V), and m at the tile's M. The reference loop:
//
//	for ob := range nob {
//		for o := range 16 {
//			var acc int32
//			for ic := range icg * 8 {
//				acc += int32(v[ic/8*32+ic%8]) * int32(u[ob][ic][o])
//			}
//			m[(4*ob+o/4)*64+o%4] = acc
//		}
//	}
//
//go:noescape
func wgGEMM1(v, u *int16, m *int32, icg, nob int)

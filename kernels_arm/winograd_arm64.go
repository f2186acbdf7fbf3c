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

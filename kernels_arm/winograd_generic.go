package kernels

import (
	"math"
	"unsafe"
)

// The pure-Go twins of the Winograd kernels (winograd_arm64.go), run on the generic path and
// compared with the assembly by the differential tests.

// wgGEMMGeneric is the pure-Go twin of wgGEMM (whose doc comment is the reference loop).
func wgGEMMGeneric(v, u *int16, m *int32, ngroups, icg, nob, mstride int) {
	icp := icg * 8
	V := unsafe.Slice(v, ngroups*icp*4)
	U := unsafe.Slice(u, nob*icp*16)
	M := unsafe.Slice(m, (ngroups*4-1)*mstride+(nob*4-1)*64+4)
	for ob := 0; ob < nob; ob++ {
		for tg := 0; tg < ngroups; tg++ {
			var acc [4][16]int32
			for ic := 0; ic < icp; ic++ {
				ur := U[(ob*icp+ic)*16:][:16]
				for t := 0; t < 4; t++ {
					x := int32(V[tg*icp*4+ic/8*32+t*8+ic%8])
					for o := range ur {
						acc[t][o] += x * int32(ur[o])
					}
				}
			}
			for t := 0; t < 4; t++ {
				for o := 0; o < 16; o++ {
					M[(4*tg+t)*mstride+(4*ob+o/4)*64+o%4] = acc[t][o]
				}
			}
		}
	}
}

// wgGEMM1Generic is the pure-Go twin of wgGEMM1: wgGEMMGeneric for one tile, whose 8-channel
// groups are 32 int16 apart in V.
func wgGEMM1Generic(v, u *int16, m *int32, icg, nob int) {
	icp := icg * 8
	V := unsafe.Slice(v, (icg-1)*32+8)
	U := unsafe.Slice(u, nob*icp*16)
	M := unsafe.Slice(m, (nob*4-1)*64+4)
	for ob := 0; ob < nob; ob++ {
		var acc [16]int32
		for ic := 0; ic < icp; ic++ {
			x := int32(V[ic/8*32+ic%8])
			for o, w := range U[(ob*icp+ic)*16:][:16] {
				acc[o] += x * int32(w)
			}
		}
		for o, a := range acc {
			M[(4*ob+o/4)*64+o%4] = a
		}
	}
}

// wgInputGeneric is the pure-Go twin of wgInput (whose doc comment is the reference loop).
func wgInputGeneric(ptrs *[16]*int8, v *int16, xs, icg int) {
	V := unsafe.Slice(v, 15*xs/2+(icg-1)*32+8)
	var px [16][]int8
	for i, p := range ptrs {
		px[i] = unsafe.Slice(p, icg*8)
	}
	for ic := 0; ic < icg*8; ic++ {
		var d [4][4]int32
		for i := range px {
			d[i/4][i%4] = int32(px[i][ic])
		}
		vt := wgInputTransform(&d)
		for xi := 0; xi < 16; xi++ {
			V[xi*xs/2+ic/8*32+ic%8] = int16(vt[xi/4][xi%4])
		}
	}
}

// wgOutputGeneric is the pure-Go twin of wgOutput (whose doc comment is the reference loop).
func wgOutputGeneric(m, p *int32, hdr *int32, dst *[4]*int8, n4 int) {
	M := unsafe.Slice(m, n4*64)
	P := unsafe.Slice(p, n4*16)
	H := unsafe.Slice(hdr, 3)
	var D [4][]int8
	for i, d := range dst {
		D[i] = unsafe.Slice(d, n4*4)
	}
	for o := 0; o < n4*4; o++ {
		var mm [4][4]int32
		for xi := 0; xi < 16; xi++ {
			mm[xi/4][xi%4] = M[o/4*64+xi*4+o%4]
		}
		y := wgOutputTransform(&mm)
		bias, scale := P[o/4*16+o%4], math.Float32frombits(uint32(P[o/4*16+4+o%4]))
		for i := range D {
			D[i][o] = requantFP32(bias+y[i/2][i%2]>>2, scale, H[0], H[1], H[2])
		}
	}
}

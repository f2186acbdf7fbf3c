//go:build amd64 && gc && !purego

package kernels

import "unsafe"

// packA4 has pack_arm64.go's contract (and reference loop): 16-byte moves, and the row sums by
// VPSADBW of the bytes offset by 128.
//
//go:noescape
func packA4(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32)

// gatherRun has pack_arm64.go's contract (and reference loop), kc 1 to 3: gatherRunAVX2 with the
// indices split by source row into VPSHUFB masks.
func gatherRun(dst *int8, p *[4]*int8, steps *[4]int, idx *byte, kc int, npix int) {
	if kc < 1 || kc > 3 {
		gatherRunGeneric(dst, p, steps, idx, kc, npix)
		return
	}
	var masks [3 * 64]byte
	for i, b := range unsafe.Slice(idx, 16*kc) {
		c, l := i/16, i%16
		for ky := 0; ky < 4; ky++ {
			m := byte(0x80) // VPSHUFB: a zero byte
			if b < 64 && int(b/16) == ky {
				m = b % 16
			}
			masks[64*c+16*ky+l] = m
		}
	}
	gatherRunAVX2(dst, p, steps, &masks[0], kc, npix)
}

// gatherRunAVX2 writes npix rows of kc chunks of 16 bytes to dst: byte i of chunk c of row j is
// the OR over ky of VPSHUFB of the 16 bytes at p[ky] + j*steps[ky] by masks[64c+16ky:][:16] (0x80:
// zero). The reference loop:
//
//	for j, c, i := range npix, kc, 16 {
//		var x byte
//		for ky := range 4 {
//			if m := masks[64*c+16*ky+i]; m&0x80 == 0 {
//				x |= byte(p[ky][j*steps[ky]+int(m&15)])
//			}
//		}
//		dst[16*kc*j+16*c+i] = int8(x)
//	}
//
//go:noescape
func gatherRunAVX2(dst *int8, p *[4]*int8, steps *[4]int, masks *byte, kc int, npix int)

// The SMLAL panels and gatherA4 have no amd64 form: their names call the twins.

func packA4R(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32) {
	packA4RGeneric(dst, ptrs, ntaps, kc, sums)
}

func gatherA4(dst *int8, ptrs **int8, idx *byte, kc int) { gatherA4Generic(dst, ptrs, idx, kc) }

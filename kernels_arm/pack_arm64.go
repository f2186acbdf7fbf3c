//go:build arm64 && gc && !purego

package kernels

// packA4 copies kc chunks of 16 bytes from each of 4 row pointers per tap into the A panel dst
// (layout [ntaps*kc][4][16]), the pointers of tap t being ptrs[4t..4t+3]. When sums is not nil it
// stores the 4 rows' byte sums there. The reference loop:
//
//	for t := range ntaps {
//		for c := range kc {
//			for r := range 4 {
//				copy(dst[((t*kc+c)*4+r)*16:][:16], ptrs[4*t+r][16*c:])
//				sums[r] += Σ ptrs[4*t+r][16*c : 16*c+16]   // sums start at 0
//			}
//		}
//	}
//
//go:noescape
func packA4(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32)

// packA4R is packA4 for gemmMLAL4: each chunk of the four rows is stored in four rotations, layout
// [ntaps*kc][4 rotations][4 rows][16], rotation q of row r holding byte (i+2q) mod 16 at i:
//
//	for t, c, q, r, i := range ntaps, kc, 4, 4, 16 {
//		dst[(((t*kc+c)*4+q)*4+r)*16+i] = ptrs[4*t+r][16*c+(i+2*q)%16]
//	}
//
// and the sums as packA4.
//
//go:noescape
func packA4R(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32)

// gatherA4 writes four rows of kc chunks of 16 bytes one after the other to dst (kc is 1, 2 or 3),
// byte i of row r taken from the 16 bytes at ptrs[4r+b/16] for b = idx[i] < 64, zero for b >= 64
// (TBL over four registers); idx holds 48 bytes. The reference loop:
//
//	for r, i := range 4, 16 * kc {
//		dst[16*kc*r+i] = 0
//		if b := idx[i]; b < 64 {
//			dst[16*kc*r+i] = ptrs[4*r+b/16][b%16]
//		}
//	}
//
//go:noescape
func gatherA4(dst *int8, ptrs **int8, idx *byte, kc int)

// gatherRun is gatherA4 for npix consecutive rows of one output row: row j reads the 16 bytes at
// p[ky] + j*steps[ky] for kernel row ky (steps 0 for a row of InZero). The reference loop:
//
//	for j, i := range npix, 16 * kc {
//		dst[16*kc*j+i] = 0
//		if b := idx[i]; b < 64 {
//			dst[16*kc*j+i] = p[b/16][j*steps[b/16]+b%16]
//		}
//	}
//
//go:noescape
func gatherRun(dst *int8, p *[4]*int8, steps *[4]int, idx *byte, kc int, npix int)

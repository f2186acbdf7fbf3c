//go:build amd64 && gc && !purego

package kernels

import "unsafe"

// On amd64 the sdot path's GEMM kernels keep their arm64 contracts (gemm_arm64.go: the packed
// layouts, the parameters, the epilogues) and compute them with AVX2 in gemmAVX2; the SMLAL kernels
// are never chosen here and run their twins.

// gemmAVX2 computes mr rows (mr even, at most avxMaxRows) of ntiles column tiles of 16 output
// channels from the weights w in the SDOT layout ([ntiles][kc][4 groups][16 columns][4 bytes]).
// Row r's k-chunk c (16 bytes) is at a[r] + c*astride; its 16 outputs of tile j go to c[r][16j:].
// p, hdr, rs and flags are gemmSDOT4's (rs holds mr row sums, read with flags&flagWZ); the
// epilogue is the reference one for every flag (flagFastRQ, flagNoMin and flagNoMax only allow
// shortcuts, which this kernel does not take). The reference loop:
//
//	for j := range ntiles {
//		for r := range mr {
//			for n := range 16 {
//				acc := bias[j][n]
//				for k := range 16 * kc {
//					acc += int32(a[r][k/16*astride+k%16]) * int32(w[j][k/16][k%16/4][n][k%4])
//				}
//				c[r][16*j+n] = gemmEpilogue(acc, flags, rs, r, mult[j][n], rsh[j][n], lsh[j][n], wz[j][n], hdr)
//			}
//		}
//	}
//
// Per k-group of 4 bytes it sign-extends the 16 columns' weights (VPMOVSXBW: 4 columns x 4 bytes
// per register) and the row's 4 bytes broadcast to every column (VPERMQ), and VPMADDWD adds pairs
// of int16 products into int32: two partial sums per column and row, added by VPHADDD once per
// tile. VPMADDWD of sign-extended int8 cannot saturate (|a*w + a'*w'| <= 2*128*128), unlike
// VPMADDUBSW.
//
// With flags&flagVNNI (AVX-512 VNNI and VL) the weights are stored plus 128 (w^0x80, as the twins
// read them then too: Conv.pack stores them so) and it takes VPDPBUSD instead, four products into an
// int32 lane without intermediate saturation: the weights as the unsigned operand, the row's 4
// bytes broadcast as the signed one, so the sums gain 128*rowsum, which the epilogue takes away: us
// holds the mr row sums for it (read with flags&flagVNNI only).
//
//go:noescape
func gemmAVX2(a **int8, astride int, kc int, w *int8, p *int32, hdr *int32, rs *int32, us *int32, c **int8, mr int, ntiles int, flags int)

// avxMaxRows is the most rows one gemmAVX2 call takes from gemmRowsAVX2: each column tile's weights
// (kc*256 bytes) are read from L1 for every pair of rows.
const avxMaxRows = 16

// gemmRowsAVX2 runs gemmAVX2 over rows output pixels (even) whose A rows are at src, inC bytes
// apart (kc*16 bytes each), outputs at dst, n bytes apart; with flags&flagWZ it sums each row first.
func gemmRowsAVX2(src *int8, inC int, dst *int8, n int, rows int, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	var a, c [avxMaxRows]*int8
	var rs [avxMaxRows]int32
	for r0 := 0; r0 < rows; r0 += avxMaxRows {
		mr := min(avxMaxRows, rows-r0)
		for r := 0; r < mr; r++ {
			a[r] = (*int8)(unsafe.Add(unsafe.Pointer(src), (r0+r)*inC))
			c[r] = (*int8)(unsafe.Add(unsafe.Pointer(dst), (r0+r)*n))
			if flags&(flagWZ|flagVNNI) != 0 {
				rs[r] = sumBytes(a[r], kc, 16)
			}
		}
		gemmAVX2(&a[0], 16, kc, w, p, hdr, &rs[0], &rs[0], &c[0], mr, ntiles, flags)
	}
}

// sumBytes returns the sum of kc chunks of 16 int8, stride bytes apart from a (VPSADBW of the bytes
// offset by 128). The reference loop:
//
//	var s int32
//	for c := range kc {
//		for _, x := range a[c*stride:][:16] {
//			s += int32(x)
//		}
//	}
//	return s
//
//go:noescape
func sumBytes(a *int8, kc int, stride int) int32

func gemmSDOT4(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	ap := [4]*int8{a, (*int8)(unsafe.Add(unsafe.Pointer(a), 16)), (*int8)(unsafe.Add(unsafe.Pointer(a), 32)), (*int8)(unsafe.Add(unsafe.Pointer(a), 48))}
	cp := [4]*int8{c0, c1, c2, c3}
	var us [4]int32
	if flags&flagVNNI != 0 { // the VNNI loop's row sums
		for r, q := range ap {
			us[r] = sumBytes(q, kc, 64)
		}
	}
	gemmAVX2(&ap[0], 64, kc, w, p, hdr, rs, &us[0], &cp[0], 4, ntiles, flags)
}

// gemmSDOT1 computes its row twice (gemmAVX2 takes pairs), storing the same bytes twice.
func gemmSDOT1(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	ap, cp := [2]*int8{a, a}, [2]*int8{c0, c0}
	var rs2, us [2]int32
	if flags&flagWZ != 0 {
		rs2[0], rs2[1] = *rs, *rs
	}
	if flags&flagVNNI != 0 {
		us[0] = sumBytes(a, kc, 16)
		us[1] = us[0]
	}
	gemmAVX2(&ap[0], 16, kc, w, p, hdr, &rs2[0], &us[0], &cp[0], 2, ntiles, flags)
}

// gemmSDOT4P reads the A rows straight from src: no panel is packed (panel is unused).
func gemmSDOT4P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	gemmRowsAVX2(src, inC, dst, n, 4*npanels, kc, w, p, hdr, ntiles, flags)
}

// gemmSDOT6P is gemmSDOT4P: the AVX2 kernel has no 6-row form, the rows are the same.
func gemmSDOT6P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	gemmRowsAVX2(src, inC, dst, n, 6*npanels, kc, w, p, hdr, ntiles, flags)
}

func gemmMLAL4(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	gemmMLALGeneric(4, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
}

func gemmMLAL1(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	gemmMLALGeneric(1, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
}

func gemmMLAL4P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	gemmPanelsGeneric(true, src, inC, dst, n, npanels, panel, kc, w, p, hdr, ntiles, flags)
}

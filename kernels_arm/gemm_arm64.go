//go:build arm64 && gc && !purego

package kernels

// gemmSDOT4 computes, for each of ntiles column tiles j of 16 output channels, the 4x16 tile of
// outputs of the 4 rows of the A panel a (layout [kc][4][16]) against the packed weights w
// (layout [ntiles][kc][4][16][4]) and requantizes it into rows c0..c3, 16 bytes per tile. p holds
// sdotParams int32 per tile (bias, mult, rsh, lsh, wz: 16 each), hdr the output zero point and the
// activation bounds, rs the 4 row sums of the panel (read when flags&flagWZ). The reference loop:
//
//	for j := range ntiles {
//		for m, n := range 4, 16 {
//			acc := bias[j][n]
//			for k := range 16 * kc {
//				acc += int32(a[k/16][m][k%16]) * int32(w[j][k/16][k%16/4][n][k%4])
//			}
//			if flags&flagWZ != 0 {
//				acc -= wz[j][n] * rs[m]
//			}
//			c_m[16*j+n] = requant(acc, mult[j][n], lsh[j][n] (if flags&flagLSH), -rsh[j][n], hdr)
//		}
//	}
//
// With flags&flagFastRQ (every rsh <= -1) the epilogue skips the rounding fixup's mask and adds the
// zero point after saturating to int16: the same bytes, under that precondition. With flags&flagFP32
// the mult slots hold float32 scales (their bits) and rsh, lsh are ignored:
//
//	c_m[16*j+n] = requantFP32(acc, scale[j][n], hdr) // SCVTF, FMUL, FCVTNS, then as flagFastRQ
//
// In those two epilogues flags&flagNoMin (hdr[1] is -128) and flags&flagNoMax (hdr[2] is 127) skip
// the clamps that cannot bind.
//
//go:noescape
func gemmSDOT4(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int)

// gemmSDOT1 is gemmSDOT4 for a single row: a is the row itself (kc*16 bytes), c1..c3 are unused.
//
//go:noescape
func gemmSDOT1(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int)

// gemmMLAL4 is gemmSDOT4 for the SMULL/SMLAL path, with the same 4x16 tiles and epilogue: a is
// the panel of packA4R ([kc][4 rotations q][4 rows][16], rotation q of a row holding byte (i+2q)
// mod 16 at i), w is laid out [ntiles][kc][4 q][4 column groups v][16] and p holds mlalParams int32
// per tile (a flags word and 3 unused, then as gemmSDOT4). Int32 lane u of column group v adds the
// int16 lanes 2u and 2u+1 of SMULL+SMLAL2, each the sum of the products of bytes l and l+8. With
// flags&flagSafe, tiles whose flags word has bit 0 set (a weight is -128) are computed one product
// per int16 lane; the others (all tiles without flagSafe, whose tile flags are then not read) add
// two products in an int16 lane, as the reference loop:
//
//	for j := range ntiles {
//		for m, v, u := range 4, 4, 4 {
//			acc := bias[j][4*v+u]
//			for c, q := range kc, 4 {
//				for l := 2 * u; l < 2*u+2; l++ {
//					p0 := int32(a[c][q][m][l]) * int32(w[j][c][q][v][l])
//					p1 := int32(a[c][q][m][l+8]) * int32(w[j][c][q][v][l+8])
//					if flags&flagSafe != 0 && tileflags[j]&1 != 0 {
//						acc += p0 + p1
//					} else {
//						acc += int32(int16(p0 + p1)) // SMULL, SMLAL2: wraps only for two (-128)*(-128)
//					}
//				}
//			}
//			// then as gemmSDOT4
//		}
//	}
//
//go:noescape
func gemmMLAL4(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int)

// gemmMLAL1 is gemmMLAL4 for a single row: a is the row itself (kc*16 bytes; the kernel rotates
// each chunk with EXT), c1..c3 are unused.
//
//go:noescape
func gemmMLAL1(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int)

// gemmSDOT4P runs gemmSDOT4 over npanels panels of a pointwise layer, packing each panel itself:
// panel p is packA4 of the 4 input pixels at src[(4p+r)*inC:] (kc chunks each; the bytes past
// inC meet zero weights), into the scratch panel (kc*64 bytes), its outputs the rows
// dst[(4p+r)*n:]. With flags&flagWZ the packing also sums the panel's rows (once per panel, for
// all its column tiles) for the epilogue's acc -= wz*rowsum. The reference loop:
//
//	for p := range npanels {
//		packA4(panel, [src[4p*inC:], src[(4p+1)*inC:], ...], 1, kc, &rs) // rs if flags&flagWZ
//		gemmSDOT4(panel, kc, w, p, hdr, &rs, dst[4p*n:], dst[(4p+1)*n:], ..., ntiles, flags)
//	}
//
//go:noescape
func gemmSDOT4P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int)

// gemmMLAL4P is gemmSDOT4P for gemmMLAL4: the panels are packed as by packA4R (kc*256 bytes).
//
//go:noescape
func gemmMLAL4P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int)

// gemmSDOT6P is gemmSDOT4P in panels of 6 pixels (6x16 tiles), for flags&flagFP32 only: each
// panel is packed transposed, 4 bytes per row and k-group (gemmSDOT6PGeneric, a6Off), so that SDOT
// by element takes the row from the lane; 24 accumulators, 6 loads per 96 SDOTs. hdr is makeHdr's
// (8 words: LD3R reads the replicated constants at hdr[4:7]); panel holds kc*96 bytes and, with
// flags&flagWZ, the 6 row sums after them (32 bytes, written while packing), which start each
// tile's accumulators at bias - wz*rowsum (24 MLS by element). The reference loop:
//
//	for p := range npanels {
//		for r := range 6 {
//			rs := Σ src[(6p+r)*inC:][:16*kc] // if flags&flagWZ
//			gemmSDOT1(src[(6p+r)*inC:], kc, w, p, hdr, &rs, dst[(6p+r)*n:], nil, nil, nil, ntiles, flags)
//		}
//	}
//
//go:noescape
func gemmSDOT6P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int)

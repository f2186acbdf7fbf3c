package main

// smlalElemH is smlal{2} vd.4s, vn.{4h,8h}, vm.h[idx]: four int16 x int16 products of the low
// (second: high) half of vn by lane idx of vm (V0-V15), accumulated into int32 lanes. Encoding
// 0 Q 0 01111 01 L M Rm 0010 H 0 Rn Rd with the index H:L:M and a four-bit Rm.
func smlalElemH(d, n, m, idx int, second bool) insn {
	if m > 15 {
		panic("smlalElemH: the element register must be V0-V15")
	}
	var q uint32
	arr, mn := "4h", "smlal"
	if second {
		q, arr, mn = 1, "8h", "smlal2"
	}
	enc := q<<30 | 0x0f000000 | 1<<22 | uint32(idx>>1&1)<<21 | uint32(idx&1)<<20 | uint32(m)<<16 |
		0b0010<<12 | uint32(idx>>2&1)<<11 | uint32(n)<<5 | uint32(d)
	return mk(enc, "%s v%d.4s, v%d.%s, v%d.h[%d]", mn, d, n, arr, m, idx)
}

// wgGEMM: one of Winograd F(2,3)'s 16 GEMMs (kernels_arm/winograd_arm64.go), 4 tiles x 16 output
// channels per register tile: accumulators V16-V31 (tile t, channel group j in V(16+4t+j)), the 4
// tiles' 8 input channels in V0-V3 (one LD1), the weights of 4 input channels in V4-V11 (two LD1 of
// 4 registers: channels 0-7 and 8-15 of each), 128 SMLAL/SMLAL2 by element per 8 input channels.
func wgGEMM(g *gen) {
	g.text("wgGEMM", "wgGEMM(v, u *int16, m *int32, ngroups, icg, nob, mstride int)", 56)
	g.p("MOVD v+0(FP), R0")
	g.p("MOVD u+8(FP), R1")
	g.p("MOVD m+16(FP), R2")
	g.p("MOVD ngroups+24(FP), R3")
	g.p("MOVD icg+32(FP), R4")
	g.p("MOVD nob+40(FP), R5")
	g.p("MOVD mstride+48(FP), R6")
	g.p("LSL $2, R6, R6") // the tile stride in bytes
	g.label("wgob")
	g.p("MOVD R0, R7")  // V of tile group 0
	g.p("MOVD R2, R10") // M of tile group 0, this block
	g.p("MOVD R3, R12")
	g.label("wgtg")
	g.p("MOVD R1, R8")
	g.p("MOVD R4, R9")
	for a := 16; a < 32; a++ {
		g.p("VEOR V%d.B16, V%d.B16, V%d.B16", a, a, a)
	}
	g.label("wgic")
	g.p("VLD1.P 64(R7), [V0.H8, V1.H8, V2.H8, V3.H8]")
	for half := 0; half < 2; half++ {
		g.p("VLD1.P 64(R8), [V4.H8, V5.H8, V6.H8, V7.H8]")
		g.p("VLD1.P 64(R8), [V8.H8, V9.H8, V10.H8, V11.H8]")
		for k := 0; k < 4; k++ {
			lane := 4*half + k
			lo, hi := 4+2*k, 5+2*k
			for t := 0; t < 4; t++ {
				g.w(smlalElemH(16+4*t, lo, t, lane, false))
				g.w(smlalElemH(17+4*t, lo, t, lane, true))
				g.w(smlalElemH(18+4*t, hi, t, lane, false))
				g.w(smlalElemH(19+4*t, hi, t, lane, true))
			}
		}
	}
	g.p("SUBS $1, R9, R9")
	g.p("BNE wgic")
	// Store: tile t at R10 + t*R6, channel group j 256 bytes further per j.
	g.p("MOVD R10, R11")
	for t := 0; t < 4; t++ {
		for j := 0; j < 4; j++ {
			g.p("FMOVQ F%d, %d(R11)", 16+4*t+j, 256*j)
		}
		if t < 3 {
			g.p("ADD R6, R11, R11")
		}
	}
	g.p("ADD R6<<2, R10, R10")
	g.p("SUBS $1, R12, R12")
	g.p("BNE wgtg")
	g.p("MOVD R8, R1") // the next block's weights follow
	g.p("ADD $1024, R2, R2")
	g.p("SUBS $1, R5, R5")
	g.p("BNE wgob")
	g.p("RET")
}

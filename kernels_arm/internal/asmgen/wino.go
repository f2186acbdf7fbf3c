package main

import "strings"

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

// smullElemH is smull{2} vd.4s, vn.{4h,8h}, vm.h[idx]: smlalElemH without the accumulation
// (opcode 1010).
func smullElemH(d, n, m, idx int, second bool) insn {
	i := smlalElemH(d, n, m, idx, second)
	return mk(i.enc&^(0xf<<12)|0b1010<<12, "%s", strings.Replace(i.mnem, "smlal", "smull", 1))
}

// wgGEMM: one of Winograd F(2,3)'s 16 GEMMs (kernels_arm/winograd_arm64.go), 4 tiles x 16 output
// channels per register tile: accumulators V16-V31 (tile t, channel group j in V(16+4t+j)), the 4
// tiles' 8 input channels in V0-V3 (one LD1), the weights of 4 input channels in V4-V11 (two LD1 of
// 4 registers: channels 0-7 and 8-15 of each), 128 SMLAL/SMLAL2 by element per 8 input channels;
// the first 8 channels peeled, their first products by SMULL (no zeroing of the accumulators).
// wgGEMM1 is the same for one tile (the band's last tiles): V0 and V16-V19.
func wgGEMM(g *gen)  { wgGEMMTiles(g, 4) }
func wgGEMM1(g *gen) { wgGEMMTiles(g, 1) }

func wgGEMMTiles(g *gen, nt int) {
	name := "wgGEMM"
	if nt == 1 {
		name = "wgGEMM1"
	}
	pfx := strings.ToLower(name)
	// wgGEMM loops over the groups of 4 tiles (ngroups, mstride) with the weights' pointer in R8,
	// rewound to R1 per group; wgGEMM1 has one tile and walks the weights in R1 itself.
	wr := "R8"
	if nt == 4 {
		g.text(name, name+"(v, u *int16, m *int32, ngroups, icg, nob, mstride int)", 56)
		g.p("MOVD v+0(FP), R0")
		g.p("MOVD u+8(FP), R1")
		g.p("MOVD m+16(FP), R2")
		g.p("MOVD ngroups+24(FP), R3")
		g.p("MOVD icg+32(FP), R4")
		g.p("MOVD nob+40(FP), R5")
		g.p("MOVD mstride+48(FP), R6")
		g.p("LSL $2, R6, R6") // the tile stride in bytes
	} else {
		wr = "R1"
		g.text(name, name+"(v, u *int16, m *int32, icg, nob int)", 40)
		g.p("MOVD v+0(FP), R0")
		g.p("MOVD u+8(FP), R1")
		g.p("MOVD m+16(FP), R2")
		g.p("MOVD icg+24(FP), R4")
		g.p("MOVD nob+32(FP), R5")
	}
	g.p("MOVD $64, R13") // V's stride per 8 input channels
	g.label(pfx + "ob")
	g.p("MOVD R0, R7") // V of tile group 0
	if nt == 4 {
		g.p("MOVD R2, R10") // M of tile group 0, this block
		g.p("MOVD R3, R12")
		g.label(pfx + "tg")
		g.p("MOVD R1, R8")
	}
	g.p("SUB $1, R4, R9")
	block := func(first bool) {
		if nt == 4 {
			g.p("VLD1.P 64(R7), [V0.H8, V1.H8, V2.H8, V3.H8]")
		} else {
			g.p("VLD1.P (R7)(R13), [V0.H8]")
		}
		for half := 0; half < 2; half++ {
			g.p("VLD1.P 64(%s), [V4.H8, V5.H8, V6.H8, V7.H8]", wr)
			g.p("VLD1.P 64(%s), [V8.H8, V9.H8, V10.H8, V11.H8]", wr)
			for k := 0; k < 4; k++ {
				lane := 4*half + k
				lo, hi := 4+2*k, 5+2*k
				op := smlalElemH
				if first && lane == 0 {
					op = smullElemH
				}
				for t := 0; t < nt; t++ {
					g.w(op(16+4*t, lo, t, lane, false))
					g.w(op(17+4*t, lo, t, lane, true))
					g.w(op(18+4*t, hi, t, lane, false))
					g.w(op(19+4*t, hi, t, lane, true))
				}
			}
		}
	}
	block(true)
	g.p("CBZ R9, %sstore", pfx)
	g.label(pfx + "ic")
	block(false)
	g.p("SUBS $1, R9, R9")
	g.p("BNE %sic", pfx)
	g.label(pfx + "store")
	if nt == 1 {
		// Store: channel group j 256 bytes from R2; the next block's weights follow in R1.
		for j := 0; j < 4; j++ {
			g.p("FMOVQ F%d, %d(R2)", 16+j, 256*j)
		}
	} else {
		// Store: tile t at R10 + t*R6, channel group j 256 bytes further per j.
		g.p("MOVD R10, R11")
		for t := 0; t < nt; t++ {
			for j := 0; j < 4; j++ {
				g.p("FMOVQ F%d, %d(R11)", 16+4*t+j, 256*j)
			}
			if t < nt-1 {
				g.p("ADD R6, R11, R11")
			}
		}
		g.p("ADD R6<<2, R10, R10")
		g.p("SUBS $1, R12, R12")
		g.p("BNE %stg", pfx)
		g.p("MOVD R8, R1") // the next block's weights follow
	}
	g.p("ADD $1024, R2, R2")
	g.p("SUBS $1, R5, R5")
	g.p("BNE %sob", pfx)
	g.p("RET")
}

// saddl/ssubl vd.8h, vn.8b, vm.8b: the int8 lanes widened to int16, added or subtracted.
func saddl8H(d, n, m int) insn {
	return mk(threeDiff(0, 0, 0, 0b0000, d, n, m), "saddl v%d.8h, v%d.8b, v%d.8b", d, n, m)
}

// sshr vd.4s, vn.4s, #sh
func sshr4S(d, n, sh int) insn {
	return mk(shiftImm(1, 0, uint32(64-sh), 0b00000, d, n), "sshr v%d.4s, v%d.4s, #%d", d, n, sh)
}

// st1 {vt.s}[lane], [xn], #4: one 32-bit lane stored, post-indexed (single structure; Q:S hold the
// lane).
func st1LaneS(t, n, lane int) insn {
	return mk(0x0d9f8000|uint32(lane>>1)<<30|uint32(lane&1)<<12|uint32(n)<<5|uint32(t),
		"st1 {v%d.s}[%d], [x%d], #4", t, lane, n)
}

// wgInput: the input transform V = Bᵀ d B of one tile, 8 input channels per step (winograd_arm64.go).
// The 16 pixel pointers in R0-R15 (post-incremented by 8), d(r,q) in V(4r+q).8b; the row transform
// Bᵀ d widens as it goes (SSUBL/SADDL) into t(r,q) = V(16+4r+q).8h, the column transform writes
// V(ξ) = V(4r+q), stored ξ by ξ, xs bytes apart.
func wgInput(g *gen) {
	g.text("wgInput", "wgInput(ptrs *[16]*int8, v *int16, xs int, icg int)", 32)
	g.p("MOVD ptrs+0(FP), R19")
	g.p("MOVD v+8(FP), R20")
	g.p("MOVD xs+16(FP), R21")
	g.p("MOVD icg+24(FP), R22")
	for i := 0; i < 16; i += 2 {
		g.p("LDP %d(R19), (R%d, R%d)", 8*i, i, i+1)
	}
	g.label("wginloop")
	for i := 0; i < 16; i++ {
		g.p("VLD1.P 8(R%d), [V%d.B8]", i, i)
	}
	d := func(r, q int) int { return 4*r + q }
	tt := func(r, q int) int { return 16 + 4*r + q }
	for q := 0; q < 4; q++ {
		g.w(ssubl8H(tt(0, q), d(0, q), d(2, q), false)) // d0 - d2
		g.w(saddl8H(tt(1, q), d(1, q), d(2, q)))        // d1 + d2
		g.w(ssubl8H(tt(2, q), d(2, q), d(1, q), false)) // d2 - d1
		g.w(ssubl8H(tt(3, q), d(1, q), d(3, q), false)) // d1 - d3
	}
	for r := 0; r < 4; r++ { // Go's VSUB Vm, Vn, Vd is Vd = Vn - Vm
		g.p("VSUB V%d.H8, V%d.H8, V%d.H8", tt(r, 2), tt(r, 0), d(r, 0)) // t0 - t2
		g.p("VADD V%d.H8, V%d.H8, V%d.H8", tt(r, 2), tt(r, 1), d(r, 1)) // t1 + t2
		g.p("VSUB V%d.H8, V%d.H8, V%d.H8", tt(r, 1), tt(r, 2), d(r, 2)) // t2 - t1
		g.p("VSUB V%d.H8, V%d.H8, V%d.H8", tt(r, 3), tt(r, 1), d(r, 3)) // t1 - t3
	}
	g.p("MOVD R20, R23")
	for xi := 0; xi < 16; xi++ {
		g.p("VST1.P [V%d.H8], (R23)(R21)", xi)
	}
	g.p("ADD $64, R20, R20")
	g.p("SUBS $1, R22, R22")
	g.p("BNE wginloop")
	g.p("RET")
}

// wgOutput: the output transform and fp32 epilogue of one tile (winograd_arm64.go), 4 output
// channels per step: M's 16 ξ in V16-V31 (ξ = 4r+q in V(16+ξ)), transformed in place (Aᵀ M into
// rows 0 and 1, then M A into columns 0 and 1), so that the outputs (r, q) end in V16, V17, V20,
// V21; bias' + Y >> 2 into V4-V7; requantized by the scales in V1, narrowed into V8 (pixel p in
// 32-bit lane p) and stored to the 4 pixel pointers R4-R7.
func wgOutput(g *gen) {
	g.text("wgOutput", "wgOutput(m *int32, p *int32, hdr *int32, dst *[4]*int8, n4 int)", 40)
	g.p("MOVD m+0(FP), R0")
	g.p("MOVD p+8(FP), R1")
	g.p("MOVD hdr+16(FP), R2")
	g.p("MOVD dst+24(FP), R3")
	g.p("MOVD n4+32(FP), R8")
	g.p("ADD $16, R2, R2")
	g.p("VLD3R (R2), [V12.S4, V13.S4, V14.S4]")
	g.p("LDP 0(R3), (R4, R5)")
	g.p("LDP 16(R3), (R6, R7)")
	g.label("wgoutloop")
	for i := 0; i < 4; i++ {
		g.p("VLD1.P 64(R0), %s", vlist(16+4*i, 4, "S4"))
	}
	g.p("VLD1.P 64(R1), %s", vlist(0, 4, "S4"))
	m := func(r, q int) int { return 16 + 4*r + q }
	for q := 0; q < 4; q++ { // rows: s0 = m0+m1+m2 into row 0, s1 = m1-m2-m3 into row 1
		g.p("VADD V%d.S4, V%d.S4, V%d.S4", m(1, q), m(0, q), m(0, q))
		g.p("VADD V%d.S4, V%d.S4, V%d.S4", m(2, q), m(0, q), m(0, q))
		g.p("VSUB V%d.S4, V%d.S4, V%d.S4", m(2, q), m(1, q), m(1, q))
		g.p("VSUB V%d.S4, V%d.S4, V%d.S4", m(3, q), m(1, q), m(1, q))
	}
	for r := 0; r < 2; r++ { // columns: y0 = s0+s1+s2, y1 = s1-s2-s3
		g.p("VADD V%d.S4, V%d.S4, V%d.S4", m(r, 1), m(r, 0), m(r, 0))
		g.p("VADD V%d.S4, V%d.S4, V%d.S4", m(r, 2), m(r, 0), m(r, 0))
		g.p("VSUB V%d.S4, V%d.S4, V%d.S4", m(r, 2), m(r, 1), m(r, 1))
		g.p("VSUB V%d.S4, V%d.S4, V%d.S4", m(r, 3), m(r, 1), m(r, 1))
	}
	ys := []int{m(0, 0), m(0, 1), m(1, 0), m(1, 1)}
	for i, y := range ys {
		g.w(sshr4S(4+i, y, 2))
	}
	for i := range ys {
		g.p("VADD V0.S4, V%d.S4, V%d.S4", 4+i, 4+i)
	}
	accs := []int{4, 5, 6, 7}
	requantFP32(g, accs, []int{1, 1, 1, 1})
	narrowClampR(g, 8, [4]int{4, 5, 6, 7}, 12, true, true, 13, 14)
	for i := 0; i < 4; i++ {
		g.w(st1LaneS(8, 4+i, i))
	}
	g.p("SUBS $1, R8, R8")
	g.p("BNE wgoutloop")
	g.p("RET")
}

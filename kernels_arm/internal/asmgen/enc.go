package main

import "fmt"

// This file encodes the Advanced SIMD instructions the Go assembler lacks. Each helper returns the
// 32-bit encoding and the GNU mnemonic; the kernels_arm test TestWordEncodings assembles every
// mnemonic with aarch64-linux-gnu-as and compares, so a wrong field here fails a test, not a board.
//
// Field layouts are from the Arm ARM (DDI 0487), section C4.1.9 "Advanced SIMD data processing":
// three same, three different, two-register miscellaneous, shift by immediate, vector x indexed element.

// threeSame: 0 Q U 01110 size 1 Rm opcode 1 Rn Rd.
func threeSame(q, u, size, opcode uint32, d, n, m int) uint32 {
	return q<<30 | u<<29 | 0x0e200400 | size<<22 | uint32(m)<<16 | opcode<<11 | uint32(n)<<5 | uint32(d)
}

// threeDiff: 0 Q U 01110 size 1 Rm opcode 00 Rn Rd.
func threeDiff(q, u, size, opcode uint32, d, n, m int) uint32 {
	return q<<30 | u<<29 | 0x0e200000 | size<<22 | uint32(m)<<16 | opcode<<12 | uint32(n)<<5 | uint32(d)
}

// twoMisc: 0 Q U 01110 size 10000 opcode 10 Rn Rd.
func twoMisc(q, u, size, opcode uint32, d, n int) uint32 {
	return q<<30 | u<<29 | 0x0e200800 | size<<22 | opcode<<12 | uint32(n)<<5 | uint32(d)
}

// shiftImm: 0 Q U 011110 immh:immb opcode 1 Rn Rd.
func shiftImm(q, u, immhb, opcode uint32, d, n int) uint32 {
	return q<<30 | u<<29 | 0x0f000400 | immhb<<16 | opcode<<11 | uint32(n)<<5 | uint32(d)
}

// byElemS: 0 Q U 01111 size L M Rm opcode H 0 Rn Rd with 32-bit elements (size 10), index H:L and a
// five-bit Rm (M:Rm).
func byElemS(q, u, opcode uint32, d, n, m, idx int) uint32 {
	return q<<30 | u<<29 | 0x0f000000 | 2<<22 | uint32(idx&1)<<21 | uint32(m)<<16 | opcode<<12 |
		uint32(idx>>1)<<11 | uint32(n)<<5 | uint32(d)
}

type insn struct {
	enc  uint32
	mnem string
}

func mk(enc uint32, format string, args ...any) insn {
	return insn{enc, fmt.Sprintf(format, args...)}
}

// sdot vd.4s, vn.16b, vm.4b[idx]: four 4-way int8 dot products, accumulated.
func sdotElem(d, n, m, idx int) insn {
	return mk(byElemS(1, 0, 0b1110, d, n, m, idx), "sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, idx)
}

// mls vd.4s, vn.4s, vm.s[idx]
func mlsElem4S(d, n, m, idx int) insn {
	return mk(byElemS(1, 1, 0b0100, d, n, m, idx), "mls v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, idx)
}

func sqrdmulh4S(d, n, m int) insn {
	return mk(threeSame(1, 1, 2, 0b10110, d, n, m), "sqrdmulh v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

func sshl4S(d, n, m int) insn {
	return mk(threeSame(1, 0, 2, 0b01000, d, n, m), "sshl v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

func srshl4S(d, n, m int) insn {
	return mk(threeSame(1, 0, 2, 0b01010, d, n, m), "srshl v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

func smax16B(d, n, m int) insn {
	return mk(threeSame(1, 0, 0, 0b01100, d, n, m), "smax v%d.16b, v%d.16b, v%d.16b", d, n, m)
}

func smin16B(d, n, m int) insn {
	return mk(threeSame(1, 0, 0, 0b01101, d, n, m), "smin v%d.16b, v%d.16b, v%d.16b", d, n, m)
}

// smull vd.8h, vn.8b, vm.8b (second: smull2 on the high halves).
func smull8H(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 0, 0b1100, d, n, m), "smull2 v%d.8h, v%d.16b, v%d.16b", d, n, m)
	}
	return mk(threeDiff(0, 0, 0, 0b1100, d, n, m), "smull v%d.8h, v%d.8b, v%d.8b", d, n, m)
}

// smull vd.4s, vn.4h, vm.4h (second: smull2 vd.4s, vn.8h, vm.8h).
func smull4S(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 1, 0b1100, d, n, m), "smull2 v%d.4s, v%d.8h, v%d.8h", d, n, m)
	}
	return mk(threeDiff(0, 0, 1, 0b1100, d, n, m), "smull v%d.4s, v%d.4h, v%d.4h", d, n, m)
}

// ssubl vd.8h, vn.8b, vm.8b (second: ssubl2 vd.8h, vn.16b, vm.16b).
func ssubl8H(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 0, 0b0010, d, n, m), "ssubl2 v%d.8h, v%d.16b, v%d.16b", d, n, m)
	}
	return mk(threeDiff(0, 0, 0, 0b0010, d, n, m), "ssubl v%d.8h, v%d.8b, v%d.8b", d, n, m)
}

// smlal vd.8h, vn.8b, vm.8b (second: smlal2 on the high halves).
func smlal8H(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 0, 0b1000, d, n, m), "smlal2 v%d.8h, v%d.16b, v%d.16b", d, n, m)
	}
	return mk(threeDiff(0, 0, 0, 0b1000, d, n, m), "smlal v%d.8h, v%d.8b, v%d.8b", d, n, m)
}

// smlal vd.4s, vn.4h, vm.4h (second: smlal2 vd.4s, vn.8h, vm.8h).
func smlal4S(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 1, 0b1000, d, n, m), "smlal2 v%d.4s, v%d.8h, v%d.8h", d, n, m)
	}
	return mk(threeDiff(0, 0, 1, 0b1000, d, n, m), "smlal v%d.4s, v%d.4h, v%d.4h", d, n, m)
}

// saddw vd.8h, vn.8h, vm.8b (second: saddw2 vd.8h, vn.8h, vm.16b).
func saddw8H(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 0, 0b0001, d, n, m), "saddw2 v%d.8h, v%d.8h, v%d.16b", d, n, m)
	}
	return mk(threeDiff(0, 0, 0, 0b0001, d, n, m), "saddw v%d.8h, v%d.8h, v%d.8b", d, n, m)
}

// saddl vd.4s, vn.4h, vm.4h (second: saddl2 vd.4s, vn.8h, vm.8h).
func saddl4S(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 1, 0b0000, d, n, m), "saddl2 v%d.4s, v%d.8h, v%d.8h", d, n, m)
	}
	return mk(threeDiff(0, 0, 1, 0b0000, d, n, m), "saddl v%d.4s, v%d.4h, v%d.4h", d, n, m)
}

// saddw vd.4s, vn.4s, vm.4h (second: saddw2 vd.4s, vn.4s, vm.8h).
func saddw4S(d, n, m int, second bool) insn {
	if second {
		return mk(threeDiff(1, 0, 1, 0b0001, d, n, m), "saddw2 v%d.4s, v%d.4s, v%d.8h", d, n, m)
	}
	return mk(threeDiff(0, 0, 1, 0b0001, d, n, m), "saddw v%d.4s, v%d.4s, v%d.4h", d, n, m)
}

// saddlp vd.8h, vn.16b
func saddlp8H(d, n int) insn {
	return mk(twoMisc(1, 0, 0, 0b00010, d, n), "saddlp v%d.8h, v%d.16b", d, n)
}

// saddlp vd.4s, vn.8h
func saddlp4S(d, n int) insn {
	return mk(twoMisc(1, 0, 1, 0b00010, d, n), "saddlp v%d.4s, v%d.8h", d, n)
}

// sadalp vd.8h, vn.16b
func sadalp8H(d, n int) insn {
	return mk(twoMisc(1, 0, 0, 0b00110, d, n), "sadalp v%d.8h, v%d.16b", d, n)
}

// sadalp vd.4s, vn.8h
func sadalp4S(d, n int) insn {
	return mk(twoMisc(1, 0, 1, 0b00110, d, n), "sadalp v%d.4s, v%d.8h", d, n)
}

// sqxtn vd.4h, vn.4s (second: sqxtn2 vd.8h, vn.4s).
func sqxtnH(d, n int, second bool) insn {
	if second {
		return mk(twoMisc(1, 0, 1, 0b10100, d, n), "sqxtn2 v%d.8h, v%d.4s", d, n)
	}
	return mk(twoMisc(0, 0, 1, 0b10100, d, n), "sqxtn v%d.4h, v%d.4s", d, n)
}

// sqxtn vd.8b, vn.8h (second: sqxtn2 vd.16b, vn.8h).
func sqxtnB(d, n int, second bool) insn {
	if second {
		return mk(twoMisc(1, 0, 0, 0b10100, d, n), "sqxtn2 v%d.16b, v%d.8h", d, n)
	}
	return mk(twoMisc(0, 0, 0, 0b10100, d, n), "sqxtn v%d.8b, v%d.8h", d, n)
}

// ssra vd.4s, vn.4s, #sh
func ssra4S(d, n, sh int) insn {
	return mk(shiftImm(1, 0, uint32(64-sh), 0b00010, d, n), "ssra v%d.4s, v%d.4s, #%d", d, n, sh)
}

// sxtl vd.8h, vn.8b (second: sxtl2 vd.8h, vn.16b).
func sxtl8H(d, n int, second bool) insn {
	if second {
		return mk(shiftImm(1, 0, 8, 0b10100, d, n), "sxtl2 v%d.8h, v%d.16b", d, n)
	}
	return mk(shiftImm(0, 0, 8, 0b10100, d, n), "sxtl v%d.8h, v%d.8b", d, n)
}

// sxtl vd.4s, vn.4h (second: sxtl2 vd.4s, vn.8h).
func sxtl4S(d, n int, second bool) insn {
	if second {
		return mk(shiftImm(1, 0, 16, 0b10100, d, n), "sxtl2 v%d.4s, v%d.8h", d, n)
	}
	return mk(shiftImm(0, 0, 16, 0b10100, d, n), "sxtl v%d.4s, v%d.4h", d, n)
}

// sqadd vd.8h, vn.8h, vm.8h
func sqadd8H(d, n, m int) insn {
	return mk(threeSame(1, 0, 1, 0b00001, d, n, m), "sqadd v%d.8h, v%d.8h, v%d.8h", d, n, m)
}

// mla vd.4s, vn.4s, vm.4s (the low 32 bits of each product, accumulated).
func mla4S(d, n, m int) insn {
	return mk(threeSame(1, 0, 2, 0b10010, d, n, m), "mla v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

// scvtf vd.4s, vn.4s: int32 to float32, rounded to nearest even (FPCR's mode, which Go leaves at
// round-to-nearest).
func scvtf4S(d, n int) insn {
	return mk(twoMisc(1, 0, 0, 0b11101, d, n), "scvtf v%d.4s, v%d.4s", d, n)
}

// fmul vd.4s, vn.4s, vm.4s
func fmul4S(d, n, m int) insn {
	return mk(threeSame(1, 1, 0, 0b11011, d, n, m), "fmul v%d.4s, v%d.4s, v%d.4s", d, n, m)
}

// fcvtns vd.4s, vn.4s: float32 to int32, rounded to nearest with ties to even whatever FPCR says,
// saturated to int32 (NaN gives 0).
func fcvtns4S(d, n int) insn {
	return mk(twoMisc(1, 0, 0, 0b11010, d, n), "fcvtns v%d.4s, v%d.4s", d, n)
}

// sdot vd.4s, vn.16b, vm.16b: four 4-way int8 dot products, accumulated (three same extra, opcode
// 0010, size 10).
func sdotVec(d, n, m int) insn {
	return mk(0x4e809400|uint32(m)<<16|uint32(n)<<5|uint32(d), "sdot v%d.4s, v%d.16b, v%d.16b", d, n, m)
}

// ld4 {vt.s, vt+1.s, vt+2.s, vt+3.s}[lane], [xn], #16: one 16-byte row to lane of four registers
// (single structure, post-indexed; Q:S hold the lane).
func ld4LaneS(t, n, lane int) insn {
	return mk(0x0dffa000|uint32(lane>>1)<<30|uint32(lane&1)<<12|uint32(n)<<5|uint32(t),
		"ld4 {v%d.s, v%d.s, v%d.s, v%d.s}[%d], [x%d], #16", t, t+1, t+2, t+3, lane, n)
}

// ld2 {vt.d, vt+1.d}[lane], [xn], #16: the two doublewords of a 16-byte row to lane of two registers.
func ld2LaneD(t, n, lane int) insn {
	return mk(0x0dff8400|uint32(lane)<<30|uint32(n)<<5|uint32(t),
		"ld2 {v%d.d, v%d.d}[%d], [x%d], #16", t, t+1, lane, n)
}

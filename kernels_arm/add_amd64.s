//go:build amd64 && gc && !purego

#include "textflag.h"

// func addXNNPACK(dst, a, b *int8, n int, p *int32)
//
// p: bias, mul1, mul2, -shift, zero point, ActMin, ActMax. Y8 bias, Y9 mul1, Y10 mul2, X11 the
// shift, Y12 the zero point, Y13 and Y14 the bounds less it.
TEXT ·addXNNPACK(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         b+16(FP), DX
	MOVQ         n+24(FP), CX
	MOVQ         p+32(FP), AX
	TESTQ        CX, CX
	JZ           done
	VPBROADCASTD 0(AX), Y8
	VPBROADCASTD 4(AX), Y9
	VPBROADCASTD 8(AX), Y10
	MOVL         12(AX), BX
	NEGL         BX
	MOVQ         BX, X11
	VPBROADCASTD 16(AX), Y12
	VPBROADCASTD 20(AX), Y13
	VPBROADCASTD 24(AX), Y14
	VPSUBD       Y12, Y13, Y13
	VPSUBD       Y12, Y14, Y14

block:
	VPMOVSXBD    0(SI), Y0
	VPMOVSXBD    8(SI), Y1
	VPMOVSXBD    0(DX), Y2
	VPMOVSXBD    8(DX), Y3
	VPMULLD      Y9, Y0, Y0
	VPMULLD      Y9, Y1, Y1
	VPMULLD      Y10, Y2, Y2
	VPMULLD      Y10, Y3, Y3
	VPADDD       Y8, Y0, Y0
	VPADDD       Y8, Y1, Y1
	VPADDD       Y2, Y0, Y0
	VPADDD       Y3, Y1, Y1
	VPSRAD       X11, Y0, Y0
	VPSRAD       X11, Y1, Y1
	VPMAXSD      Y13, Y0, Y0
	VPMAXSD      Y13, Y1, Y1
	VPMINSD      Y14, Y0, Y0
	VPMINSD      Y14, Y1, Y1
	VPADDD       Y12, Y0, Y0
	VPADDD       Y12, Y1, Y1
	VPACKSSDW    Y1, Y0, Y0    // [0-3 8-11 | 4-7 12-15] int16
	VPERMQ       $0xd8, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSWB    X1, X0, X0
	VMOVDQU      X0, (DI)
	ADDQ         $16, SI
	ADDQ         $16, DX
	ADDQ         $16, DI
	DECQ         CX
	JNZ          block
	VZEROUPPER

done:
	RET

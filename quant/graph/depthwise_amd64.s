//go:build amd64 && gc && !purego

#include "textflag.h"

// depthwiseRow3Asm: Y0-Y2 hold the three weights; each step adds three taps to eight outputs.

// func depthwiseRow3Asm(n int, dst, x *float32, w *[3]float32, dw int)
TEXT ·depthwiseRow3Asm(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ x+16(FP), SI
	MOVQ w+24(FP), DX
	MOVQ dw+32(FP), BX
	SHLQ $2, BX
	VBROADCASTSS (DX), Y0
	VBROADCASTSS 4(DX), Y1
	VBROADCASTSS 8(DX), Y2
	LEAQ (SI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	XORQ AX, AX

dwloop:
	VMOVUPS (DI)(AX*1), Y3
	VFMADD231PS (SI)(AX*1), Y0, Y3
	VFMADD231PS (R8)(AX*1), Y1, Y3
	VFMADD231PS (R9)(AX*1), Y2, Y3
	VMOVUPS Y3, (DI)(AX*1)
	ADDQ $32, AX
	SUBQ $8, CX
	JNZ dwloop
	VZEROUPPER
	RET

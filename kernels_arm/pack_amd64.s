//go:build amd64 && gc && !purego

#include "textflag.h"

// ROW copies the chunk at (R) to off(DI) and adds the sum of its bytes plus 128 each to S.
#define ROW(R, off, S) \
	VMOVDQU (R), X0 \
	VMOVDQU X0, off(DI) \
	VPXOR   X8, X0, X0 \
	VPSADBW X9, X0, X0 \
	VPADDQ  X0, S, S \
	ADDQ    $16, R

// SUM stores the row sum in S (two qwords), less 128 per byte (R10), at off(SI).
#define SUM(S, off) \
	VPSHUFD $0x4e, S, X0 \
	VPADDQ  X0, S, S \
	MOVQ    S, AX \
	SUBQ    R10, AX \
	MOVL    AX, off(SI)

// func packA4(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32)
TEXT ·packA4(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         ptrs+8(FP), SI
	MOVQ         ntaps+16(FP), R8
	MOVQ         kc+24(FP), R9
	MOVL         $0x80808080, AX
	MOVL         AX, X8
	VPBROADCASTD X8, X8
	VPXOR        X9, X9, X9
	VPXOR        X4, X4, X4
	VPXOR        X5, X5, X5
	VPXOR        X6, X6, X6
	VPXOR        X7, X7, X7
	MOVQ         R8, R10
	IMULQ        R9, R10
	SHLQ         $11, R10 // 128 * 16 bytes per chunk and tap
	TESTQ        R8, R8
	JZ           sums
	TESTQ        R9, R9
	JZ           sums

tap:
	MOVQ 0(SI), AX
	MOVQ 8(SI), BX
	MOVQ 16(SI), CX
	MOVQ 24(SI), DX
	MOVQ R9, R11

chunk:
	ROW(AX, 0, X4)
	ROW(BX, 16, X5)
	ROW(CX, 32, X6)
	ROW(DX, 48, X7)
	ADDQ $64, DI
	DECQ R11
	JNZ  chunk
	ADDQ $32, SI
	DECQ R8
	JNZ  tap

sums:
	MOVQ  sums+32(FP), SI
	TESTQ SI, SI
	JZ    done
	SUM(X4, 0)
	SUM(X5, 4)
	SUM(X6, 8)
	SUM(X7, 12)

done:
	RET

// func gatherRunAVX2(dst *int8, p *[4]*int8, steps *[4]int, masks *byte, kc int, npix int)
//
// Registers: DI dst, R8-R11 the four rows at pixel j, BX steps, SI masks, R12 kc, R13 the pixels
// left, CX the chunks left, DX the chunk's masks.
TEXT ·gatherRunAVX2(SB), NOSPLIT, $0-48
	MOVQ  dst+0(FP), DI
	MOVQ  p+8(FP), AX
	MOVQ  0(AX), R8
	MOVQ  8(AX), R9
	MOVQ  16(AX), R10
	MOVQ  24(AX), R11
	MOVQ  steps+16(FP), BX
	MOVQ  masks+24(FP), SI
	MOVQ  kc+32(FP), R12
	MOVQ  npix+40(FP), R13
	TESTQ R13, R13
	JZ    gdone

pixel:
	VMOVDQU (R8), X0
	VMOVDQU (R9), X1
	VMOVDQU (R10), X2
	VMOVDQU (R11), X3
	MOVQ    R12, CX
	MOVQ    SI, DX

gchunk:
	VPSHUFB 0(DX), X0, X4
	VPSHUFB 16(DX), X1, X5
	VPOR    X5, X4, X4
	VPSHUFB 32(DX), X2, X5
	VPOR    X5, X4, X4
	VPSHUFB 48(DX), X3, X5
	VPOR    X5, X4, X4
	VMOVDQU X4, (DI)
	ADDQ    $16, DI
	ADDQ    $64, DX
	DECQ    CX
	JNZ     gchunk
	ADDQ    0(BX), R8
	ADDQ    8(BX), R9
	ADDQ    16(BX), R10
	ADDQ    24(BX), R11
	DECQ    R13
	JNZ     pixel

gdone:
	RET

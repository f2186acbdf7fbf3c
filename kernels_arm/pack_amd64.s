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

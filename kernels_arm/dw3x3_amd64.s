//go:build amd64 && gc && !purego

#include "textflag.h"
#include "requant_amd64.h"

// Frame of dw3x3 (per block, prepared from its weights and parameters): the tap pairs' weights
// interleaved, pair k at 64k (low halves: channels 0-3, 8-11) and 64k+32 (high: 4-7, 12-15), the
// ninth tap with zeros; then in the same channel order the bias, the multipliers (or scales), the
// negated right shifts and the left shifts, low half then high half.
#define WPAIRS 0
#define BIAS 320
#define MULT 384
#define RSH 448
#define LSH 512
#define ROWS 576 // the block's three row pointers

// PAIR adds the products of the taps at ta and tb (16 int16 each) with weight pair k.
#define PAIR(ta, tb, k) \
	VMOVDQU    ta, Y0 \
	VMOVDQU    tb, Y1 \
	VPUNPCKLWD Y1, Y0, Y2 \
	VPUNPCKHWD Y1, Y0, Y3 \
	VPMADDWD   (WPAIRS+64*k)(SP), Y2, Y2 \
	VPMADDWD   (WPAIRS+64*k+32)(SP), Y3, Y3 \
	VPADDD     Y2, Y4, Y4 \
	VPADDD     Y3, Y5, Y5

// SPLIT stores the 16 int32 at off(R11) in the frame's channel order at dst: channels 0-3, 8-11,
// then 4-7, 12-15.
#define SPLIT(off, dst) \
	VMOVDQU    off(R11), Y0 \
	VMOVDQU    off+32(R11), Y1 \
	VPERM2I128 $0x20, Y1, Y0, Y2 \
	VPERM2I128 $0x31, Y1, Y0, Y3 \
	VMOVDQU    Y2, dst(SP) \
	VMOVDQU    Y3, dst+32(SP)

// func dw3x3(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int)
//
// Registers: DI out (block), SI, R8, R9 the rows at the output pixel, R10 the weights, R11 the
// parameters, R12 2*cin (a tap's step), R13 2*s*cin (a pixel's), DX the pixel's output, CX the
// pixels left, AX the blocks left, BX scratch; Y4, Y5 the accumulators (low, high halves),
// Y6 zero, Y11-Y13 the zero point and bounds (float32 less the zero point with flagFP32).
TEXT ·dw3x3(SB), 0, $600-104
	MOVQ out+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), R8
	MOVQ r2+24(FP), R9
	MOVQ w+32(FP), R10
	MOVQ p+40(FP), R11
	MOVQ cin+64(FP), R12
	SHLQ $1, R12
	MOVQ s+72(FP), R13
	IMULQ R12, R13
	MOVQ nb+96(FP), AX
	VPXOR Y6, Y6, Y6
	MOVQ hdr+48(FP), DX
	VPBROADCASTD 0(DX), Y11
	VPBROADCASTD 4(DX), Y12
	VPBROADCASTD 8(DX), Y13
	MOVQ flags+88(FP), DX
	TESTQ $8, DX
	JZ block
	VPSUBD Y11, Y12, Y12
	VPSUBD Y11, Y13, Y13
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13

block:
	// The block's weights in tap pairs (0,1), (2,3), (4,5), (6,7), (8,-).
	MOVQ $0, CX
	MOVQ R10, DX
	LEAQ WPAIRS(SP), BX

wpair:
	VMOVDQU    (DX), Y0
	VMOVDQU    32(DX), Y1
	VPUNPCKLWD Y1, Y0, Y2
	VPUNPCKHWD Y1, Y0, Y3
	VMOVDQU    Y2, (BX)
	VMOVDQU    Y3, 32(BX)
	ADDQ       $64, DX
	ADDQ       $64, BX
	INCQ       CX
	CMPQ       CX, $4
	JLT        wpair
	VMOVDQU    (DX), Y0
	VPUNPCKLWD Y6, Y0, Y2
	VPUNPCKHWD Y6, Y0, Y3
	VMOVDQU    Y2, (BX)
	VMOVDQU    Y3, 32(BX)
	SPLIT(0, BIAS)
	SPLIT(64, MULT)
	SPLIT(128, RSH)
	SPLIT(192, LSH)

	MOVQ SI, ROWS(SP)
	MOVQ R8, ROWS+8(SP)
	MOVQ R9, ROWS+16(SP)
	MOVQ DI, DX
	MOVQ n+56(FP), CX

pixel:
	VMOVDQU BIAS(SP), Y4
	VMOVDQU BIAS+32(SP), Y5
	PAIR((SI), (SI)(R12*1), 0)
	PAIR((SI)(R12*2), (R8), 1)
	PAIR((R8)(R12*1), (R8)(R12*2), 2)
	PAIR((R9), (R9)(R12*1), 3)
	PAIR((R9)(R12*2), (R9)(R12*2), 4) // the second half meets zero weights

	MOVQ  flags+88(FP), BX
	TESTQ $8, BX
	JZ    fixed
	FP32(Y4, MULT(SP))
	FP32(Y5, MULT+32(SP))
	JMP   pack

fixed:
	TESTQ   $1, BX // flagLSH
	JZ      nolsh
	VMOVDQU LSH(SP), Y8
	VPSLLVD Y8, Y4, Y4
	VMOVDQU LSH+32(SP), Y8
	VPSLLVD Y8, Y5, Y5

nolsh:
	FIXED(Y4, MULT(SP), RSH(SP))
	FIXED(Y5, MULT+32(SP), RSH+32(SP))

pack:
	VPACKSSDW    Y5, Y4, Y4 // [0-3 4-7 | 8-11 12-15] int16
	VEXTRACTI128 $1, Y4, X5
	VPACKSSWB    X5, X4, X4
	VMOVDQU      X4, (DX)
	ADDQ         R13, SI
	ADDQ         R13, R8
	ADDQ         R13, R9
	ADDQ         cout+80(FP), DX
	DECQ         CX
	JNZ          pixel

	MOVQ ROWS(SP), SI
	MOVQ ROWS+8(SP), R8
	MOVQ ROWS+16(SP), R9
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $288, R10 // 9*16 int16
	ADDQ $256, R11 // dwParams int32
	ADDQ $16, DI
	DECQ AX
	JNZ  block
	VZEROUPPER
	RET

// func widen16(dst *int16, src *int8, n int)
TEXT ·widen16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

widen:
	VPMOVSXBW (SI), Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       widen
	VZEROUPPER
	RET

//go:build amd64 && gc && !purego

#include "textflag.h"
#include "requant_amd64.h"

// gemmAVX2 (gemm_amd64.go). Registers:
//	SI a (row pointers), R8 astride, R9 kc, DI the tile's weights, R10 the tile's parameters,
//	R11 the first row of the pair, R12 the tile, R13 its output offset (16*tile);
//	inner loop: AX, BX the pair's A rows, DX the weights, CX the chunks left;
//	Y0-Y3 row 0's accumulators, Y4-Y7 row 1's (columns 4i..4i+3, two partial sums each),
//	Y8, Y9 the rows' chunk widened to int16, Y10, Y11 a k-group broadcast, Y12 weights, Y13, Y14
//	products. Epilogue: AX the row, CX the flags, DX the rows left in the pair; Y0 columns 0-7,
//	Y2 columns 8-15; Y8-Y15 scratch.

// permutation of VPHADDD's result [c0 c1 c4 c5 | c2 c3 c6 c7] into column order (VPERMD)
DATA avxHaddPerm<>+0(SB)/4, $0
DATA avxHaddPerm<>+4(SB)/4, $1
DATA avxHaddPerm<>+8(SB)/4, $4
DATA avxHaddPerm<>+12(SB)/4, $5
DATA avxHaddPerm<>+16(SB)/4, $2
DATA avxHaddPerm<>+20(SB)/4, $3
DATA avxHaddPerm<>+24(SB)/4, $6
DATA avxHaddPerm<>+28(SB)/4, $7
GLOBL avxHaddPerm<>(SB), RODATA|NOPTR, $32


// GROUP multiplies k-group g (qword g of Y8, Y9: VPERMQ imm) by the 16 columns' weights at off(DX).
#define GROUP(imm, off) \
	VPERMQ $imm, Y8, Y10 \
	VPERMQ $imm, Y9, Y11 \
	VPMOVSXBW off(DX), Y12 \
	VPMADDWD Y12, Y10, Y13 \
	VPMADDWD Y12, Y11, Y14 \
	VPADDD Y13, Y0, Y0 \
	VPADDD Y14, Y4, Y4 \
	VPMOVSXBW off+16(DX), Y12 \
	VPMADDWD Y12, Y10, Y13 \
	VPMADDWD Y12, Y11, Y14 \
	VPADDD Y13, Y1, Y1 \
	VPADDD Y14, Y5, Y5 \
	VPMOVSXBW off+32(DX), Y12 \
	VPMADDWD Y12, Y10, Y13 \
	VPMADDWD Y12, Y11, Y14 \
	VPADDD Y13, Y2, Y2 \
	VPADDD Y14, Y6, Y6 \
	VPMOVSXBW off+48(DX), Y12 \
	VPMADDWD Y12, Y10, Y13 \
	VPMADDWD Y12, Y11, Y14 \
	VPADDD Y13, Y3, Y3 \
	VPADDD Y14, Y7, Y7

// VNNIGROUP adds k-group g of the pair's chunk (4 bytes at 4g(AX), 4g(BX), broadcast) times the 16
// columns' weights at 64g(DX), stored plus 128 (w^0x80, flagVNNI).
#define VNNIGROUP(g) \
	VMOVDQU      (64*g)(DX), Y12 \
	VMOVDQU      (64*g+32)(DX), Y13 \
	VPBROADCASTD (4*g)(AX), Y10 \
	VPBROADCASTD (4*g)(BX), Y11 \
	VPDPBUSD     Y10, Y12, Y0 \
	VPDPBUSD     Y11, Y12, Y4 \
	VPDPBUSD     Y10, Y13, Y2 \
	VPDPBUSD     Y11, Y13, Y6

// func gemmAVX2(a **int8, astride int, kc int, w *int8, p *int32, hdr *int32, rs *int32, us *int32, c **int8, mr int, ntiles int, flags int)
TEXT ·gemmAVX2(SB), NOSPLIT, $0-96
	MOVQ a+0(FP), SI
	MOVQ astride+8(FP), R8
	MOVQ kc+16(FP), R9
	MOVQ w+24(FP), DI
	MOVQ p+32(FP), R10
	XORQ R12, R12
	XORQ R13, R13

tile:
	CMPQ R12, ntiles+80(FP)
	JGE  done
	XORQ R11, R11

pair:
	MOVQ  (SI)(R11*8), AX
	MOVQ  8(SI)(R11*8), BX
	MOVQ  DI, DX
	MOVQ  R9, CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	TESTQ $128, flags+88(FP) // flagVNNI
	JNZ   vnni

chunk:
	VPMOVSXBW (AX), Y8
	VPMOVSXBW (BX), Y9
	GROUP(0x00, 0)
	GROUP(0x55, 64)
	GROUP(0xaa, 128)
	GROUP(0xff, 192)
	ADDQ      R8, AX
	ADDQ      R8, BX
	ADDQ      $256, DX
	DECQ      CX
	JNZ       chunk

	// The partial sums into columns: row 0 in Y0 (0-7), Y2 (8-15); row 1 in Y4, Y6.
	VMOVDQU avxHaddPerm<>(SB), Y15
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPERMD  Y0, Y15, Y0
	VPERMD  Y2, Y15, Y2
	VPERMD  Y4, Y15, Y4
	VPERMD  Y6, Y15, Y6

rows:
	MOVQ    R11, AX
	MOVQ    $2, DX
	MOVQ    flags+88(FP), CX

epilogue:
	VPADDD 0(R10), Y0, Y0 // the bias
	VPADDD 32(R10), Y2, Y2
	TESTQ  $2, CX          // flagWZ: acc -= wz*rowsum
	JZ     nowz
	MOVQ   rs+48(FP), BX
	VPBROADCASTD (BX)(AX*4), Y8
	VPMULLD 256(R10), Y8, Y9
	VPMULLD 288(R10), Y8, Y10
	VPSUBD Y9, Y0, Y0
	VPSUBD Y10, Y2, Y2

nowz:
	MOVQ         hdr+40(FP), BX
	VPBROADCASTD 0(BX), Y11 // the output zero point
	VPBROADCASTD 4(BX), Y12 // ActMin
	VPBROADCASTD 8(BX), Y13 // ActMax
	TESTQ        $8, CX     // flagFP32
	JZ           fixed
	VPSUBD       Y11, Y12, Y12
	VPSUBD       Y11, Y13, Y13
	VCVTDQ2PS    Y12, Y12
	VCVTDQ2PS    Y13, Y13
	FP32(Y0, 64(R10))
	FP32(Y2, 96(R10))
	JMP          pack

fixed:
	TESTQ   $1, CX // flagLSH: X << lsh (at +192)
	JZ      nolsh
	VMOVDQU 192(R10), Y8
	VPSLLVD Y8, Y0, Y0
	VMOVDQU 224(R10), Y8
	VPSLLVD Y8, Y2, Y2

nolsh:
	FIXED(Y0, 64(R10), 128(R10))
	FIXED(Y2, 96(R10), 160(R10))

pack:
	VPACKSSDW    Y2, Y0, Y0   // [c0-3 c8-11 | c4-7 c12-15] int16
	VPERMQ       $0xd8, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSWB    X1, X0, X0
	MOVQ         c+64(FP), BX
	MOVQ         (BX)(AX*8), BX
	VMOVDQU      X0, (BX)(R13*1)
	DECQ         DX
	JZ           pairdone
	VMOVDQA      Y4, Y0
	VMOVDQA      Y6, Y2
	INCQ         AX
	JMP          epilogue

vnni:
	// Row 0 in Y0 (columns 0-7), Y2 (8-15), row 1 in Y4, Y6; Y12, Y13 the weights plus 128.

vchunk:
	VNNIGROUP(0)
	VNNIGROUP(1)
	VNNIGROUP(2)
	VNNIGROUP(3)
	ADDQ R8, AX
	ADDQ R8, BX
	ADDQ $256, DX
	DECQ CX
	JNZ  vchunk
	// Take away 128*rowsum.
	MOVQ         us+56(FP), BX
	VPBROADCASTD (BX)(R11*4), Y8
	VPBROADCASTD 4(BX)(R11*4), Y9
	VPSLLD       $7, Y8, Y8
	VPSLLD       $7, Y9, Y9
	VPSUBD       Y8, Y0, Y0
	VPSUBD       Y8, Y2, Y2
	VPSUBD       Y9, Y4, Y4
	VPSUBD       Y9, Y6, Y6
	JMP          rows

pairdone:
	ADDQ $2, R11
	CMPQ R11, mr+72(FP)
	JLT  pair
	MOVQ R9, CX
	SHLQ $8, CX
	ADDQ CX, DI
	ADDQ $320, R10 // sdotParams int32
	INCQ R12
	ADDQ $16, R13
	JMP  tile

done:
	VZEROUPPER
	RET

// 2^30, the rounding term of SaturatingRoundingDoublingHighMul on the 64-bit product (FIXED)
DATA ·avxRound30+0(SB)/8, $0x40000000
GLOBL ·avxRound30(SB), RODATA|NOPTR, $8

// func sumBytes(a *int8, kc int, stride int) int32
TEXT ·sumBytes(SB), NOSPLIT, $0-28
	MOVQ         a+0(FP), SI
	MOVQ         kc+8(FP), CX
	MOVQ         stride+16(FP), R8
	MOVQ         CX, DX
	SHLQ         $11, DX       // 128 * 16 * kc: the offset to take away
	MOVL         $0x80808080, AX
	MOVL         AX, X1
	VPBROADCASTD X1, X1
	VPXOR        X2, X2, X2    // zero
	VPXOR        X3, X3, X3    // the two sums

sum:
	VPXOR   (SI), X1, X0       // x + 128 as uint8
	VPSADBW X2, X0, X0
	VPADDQ  X0, X3, X3
	ADDQ    R8, SI
	DECQ    CX
	JNZ     sum
	VPSHUFD $0x4e, X3, X0
	VPADDQ  X0, X3, X3
	MOVQ    X3, AX
	SUBQ    DX, AX
	MOVL    AX, ret+24(FP)
	RET

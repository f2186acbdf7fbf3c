// The requantization epilogues of the amd64 kernels (gemm_amd64.s, dw3x3_amd64.s), on 8 int32
// lanes: requantFP32 and requant of gemm_generic.go, bit for bit.

// FP32 is requantFP32 of the 8 accumulators in X with the 8 float32 scales at scale; Y11 holds the
// output zero point, Y12 and Y13 the activation bounds less it, as float32.
#define FP32(X, scale) \
	VCVTDQ2PS X, X \
	VMULPS scale, X, X \
	VMAXPS Y12, X, X \
	VMINPS Y13, X, X \
	VCVTPS2DQ X, X \
	VPADDD Y11, X, X

// FIXED is requant of the 8 accumulators in X (shifted left by lsh already) with the 8 multipliers
// at mult and negated right shifts at rsh: SaturatingRoundingDoublingHighMul by mult as
// (X*mult + 2^30) >> 31 on the int64 products (mult >= 0: no saturation), then RoundingDivideByPOT
// by e = -rsh as (X >> e) + ((X & mask) > (mask >> 1) + (X < 0)), mask = 2^e - 1, then the zero
// point (Y11) and the clamp to [Y12, Y13]. Y8-Y10, Y14 and Y15 are scratch.
#define FIXED(X, mult, rsh) \
	VMOVDQU mult, Y8 \
	VPMULDQ Y8, X, Y9 \
	VPSRLQ $32, X, Y10 \
	VPSRLQ $32, Y8, Y8 \
	VPMULDQ Y8, Y10, Y10 \
	VPBROADCASTQ ·avxRound30(SB), Y8 \
	VPADDQ Y8, Y9, Y9 \
	VPADDQ Y8, Y10, Y10 \
	VPSRLQ $31, Y9, Y9 \
	VPSLLQ $1, Y10, Y10 \
	VPBLENDD $0xaa, Y10, Y9, X \
	VPXOR Y14, Y14, Y14 \
	VPSUBD rsh, Y14, Y14 \
	VPCMPEQD Y15, Y15, Y15 \
	VPSLLVD Y14, Y15, Y8 \
	VPXOR Y15, Y8, Y8 \
	VPAND Y8, X, Y9 \
	VPSRLD $1, Y8, Y8 \
	VPSRAD $31, X, Y10 \
	VPSUBD Y10, Y8, Y8 \
	VPSRAVD Y14, X, X \
	VPCMPGTD Y8, Y9, Y9 \
	VPSUBD Y9, X, X \
	VPADDD Y11, X, X \
	VPMAXSD Y12, X, X \
	VPMINSD Y13, X, X

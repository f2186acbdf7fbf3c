# mca: group=gemm-sdot macs=512 cpus=cortex-a76
# mca: what=int8 im2col GEMM 8x8 tile, dot-product loop (8 k x 8 rows x 8 columns)
# Source: github.com/Tencent/ncnn src/layer/arm/convolution_im2col_gemm_int8.h at commit
# 0288237dc80217615612aa1c4270b30f749a7dca (C intrinsics): the 8x8 tile's `for (; kk + 7 < max_kk;
# kk += 8)` loop under __ARM_FEATURE_DOTPROD. A listing derived from it for analysis by llvm-mca only:
# one instruction per intrinsic in source order (vld1q_s8 -> LDR q, post-incremented; vdotq_laneq_s32
# -> SDOT by element), plus the loop count; register names are ours. Not part of edgeinfer.
Ltop:
        LDR     q0, [x0], 16
        LDR     q1, [x0], 16
        LDR     q2, [x0], 16
        LDR     q3, [x0], 16
        LDR     q4, [x1], 16
        LDR     q5, [x1], 16
        LDR     q6, [x1], 16
        LDR     q7, [x1], 16
        SDOT    v16.4s, v0.16b, v4.4b[0]
        SDOT    v17.4s, v0.16b, v4.4b[1]
        SDOT    v18.4s, v0.16b, v4.4b[2]
        SDOT    v19.4s, v0.16b, v4.4b[3]
        SDOT    v20.4s, v1.16b, v4.4b[0]
        SDOT    v21.4s, v1.16b, v4.4b[1]
        SDOT    v22.4s, v1.16b, v4.4b[2]
        SDOT    v23.4s, v1.16b, v4.4b[3]
        SDOT    v24.4s, v0.16b, v5.4b[0]
        SDOT    v25.4s, v0.16b, v5.4b[1]
        SDOT    v26.4s, v0.16b, v5.4b[2]
        SDOT    v27.4s, v0.16b, v5.4b[3]
        SDOT    v28.4s, v1.16b, v5.4b[0]
        SDOT    v29.4s, v1.16b, v5.4b[1]
        SDOT    v30.4s, v1.16b, v5.4b[2]
        SDOT    v31.4s, v1.16b, v5.4b[3]
        SDOT    v16.4s, v2.16b, v6.4b[0]
        SDOT    v17.4s, v2.16b, v6.4b[1]
        SDOT    v18.4s, v2.16b, v6.4b[2]
        SDOT    v19.4s, v2.16b, v6.4b[3]
        SDOT    v20.4s, v3.16b, v6.4b[0]
        SDOT    v21.4s, v3.16b, v6.4b[1]
        SDOT    v22.4s, v3.16b, v6.4b[2]
        SDOT    v23.4s, v3.16b, v6.4b[3]
        SDOT    v24.4s, v2.16b, v7.4b[0]
        SDOT    v25.4s, v2.16b, v7.4b[1]
        SDOT    v26.4s, v2.16b, v7.4b[2]
        SDOT    v27.4s, v2.16b, v7.4b[3]
        SDOT    v28.4s, v3.16b, v7.4b[0]
        SDOT    v29.4s, v3.16b, v7.4b[1]
        SDOT    v30.4s, v3.16b, v7.4b[2]
        SDOT    v31.4s, v3.16b, v7.4b[3]
        SUBS    x2, x2, 8
        B.NE    Ltop

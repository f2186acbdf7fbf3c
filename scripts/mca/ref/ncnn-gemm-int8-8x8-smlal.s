# mca: group=gemm-smlal macs=256 cpus=cortex-a72,cortex-a76
# mca: what=int8 im2col GEMM 8x8 tile, loop without dot product (4 k x 8 rows x 8 columns)
# Source: github.com/Tencent/ncnn src/layer/arm/convolution_im2col_gemm_int8.h at commit
# 0288237dc80217615612aa1c4270b30f749a7dca (C intrinsics): the 8x8 tile's `for (; kk + 3 < max_kk;
# kk += 4)` loop without __ARM_FEATURE_DOTPROD. A listing derived from it for analysis by llvm-mca
# only: one instruction per intrinsic in source order (vrev64q -> REV64, vmull_s8/vmlal_s8 -> SMULL/
# SMLAL, SMULL2/SMLAL2 where both operands are high halves, one DUP per high half used with a low
# one, vpadalq_s16 -> SADALP), loads post-incremented; register names are ours. Its 16 int32 sums, 16 int16 products, 8 loads,
# 8 reversed and 8 high halves (56 vectors) do not fit the 32 registers: the compiled code spills;
# this listing does not, and adds the products into 8 registers (v8-v15 after their last use), so it is
# optimistic for ncnn. Not part of edgeinfer.
Ltop:
        LDR     q0, [x0], 16
        LDR     q2, [x0], 16
        LDR     q4, [x1], 16
        LDR     q6, [x1], 16
        REV64   v1.4s, v0.4s
        REV64   v5.8h, v4.8h
        REV64   v3.4s, v2.4s
        REV64   v7.8h, v6.8h
        DUP     d8, v0.d[1]
        DUP     d9, v1.d[1]
        DUP     d10, v4.d[1]
        DUP     d11, v5.d[1]
        DUP     d12, v2.d[1]
        DUP     d13, v3.d[1]
        DUP     d14, v6.d[1]
        DUP     d15, v7.d[1]
        SMULL   v16.8h, v0.8b, v4.8b
        SMULL2  v17.8h, v0.16b, v4.16b
        SMULL   v18.8h, v8.8b, v4.8b
        SMULL   v19.8h, v0.8b, v10.8b
        SMULL   v20.8h, v1.8b, v4.8b
        SMULL2  v21.8h, v1.16b, v4.16b
        SMULL   v22.8h, v9.8b, v4.8b
        SMULL   v23.8h, v1.8b, v10.8b
        SMULL   v24.8h, v0.8b, v5.8b
        SMULL2  v25.8h, v0.16b, v5.16b
        SMULL   v26.8h, v8.8b, v5.8b
        SMULL   v27.8h, v0.8b, v11.8b
        SMULL   v28.8h, v1.8b, v5.8b
        SMULL2  v29.8h, v1.16b, v5.16b
        SMULL   v30.8h, v9.8b, v5.8b
        SMULL   v31.8h, v1.8b, v11.8b
        SMLAL   v16.8h, v2.8b, v6.8b
        SMLAL2  v17.8h, v2.16b, v6.16b
        SMLAL   v18.8h, v12.8b, v6.8b
        SMLAL   v19.8h, v2.8b, v14.8b
        SMLAL   v20.8h, v3.8b, v6.8b
        SMLAL2  v21.8h, v3.16b, v6.16b
        SMLAL   v22.8h, v13.8b, v6.8b
        SMLAL   v23.8h, v3.8b, v14.8b
        SMLAL   v24.8h, v2.8b, v7.8b
        SMLAL2  v25.8h, v2.16b, v7.16b
        SMLAL   v26.8h, v12.8b, v7.8b
        SMLAL   v27.8h, v2.8b, v15.8b
        SMLAL   v28.8h, v3.8b, v7.8b
        SMLAL2  v29.8h, v3.16b, v7.16b
        SMLAL   v30.8h, v13.8b, v7.8b
        SMLAL   v31.8h, v3.8b, v15.8b
        SADALP  v8.4s, v16.8h
        SADALP  v9.4s, v17.8h
        SADALP  v10.4s, v18.8h
        SADALP  v11.4s, v19.8h
        SADALP  v12.4s, v20.8h
        SADALP  v13.4s, v21.8h
        SADALP  v14.4s, v22.8h
        SADALP  v15.4s, v23.8h
        SADALP  v8.4s, v24.8h
        SADALP  v9.4s, v25.8h
        SADALP  v10.4s, v26.8h
        SADALP  v11.4s, v27.8h
        SADALP  v12.4s, v28.8h
        SADALP  v13.4s, v29.8h
        SADALP  v14.4s, v30.8h
        SADALP  v15.4s, v31.8h
        SUBS    x2, x2, 4
        B.NE    Ltop

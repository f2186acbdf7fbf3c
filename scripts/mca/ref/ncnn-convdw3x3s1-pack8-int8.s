# mca: group=dw3x3 macs=288 cpus=cortex-a72,cortex-a76
# mca: what=convdw3x3s1 pack8 int8, 2 rows x 2 pixels x 8 channels loop (int32 out; + requant pass: ncnn-requantize-relu-pack8 x1)
# mca: plus=ncnn-requantize-relu-pack8.s per=1
# Source: github.com/Tencent/ncnn src/layer/arm/convolutiondepthwise_3x3_pack8_int8.h at commit
# 396f9e0e1739f13c78b0bd736f3255884fe0449c (C intrinsics): convdw3x3s1_pack8_int8_neon's
# `for (; j + 1 < outw; j += 2)` loop inside `for (; i + 1 < outh; i += 2)`. A listing derived from it
# for analysis by llvm-mca only: one instruction per intrinsic in source order (vld1q_s8 pairs from one
# row -> LDP q, vmull_s8/vmlal_s8 -> SMULL/SMLAL, one DUP per high half, vaddl_s16 -> SADDL/SADDL2,
# vaddw_s16 -> SADDW/SADDW2, vaddq_s32 -> ADD, vst1q_s32 pairs -> STP q); register names are ours. The
# 16 products are computed one output group at a time (the same instructions, reordered so that they
# fit the 32 registers).
# ncnn writes int32 sums here (the four STP q: 128 bytes per 32 outputs) and requantizes them in a
# separate pass over the output: ncnn-requantize-relu-pack8.s, one of its iterations (32 outputs) per
# iteration of this loop (32 outputs), added by scripts/mca/mca in the "+ requant pass" column.
# Not part of edgeinfer.
Ltop:
        LDP     q0, q1, [x0], 16
        LDP     q2, q3, [x1], 16
        LDP     q4, q5, [x2], 16
        LDP     q6, q7, [x3], 16
        DUP     d8, v0.d[1]
        DUP     d9, v1.d[1]
        DUP     d10, v2.d[1]
        DUP     d11, v3.d[1]
        DUP     d12, v4.d[1]
        DUP     d13, v5.d[1]
        DUP     d14, v6.d[1]
        DUP     d15, v7.d[1]
        SMULL   v16.8h, v0.8b, v23.8b
        SMULL   v17.8h, v8.8b, v24.8b
        SMULL   v18.8h, v1.8b, v25.8b
        SMULL   v19.8h, v2.8b, v26.8b
        SMLAL   v16.8h, v10.8b, v27.8b
        SMLAL   v17.8h, v3.8b, v28.8b
        SMLAL   v18.8h, v4.8b, v29.8b
        SMLAL   v19.8h, v12.8b, v30.8b
        SMULL   v20.8h, v5.8b, v31.8b
        SADDL   v21.4s, v16.4h, v17.4h
        SADDL2  v22.4s, v16.8h, v17.8h
        SADDL   v16.4s, v18.4h, v19.4h
        SADDL2  v17.4s, v18.8h, v19.8h
        SADDW   v21.4s, v21.4s, v20.4h
        SADDW2  v22.4s, v22.4s, v20.8h
        ADD     v21.4s, v21.4s, v16.4s
        ADD     v22.4s, v22.4s, v17.4s
        STP     q21, q22, [x4], 32
        SMULL   v16.8h, v8.8b, v23.8b
        SMULL   v17.8h, v1.8b, v24.8b
        SMULL   v18.8h, v9.8b, v25.8b
        SMULL   v19.8h, v10.8b, v26.8b
        SMLAL   v16.8h, v3.8b, v27.8b
        SMLAL   v17.8h, v11.8b, v28.8b
        SMLAL   v18.8h, v12.8b, v29.8b
        SMLAL   v19.8h, v5.8b, v30.8b
        SMULL   v20.8h, v13.8b, v31.8b
        SADDL   v21.4s, v16.4h, v17.4h
        SADDL2  v22.4s, v16.8h, v17.8h
        SADDL   v16.4s, v18.4h, v19.4h
        SADDL2  v17.4s, v18.8h, v19.8h
        SADDW   v21.4s, v21.4s, v20.4h
        SADDW2  v22.4s, v22.4s, v20.8h
        ADD     v21.4s, v21.4s, v16.4s
        ADD     v22.4s, v22.4s, v17.4s
        STP     q21, q22, [x4], 32
        SMULL   v16.8h, v2.8b, v23.8b
        SMULL   v17.8h, v10.8b, v24.8b
        SMULL   v18.8h, v3.8b, v25.8b
        SMULL   v19.8h, v4.8b, v26.8b
        SMLAL   v16.8h, v12.8b, v27.8b
        SMLAL   v17.8h, v5.8b, v28.8b
        SMLAL   v18.8h, v6.8b, v29.8b
        SMLAL   v19.8h, v14.8b, v30.8b
        SMULL   v20.8h, v7.8b, v31.8b
        SADDL   v21.4s, v16.4h, v17.4h
        SADDL2  v22.4s, v16.8h, v17.8h
        SADDL   v16.4s, v18.4h, v19.4h
        SADDL2  v17.4s, v18.8h, v19.8h
        SADDW   v21.4s, v21.4s, v20.4h
        SADDW2  v22.4s, v22.4s, v20.8h
        ADD     v21.4s, v21.4s, v16.4s
        ADD     v22.4s, v22.4s, v17.4s
        STP     q21, q22, [x5], 32
        SMULL   v16.8h, v10.8b, v23.8b
        SMULL   v17.8h, v3.8b, v24.8b
        SMULL   v18.8h, v11.8b, v25.8b
        SMULL   v19.8h, v12.8b, v26.8b
        SMLAL   v16.8h, v5.8b, v27.8b
        SMLAL   v17.8h, v13.8b, v28.8b
        SMLAL   v18.8h, v14.8b, v29.8b
        SMLAL   v19.8h, v7.8b, v30.8b
        SMULL   v20.8h, v15.8b, v31.8b
        SADDL   v21.4s, v16.4h, v17.4h
        SADDL2  v22.4s, v16.8h, v17.8h
        SADDL   v16.4s, v18.4h, v19.4h
        SADDL2  v17.4s, v18.8h, v19.8h
        SADDW   v21.4s, v21.4s, v20.4h
        SADDW2  v22.4s, v22.4s, v20.8h
        ADD     v21.4s, v21.4s, v16.4s
        ADD     v22.4s, v22.4s, v17.4s
        STP     q21, q22, [x5], 32
        SUBS    x6, x6, 2
        B.NE    Ltop

# mca: pass outputs=32 cpus=cortex-a72,cortex-a76
# mca: what=ncnn Requantize pack8 pass over the int32 sums (bias, ReLU: requantize_relu_pack8_neon), 4 pixels x 8 channels
# Source: github.com/Tencent/ncnn src/layer/arm/requantize_relu_pack8.h at commit
# 396f9e0e1739f13c78b0bd736f3255884fe0449c (C intrinsics): requantize_relu_pack8_neon's bias branch,
# its aarch64 `for (; i + 3 < size; i += 4)` loop. This is the pass that turns convdw3x3s1_pack8_int8_neon's
# int32 sums into int8 when the layer's output is int8 (int8_scale_term > 100): forward_int8_arm in
# src/layer/arm/convolutiondepthwise_arm.cpp writes the sums to top_blob_int32 and calls
# requantize_from_int32_to_int8 (src/mat.cpp), which runs the Requantize layer (requantize_arm.cpp:
# dims 3, elempack 8, activation_type 1 -> requantize_relu_pack8_neon; per-channel scale_in and scale_out,
# a bias per channel). The 3x3 s1 pack8 path is taken only for activation_type 0 or 1; ReLU (1) gets this
# pass, the shorter of the two by their instructions (no activation: requantize_arm.cpp's generic dims-3
# loop, one pixel per iteration, vmlaq + a second vmulq per vector).
# A listing derived from it for analysis by llvm-mca only: one instruction per intrinsic in source order
# (vld1q_s32 pairs from one pointer -> LDP q, vcvtq_f32_s32 -> SCVTF, vfmaq_f32 -> FMLA after a MOV of
# the loop-invariant bias, since FMLA overwrites its addend: llc 19 -O3 emits that pair for this
# pattern; vcvtaq_s32_f32 -> FCVTAS, vcombine(vqmovn_s32, vqmovn_s32) -> SQXTN + SQXTN2, vqmovn_s16 ->
# SQXTN, vmax_s8 -> SMAX, vst1_s8 pairs -> STP d); register names are ours. The loads are the reload of
# the int32 sums that convdw3x3s1's loop stores (128 bytes per 32 outputs).
# Not part of edgeinfer.
Ltop:
        LDP     q0, q1, [x0], 32
        SCVTF   v0.4s, v0.4s
        SCVTF   v1.4s, v1.4s
        LDP     q2, q3, [x0], 32
        SCVTF   v2.4s, v2.4s
        SCVTF   v3.4s, v3.4s
        LDP     q4, q5, [x0], 32
        SCVTF   v4.4s, v4.4s
        SCVTF   v5.4s, v5.4s
        LDP     q6, q7, [x0], 32
        SCVTF   v6.4s, v6.4s
        SCVTF   v7.4s, v7.4s
        MOV     v8.16b, v24.16b
        FMLA    v8.4s, v0.4s, v26.4s
        MOV     v9.16b, v25.16b
        FMLA    v9.4s, v1.4s, v27.4s
        MOV     v10.16b, v24.16b
        FMLA    v10.4s, v2.4s, v26.4s
        MOV     v11.16b, v25.16b
        FMLA    v11.4s, v3.4s, v27.4s
        MOV     v12.16b, v24.16b
        FMLA    v12.4s, v4.4s, v26.4s
        MOV     v13.16b, v25.16b
        FMLA    v13.4s, v5.4s, v27.4s
        MOV     v14.16b, v24.16b
        FMLA    v14.4s, v6.4s, v26.4s
        MOV     v15.16b, v25.16b
        FMLA    v15.4s, v7.4s, v27.4s
        FCVTAS  v8.4s, v8.4s
        FCVTAS  v9.4s, v9.4s
        SQXTN   v16.4h, v8.4s
        SQXTN2  v16.8h, v9.4s
        SQXTN   v20.8b, v16.8h
        SMAX    v20.8b, v20.8b, v28.8b
        FCVTAS  v10.4s, v10.4s
        FCVTAS  v11.4s, v11.4s
        SQXTN   v17.4h, v10.4s
        SQXTN2  v17.8h, v11.4s
        SQXTN   v21.8b, v17.8h
        SMAX    v21.8b, v21.8b, v28.8b
        STP     d20, d21, [x1], 16
        FCVTAS  v12.4s, v12.4s
        FCVTAS  v13.4s, v13.4s
        SQXTN   v18.4h, v12.4s
        SQXTN2  v18.8h, v13.4s
        SQXTN   v22.8b, v18.8h
        SMAX    v22.8b, v22.8b, v28.8b
        FCVTAS  v14.4s, v14.4s
        FCVTAS  v15.4s, v15.4s
        SQXTN   v19.4h, v14.4s
        SQXTN2  v19.8h, v15.4s
        SQXTN   v23.8b, v19.8h
        SMAX    v23.8b, v23.8b, v28.8b
        STP     d22, d23, [x1], 16
        SUBS    x2, x2, 1
        B.NE    Ltop

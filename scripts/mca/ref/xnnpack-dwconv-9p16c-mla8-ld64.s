# mca: group=dw3x3 macs=144 cpus=cortex-a72,cortex-a76
# mca: what=qs8-qc8w dwconv 9p16c neonv8-mla8-ld64, 16-channel loop (one output pixel, 9 taps, fp32 requantization)
# Source: github.com/google/XNNPACK src/qs8-qc8w-dwconv/gen/qs8-qc8w-dwconv-9p16c-minmax-fp32-neonv8-mla8-ld64.c
# at commit 028aae4f5fcfe62ee20e310c3b304ea423087297 (C intrinsics). A listing derived from its
# `for (; c >= 16; c -= 16)` loop for analysis by llvm-mca only: one instruction per intrinsic, in
# source order, loads of adjacent 8-byte halves from one pointer paired into one LDP (as a compiler
# does), pointers post-incremented; register names are ours. Not part of edgeinfer.
Ltop:
        LDP     q16, q17, [x5], 32
        LDP     q18, q19, [x5], 32
        LDP     d0, d1, [x6], 16
        LDP     d2, d3, [x5], 16
        SMULL   v4.8h, v0.8b, v2.8b
        SMULL   v5.8h, v1.8b, v3.8b
        LDP     d0, d1, [x7], 16
        LDP     d2, d3, [x5], 16
        SMLAL   v4.8h, v0.8b, v2.8b
        SMLAL   v5.8h, v1.8b, v3.8b
        SADDW   v16.4s, v16.4s, v4.4h
        SADDW2  v17.4s, v17.4s, v4.8h
        SADDW   v18.4s, v18.4s, v5.4h
        SADDW2  v19.4s, v19.4s, v5.8h
        LDP     d0, d1, [x8], 16
        LDP     d2, d3, [x5], 16
        SMULL   v4.8h, v0.8b, v2.8b
        SMULL   v5.8h, v1.8b, v3.8b
        LDP     d0, d1, [x9], 16
        LDP     d2, d3, [x5], 16
        SMLAL   v4.8h, v0.8b, v2.8b
        SMLAL   v5.8h, v1.8b, v3.8b
        SADDW   v16.4s, v16.4s, v4.4h
        SADDW2  v17.4s, v17.4s, v4.8h
        SADDW   v18.4s, v18.4s, v5.4h
        SADDW2  v19.4s, v19.4s, v5.8h
        LDP     d0, d1, [x10], 16
        LDP     d2, d3, [x5], 16
        SMULL   v4.8h, v0.8b, v2.8b
        SMULL   v5.8h, v1.8b, v3.8b
        LDP     d0, d1, [x11], 16
        LDP     d2, d3, [x5], 16
        SMLAL   v4.8h, v0.8b, v2.8b
        SMLAL   v5.8h, v1.8b, v3.8b
        SADDW   v16.4s, v16.4s, v4.4h
        SADDW2  v17.4s, v17.4s, v4.8h
        SADDW   v18.4s, v18.4s, v5.4h
        SADDW2  v19.4s, v19.4s, v5.8h
        LDP     d0, d1, [x12], 16
        LDP     d2, d3, [x5], 16
        SMULL   v4.8h, v0.8b, v2.8b
        SMULL   v5.8h, v1.8b, v3.8b
        LDP     d0, d1, [x13], 16
        LDP     d2, d3, [x5], 16
        SMLAL   v4.8h, v0.8b, v2.8b
        SMLAL   v5.8h, v1.8b, v3.8b
        SADDW   v16.4s, v16.4s, v4.4h
        SADDW2  v17.4s, v17.4s, v4.8h
        SADDW   v18.4s, v18.4s, v5.4h
        SADDW2  v19.4s, v19.4s, v5.8h
        LDP     d0, d1, [x14], 16
        LDP     d2, d3, [x5], 16
        SMULL   v4.8h, v0.8b, v2.8b
        SMULL   v5.8h, v1.8b, v3.8b
        SADDW   v16.4s, v16.4s, v4.4h
        SADDW2  v17.4s, v17.4s, v4.8h
        SADDW   v18.4s, v18.4s, v5.4h
        SADDW2  v19.4s, v19.4s, v5.8h
        SCVTF   v16.4s, v16.4s
        SCVTF   v17.4s, v17.4s
        SCVTF   v18.4s, v18.4s
        SCVTF   v19.4s, v19.4s
        LDP     q20, q21, [x5], 32
        LDP     q22, q23, [x5], 32
        FMUL    v16.4s, v16.4s, v20.4s
        FMUL    v17.4s, v17.4s, v21.4s
        FMUL    v18.4s, v18.4s, v22.4s
        FMUL    v19.4s, v19.4s, v23.4s
        FCVTNS  v16.4s, v16.4s
        FCVTNS  v17.4s, v17.4s
        FCVTNS  v18.4s, v18.4s
        FCVTNS  v19.4s, v19.4s
        SQXTN   v16.4h, v16.4s
        SQXTN2  v16.8h, v17.4s
        SQXTN   v18.4h, v18.4s
        SQXTN2  v18.8h, v19.4s
        SQADD   v16.8h, v16.8h, v29.8h
        SQADD   v18.8h, v18.8h, v29.8h
        SQXTN   v0.8b, v16.8h
        SQXTN2  v0.16b, v18.8h
        SMAX    v0.16b, v0.16b, v30.16b
        SMIN    v0.16b, v0.16b, v31.16b
        STR     q0, [x15], 16
        SUBS    x16, x16, 16
        B.HS    Ltop

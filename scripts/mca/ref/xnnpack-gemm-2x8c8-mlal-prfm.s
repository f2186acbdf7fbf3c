# mca: group=gemm-smlal macs=256 cpus=cortex-a72,cortex-a76
# mca: what=qs8-qc8w 2x8c8 neon-mlal-prfm main loop (16 k x 2 rows x 8 columns)
# Source: github.com/google/XNNPACK src/qs8-qc8w-gemm/gen/qs8-qc8w-gemm-2x8c8-minmax-fp32-asm-aarch64-neon-mlal-prfm.S
# at commit 01a345b5a5651915a13e2db25cab5001708c78f2: the instructions of its main loop (label 1: to
# B.HS 1b) as published, for analysis by llvm-mca only (not part of edgeinfer).
1:
        SMULL   v2.8h, v4.8b, v0.8b
        SMULL   v3.8h, v4.8b, v1.8b
        PRFM    PLDL1KEEP, [x5, 448]
        SMULL   v10.8h, v5.8b, v0.8b
        SMULL   v11.8h, v5.8b, v1.8b
        LDP     d4, d5, [x5, 16]
        SMLAL   v2.8h, v8.8b, v6.8b
        SMLAL   v3.8h, v8.8b, v7.8b
        PRFM    PLDL1KEEP, [x5, 512]
        SMLAL   v10.8h, v9.8b, v6.8b
        SMLAL   v11.8h, v9.8b, v7.8b
        LDP     d8, d9, [x5, 80]
        SMULL   v12.8h, v4.8b, v0.8b
        SADALP  v16.4s,  v2.8h
        SMULL   v13.8h, v4.8b, v1.8b
        SADALP  v17.4s,  v3.8h
        SMULL   v14.8h, v5.8b, v0.8b
        SADALP  v18.4s, v10.8h
        SMULL   v15.8h, v5.8b, v1.8b
        SADALP  v19.4s, v11.8h
        LDP     d4, d5, [x5, 32]
        SMLAL   v12.8h, v8.8b, v6.8b
        SMLAL   v13.8h, v8.8b, v7.8b
        PRFM    PLDL1KEEP, [x3, 128]
        SMLAL   v14.8h, v9.8b, v6.8b
        SMLAL   v15.8h, v9.8b, v7.8b
        LDP     d8, d9, [x5, 96]
        SMULL   v2.8h, v4.8b, v0.8b
        SADALP  v20.4s, v12.8h
        SMULL   v3.8h, v4.8b, v1.8b
        SADALP  v21.4s, v13.8h
        SMULL   v10.8h, v5.8b, v0.8b
        SADALP  v22.4s, v14.8h
        SMULL   v11.8h, v5.8b, v1.8b
        SADALP  v23.4s, v15.8h
        LDP     d4, d5, [x5, 48]
        SMLAL   v2.8h, v8.8b, v6.8b
        SMLAL   v3.8h, v8.8b, v7.8b
        PRFM    PLDL1KEEP, [x4, 128]
        SMLAL   v10.8h, v9.8b, v6.8b
        SMLAL   v11.8h, v9.8b, v7.8b
        LDP     d8, d9, [x5, 112]
        SMULL   v12.8h, v4.8b, v0.8b
        ADD     x5, x5, 128
        SADALP  v24.4s,  v2.8h
        SMULL   v13.8h, v4.8b, v1.8b
        SADALP  v25.4s,  v3.8h
        SMULL   v14.8h, v5.8b, v0.8b
        SADALP  v26.4s, v10.8h
        SMULL   v15.8h, v5.8b, v1.8b
        SADALP  v27.4s, v11.8h
        SMLAL   v12.8h, v8.8b, v6.8b
        LDP     d4, d5, [x5]
        SMLAL   v13.8h, v8.8b, v7.8b
        SUBS    x0, x0, 16
        SMLAL   v14.8h, v9.8b, v6.8b
        LDP     d0, d6, [x3], 16
        SMLAL   v15.8h, v9.8b, v7.8b
        SADALP  v28.4s, v12.8h
        LDP     d1, d7, [x4], 16
        SADALP  v29.4s, v13.8h
        SADALP  v30.4s, v14.8h
        LDP     d8, d9, [x5, 64]
        SADALP  v31.4s, v15.8h
        B.HS    1b

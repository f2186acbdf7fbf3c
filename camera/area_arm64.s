//go:build arm64 && gc && !purego

// The area resize's NEON kernels and the row conversions (area.go describes the stages;
// bilinear_generic.go holds the Go twins they are tested against). Instructions the Go assembler
// lacks are encoded as words with the GNU mnemonic beside them (checked by TestWordEncodings).

#include "textflag.h"

// func vaccNEON(acc *uint32, p *byte, n int, w uint32)
TEXT ·vaccNEON(SB), NOSPLIT, $0-28
	MOVD acc+0(FP), R0
	MOVD p+8(FP), R1
	MOVD n+16(FP), R2
	MOVWU w+24(FP), R3
	LSR $4, R2
	CBZ R2, adone
	VDUP R3, V3.H8
aloop:
	VLD1.P 16(R1), [V0.B16]
	VUXTL V0.B8, V1.H8
	VUXTL2 V0.B16, V2.H8
	VLD1 (R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x2e638024 // umlal v4.4s, v1.4h, v3.4h
	WORD $0x6e638025 // umlal2 v5.4s, v1.8h, v3.8h
	WORD $0x2e638046 // umlal v6.4s, v2.4h, v3.4h
	WORD $0x6e638047 // umlal2 v7.4s, v2.8h, v3.8h
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS $1, R2
	BNE aloop
adone:
	RET

// func rowYUYVNEON(rp, gp, bp, row *byte, n int, k *yuvConsts)
TEXT ·rowYUYVNEON(SB), NOSPLIT, $0-48
	MOVD rp+0(FP), R0
	MOVD gp+8(FP), R1
	MOVD bp+16(FP), R2
	MOVD row+24(FP), R3
	MOVD n+32(FP), R4
	MOVD k+40(FP), R7
	CBZ R4, ydone
	MOVW 0(R7), R8
	VDUP R8, V20.H8 // Y offset
	MOVW 4(R7), R8
	VDUP R8, V21.H8 // cy - 65536
	MOVW 8(R7), R8
	VDUP R8, V22.S4 // crR
	MOVW 12(R7), R8
	VDUP R8, V23.S4 // -cbG
	MOVW 16(R7), R8
	VDUP R8, V24.S4 // -crG
	MOVW 20(R7), R8
	VDUP R8, V25.S4 // cbB
	MOVD $32768, R8
	VDUP R8, V26.S4
	MOVD $128, R8
	VDUP R8, V27.B16
yloop:
	VLD4.P 64(R3), [V0.B16, V1.B16, V2.B16, V3.B16] // Y0 U Y1 V
	VMOV V1.B16, V5.B16
	VMOV V2.B16, V1.B16
	VMOV V5.B16, V2.B16
	// Chroma terms of the 16 pairs: crR*(V-128) in V8-V11, -cbG*(U-128)-crG*(V-128) in V12-V15, cbB*(U-128) in V16-V19.
	VEOR V27.B16, V2.B16, V2.B16
	VEOR V27.B16, V3.B16, V3.B16
	WORD $0x0f08a444 // sxtl v4.8h, v2.8b
	WORD $0x4f08a445 // sxtl2 v5.8h, v2.16b
	WORD $0x0f08a466 // sxtl v6.8h, v3.8b
	WORD $0x4f08a467 // sxtl2 v7.8h, v3.16b
	WORD $0x0f10a49c // sxtl v28.4s, v4.4h
	WORD $0x0f10a4dd // sxtl v29.4s, v6.4h
	WORD $0x4eb69fa8 // mul v8.4s, v29.4s, v22.4s
	WORD $0x4eb79f8c // mul v12.4s, v28.4s, v23.4s
	WORD $0x4eb897ac // mla v12.4s, v29.4s, v24.4s
	WORD $0x4eb99f90 // mul v16.4s, v28.4s, v25.4s
	WORD $0x4f10a49c // sxtl2 v28.4s, v4.8h
	WORD $0x4f10a4dd // sxtl2 v29.4s, v6.8h
	WORD $0x4eb69fa9 // mul v9.4s, v29.4s, v22.4s
	WORD $0x4eb79f8d // mul v13.4s, v28.4s, v23.4s
	WORD $0x4eb897ad // mla v13.4s, v29.4s, v24.4s
	WORD $0x4eb99f91 // mul v17.4s, v28.4s, v25.4s
	WORD $0x0f10a4bc // sxtl v28.4s, v5.4h
	WORD $0x0f10a4fd // sxtl v29.4s, v7.4h
	WORD $0x4eb69faa // mul v10.4s, v29.4s, v22.4s
	WORD $0x4eb79f8e // mul v14.4s, v28.4s, v23.4s
	WORD $0x4eb897ae // mla v14.4s, v29.4s, v24.4s
	WORD $0x4eb99f92 // mul v18.4s, v28.4s, v25.4s
	WORD $0x4f10a4bc // sxtl2 v28.4s, v5.8h
	WORD $0x4f10a4fd // sxtl2 v29.4s, v7.8h
	WORD $0x4eb69fab // mul v11.4s, v29.4s, v22.4s
	WORD $0x4eb79f8f // mul v15.4s, v28.4s, v23.4s
	WORD $0x4eb897af // mla v15.4s, v29.4s, v24.4s
	WORD $0x4eb99f93 // mul v19.4s, v28.4s, v25.4s
	// The even pixels: yy = (Y-off)*cy + 32768, then (yy + term) >> 16, clamped.
	VUXTL V0.B8, V2.H8
	VUXTL2 V0.B16, V3.H8
	VSUB V20.H8, V2.H8, V2.H8
	VSUB V20.H8, V3.H8, V3.H8
	WORD $0x2e613844 // shll v4.4s, v2.4h, #16
	WORD $0x6e613845 // shll2 v5.4s, v2.8h, #16
	WORD $0x0e758044 // smlal v4.4s, v2.4h, v21.4h
	WORD $0x4e758045 // smlal2 v5.4s, v2.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V8.S4, V6.S4
	VADD V5.S4, V9.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128dc // sqxtun v28.8b, v6.8h
	VADD V4.S4, V12.S4, V6.S4
	VADD V5.S4, V13.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128de // sqxtun v30.8b, v6.8h
	VADD V4.S4, V16.S4, V6.S4
	VADD V5.S4, V17.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128c0 // sqxtun v0.8b, v6.8h
	WORD $0x2e613864 // shll v4.4s, v3.4h, #16
	WORD $0x6e613865 // shll2 v5.4s, v3.8h, #16
	WORD $0x0e758064 // smlal v4.4s, v3.4h, v21.4h
	WORD $0x4e758065 // smlal2 v5.4s, v3.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V10.S4, V6.S4
	VADD V5.S4, V11.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128dc // sqxtun2 v28.16b, v6.8h
	VADD V4.S4, V14.S4, V6.S4
	VADD V5.S4, V15.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128de // sqxtun2 v30.16b, v6.8h
	VADD V4.S4, V18.S4, V6.S4
	VADD V5.S4, V19.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128c0 // sqxtun2 v0.16b, v6.8h
	// The odd pixels: yy = (Y-off)*cy + 32768, then (yy + term) >> 16, clamped.
	VUXTL V1.B8, V2.H8
	VUXTL2 V1.B16, V3.H8
	VSUB V20.H8, V2.H8, V2.H8
	VSUB V20.H8, V3.H8, V3.H8
	WORD $0x2e613844 // shll v4.4s, v2.4h, #16
	WORD $0x6e613845 // shll2 v5.4s, v2.8h, #16
	WORD $0x0e758044 // smlal v4.4s, v2.4h, v21.4h
	WORD $0x4e758045 // smlal2 v5.4s, v2.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V8.S4, V6.S4
	VADD V5.S4, V9.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128dd // sqxtun v29.8b, v6.8h
	VADD V4.S4, V12.S4, V6.S4
	VADD V5.S4, V13.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128df // sqxtun v31.8b, v6.8h
	VADD V4.S4, V16.S4, V6.S4
	VADD V5.S4, V17.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128c1 // sqxtun v1.8b, v6.8h
	WORD $0x2e613864 // shll v4.4s, v3.4h, #16
	WORD $0x6e613865 // shll2 v5.4s, v3.8h, #16
	WORD $0x0e758064 // smlal v4.4s, v3.4h, v21.4h
	WORD $0x4e758065 // smlal2 v5.4s, v3.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V10.S4, V6.S4
	VADD V5.S4, V11.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128dd // sqxtun2 v29.16b, v6.8h
	VADD V4.S4, V14.S4, V6.S4
	VADD V5.S4, V15.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128df // sqxtun2 v31.16b, v6.8h
	VADD V4.S4, V18.S4, V6.S4
	VADD V5.S4, V19.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128c1 // sqxtun2 v1.16b, v6.8h
	VST2.P [V28.B16, V29.B16], 32(R0)
	VST2.P [V30.B16, V31.B16], 32(R1)
	VST2.P [V0.B16, V1.B16], 32(R2)
	SUBS $1, R4
	BNE yloop
ydone:
	RET

// func rowYU12NEON(rp, gp, bp, y, u, v *byte, n int, k *yuvConsts)
TEXT ·rowYU12NEON(SB), NOSPLIT, $0-64
	MOVD rp+0(FP), R0
	MOVD gp+8(FP), R1
	MOVD bp+16(FP), R2
	MOVD y+24(FP), R3
	MOVD u+32(FP), R5
	MOVD v+40(FP), R6
	MOVD n+48(FP), R4
	MOVD k+56(FP), R7
	CBZ R4, pdone
	MOVW 0(R7), R8
	VDUP R8, V20.H8 // Y offset
	MOVW 4(R7), R8
	VDUP R8, V21.H8 // cy - 65536
	MOVW 8(R7), R8
	VDUP R8, V22.S4 // crR
	MOVW 12(R7), R8
	VDUP R8, V23.S4 // -cbG
	MOVW 16(R7), R8
	VDUP R8, V24.S4 // -crG
	MOVW 20(R7), R8
	VDUP R8, V25.S4 // cbB
	MOVD $32768, R8
	VDUP R8, V26.S4
	MOVD $128, R8
	VDUP R8, V27.B16
ploop:
	VLD2.P 32(R3), [V0.B16, V1.B16]
	VLD1.P 16(R5), [V2.B16]
	VLD1.P 16(R6), [V3.B16]
	// Chroma terms of the 16 pairs: crR*(V-128) in V8-V11, -cbG*(U-128)-crG*(V-128) in V12-V15, cbB*(U-128) in V16-V19.
	VEOR V27.B16, V2.B16, V2.B16
	VEOR V27.B16, V3.B16, V3.B16
	WORD $0x0f08a444 // sxtl v4.8h, v2.8b
	WORD $0x4f08a445 // sxtl2 v5.8h, v2.16b
	WORD $0x0f08a466 // sxtl v6.8h, v3.8b
	WORD $0x4f08a467 // sxtl2 v7.8h, v3.16b
	WORD $0x0f10a49c // sxtl v28.4s, v4.4h
	WORD $0x0f10a4dd // sxtl v29.4s, v6.4h
	WORD $0x4eb69fa8 // mul v8.4s, v29.4s, v22.4s
	WORD $0x4eb79f8c // mul v12.4s, v28.4s, v23.4s
	WORD $0x4eb897ac // mla v12.4s, v29.4s, v24.4s
	WORD $0x4eb99f90 // mul v16.4s, v28.4s, v25.4s
	WORD $0x4f10a49c // sxtl2 v28.4s, v4.8h
	WORD $0x4f10a4dd // sxtl2 v29.4s, v6.8h
	WORD $0x4eb69fa9 // mul v9.4s, v29.4s, v22.4s
	WORD $0x4eb79f8d // mul v13.4s, v28.4s, v23.4s
	WORD $0x4eb897ad // mla v13.4s, v29.4s, v24.4s
	WORD $0x4eb99f91 // mul v17.4s, v28.4s, v25.4s
	WORD $0x0f10a4bc // sxtl v28.4s, v5.4h
	WORD $0x0f10a4fd // sxtl v29.4s, v7.4h
	WORD $0x4eb69faa // mul v10.4s, v29.4s, v22.4s
	WORD $0x4eb79f8e // mul v14.4s, v28.4s, v23.4s
	WORD $0x4eb897ae // mla v14.4s, v29.4s, v24.4s
	WORD $0x4eb99f92 // mul v18.4s, v28.4s, v25.4s
	WORD $0x4f10a4bc // sxtl2 v28.4s, v5.8h
	WORD $0x4f10a4fd // sxtl2 v29.4s, v7.8h
	WORD $0x4eb69fab // mul v11.4s, v29.4s, v22.4s
	WORD $0x4eb79f8f // mul v15.4s, v28.4s, v23.4s
	WORD $0x4eb897af // mla v15.4s, v29.4s, v24.4s
	WORD $0x4eb99f93 // mul v19.4s, v28.4s, v25.4s
	// The even pixels: yy = (Y-off)*cy + 32768, then (yy + term) >> 16, clamped.
	VUXTL V0.B8, V2.H8
	VUXTL2 V0.B16, V3.H8
	VSUB V20.H8, V2.H8, V2.H8
	VSUB V20.H8, V3.H8, V3.H8
	WORD $0x2e613844 // shll v4.4s, v2.4h, #16
	WORD $0x6e613845 // shll2 v5.4s, v2.8h, #16
	WORD $0x0e758044 // smlal v4.4s, v2.4h, v21.4h
	WORD $0x4e758045 // smlal2 v5.4s, v2.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V8.S4, V6.S4
	VADD V5.S4, V9.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128dc // sqxtun v28.8b, v6.8h
	VADD V4.S4, V12.S4, V6.S4
	VADD V5.S4, V13.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128de // sqxtun v30.8b, v6.8h
	VADD V4.S4, V16.S4, V6.S4
	VADD V5.S4, V17.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128c0 // sqxtun v0.8b, v6.8h
	WORD $0x2e613864 // shll v4.4s, v3.4h, #16
	WORD $0x6e613865 // shll2 v5.4s, v3.8h, #16
	WORD $0x0e758064 // smlal v4.4s, v3.4h, v21.4h
	WORD $0x4e758065 // smlal2 v5.4s, v3.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V10.S4, V6.S4
	VADD V5.S4, V11.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128dc // sqxtun2 v28.16b, v6.8h
	VADD V4.S4, V14.S4, V6.S4
	VADD V5.S4, V15.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128de // sqxtun2 v30.16b, v6.8h
	VADD V4.S4, V18.S4, V6.S4
	VADD V5.S4, V19.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128c0 // sqxtun2 v0.16b, v6.8h
	// The odd pixels: yy = (Y-off)*cy + 32768, then (yy + term) >> 16, clamped.
	VUXTL V1.B8, V2.H8
	VUXTL2 V1.B16, V3.H8
	VSUB V20.H8, V2.H8, V2.H8
	VSUB V20.H8, V3.H8, V3.H8
	WORD $0x2e613844 // shll v4.4s, v2.4h, #16
	WORD $0x6e613845 // shll2 v5.4s, v2.8h, #16
	WORD $0x0e758044 // smlal v4.4s, v2.4h, v21.4h
	WORD $0x4e758045 // smlal2 v5.4s, v2.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V8.S4, V6.S4
	VADD V5.S4, V9.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128dd // sqxtun v29.8b, v6.8h
	VADD V4.S4, V12.S4, V6.S4
	VADD V5.S4, V13.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128df // sqxtun v31.8b, v6.8h
	VADD V4.S4, V16.S4, V6.S4
	VADD V5.S4, V17.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128c1 // sqxtun v1.8b, v6.8h
	WORD $0x2e613864 // shll v4.4s, v3.4h, #16
	WORD $0x6e613865 // shll2 v5.4s, v3.8h, #16
	WORD $0x0e758064 // smlal v4.4s, v3.4h, v21.4h
	WORD $0x4e758065 // smlal2 v5.4s, v3.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V10.S4, V6.S4
	VADD V5.S4, V11.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128dd // sqxtun2 v29.16b, v6.8h
	VADD V4.S4, V14.S4, V6.S4
	VADD V5.S4, V15.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128df // sqxtun2 v31.16b, v6.8h
	VADD V4.S4, V18.S4, V6.S4
	VADD V5.S4, V19.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128c1 // sqxtun2 v1.16b, v6.8h
	VST2.P [V28.B16, V29.B16], 32(R0)
	VST2.P [V30.B16, V31.B16], 32(R1)
	VST2.P [V0.B16, V1.B16], 32(R2)
	SUBS $1, R4
	BNE ploop
pdone:
	RET

// func rowNV12NEON(rp, gp, bp, y, uv *byte, n int, k *yuvConsts)
TEXT ·rowNV12NEON(SB), NOSPLIT, $0-56
	MOVD rp+0(FP), R0
	MOVD gp+8(FP), R1
	MOVD bp+16(FP), R2
	MOVD y+24(FP), R3
	MOVD uv+32(FP), R5
	MOVD n+40(FP), R4
	MOVD k+48(FP), R7
	CBZ R4, ndone
	MOVW 0(R7), R8
	VDUP R8, V20.H8 // Y offset
	MOVW 4(R7), R8
	VDUP R8, V21.H8 // cy - 65536
	MOVW 8(R7), R8
	VDUP R8, V22.S4 // crR
	MOVW 12(R7), R8
	VDUP R8, V23.S4 // -cbG
	MOVW 16(R7), R8
	VDUP R8, V24.S4 // -crG
	MOVW 20(R7), R8
	VDUP R8, V25.S4 // cbB
	MOVD $32768, R8
	VDUP R8, V26.S4
	MOVD $128, R8
	VDUP R8, V27.B16
nloop:
	VLD2.P 32(R3), [V0.B16, V1.B16]
	VLD2.P 32(R5), [V2.B16, V3.B16]
	// Chroma terms of the 16 pairs: crR*(V-128) in V8-V11, -cbG*(U-128)-crG*(V-128) in V12-V15, cbB*(U-128) in V16-V19.
	VEOR V27.B16, V2.B16, V2.B16
	VEOR V27.B16, V3.B16, V3.B16
	WORD $0x0f08a444 // sxtl v4.8h, v2.8b
	WORD $0x4f08a445 // sxtl2 v5.8h, v2.16b
	WORD $0x0f08a466 // sxtl v6.8h, v3.8b
	WORD $0x4f08a467 // sxtl2 v7.8h, v3.16b
	WORD $0x0f10a49c // sxtl v28.4s, v4.4h
	WORD $0x0f10a4dd // sxtl v29.4s, v6.4h
	WORD $0x4eb69fa8 // mul v8.4s, v29.4s, v22.4s
	WORD $0x4eb79f8c // mul v12.4s, v28.4s, v23.4s
	WORD $0x4eb897ac // mla v12.4s, v29.4s, v24.4s
	WORD $0x4eb99f90 // mul v16.4s, v28.4s, v25.4s
	WORD $0x4f10a49c // sxtl2 v28.4s, v4.8h
	WORD $0x4f10a4dd // sxtl2 v29.4s, v6.8h
	WORD $0x4eb69fa9 // mul v9.4s, v29.4s, v22.4s
	WORD $0x4eb79f8d // mul v13.4s, v28.4s, v23.4s
	WORD $0x4eb897ad // mla v13.4s, v29.4s, v24.4s
	WORD $0x4eb99f91 // mul v17.4s, v28.4s, v25.4s
	WORD $0x0f10a4bc // sxtl v28.4s, v5.4h
	WORD $0x0f10a4fd // sxtl v29.4s, v7.4h
	WORD $0x4eb69faa // mul v10.4s, v29.4s, v22.4s
	WORD $0x4eb79f8e // mul v14.4s, v28.4s, v23.4s
	WORD $0x4eb897ae // mla v14.4s, v29.4s, v24.4s
	WORD $0x4eb99f92 // mul v18.4s, v28.4s, v25.4s
	WORD $0x4f10a4bc // sxtl2 v28.4s, v5.8h
	WORD $0x4f10a4fd // sxtl2 v29.4s, v7.8h
	WORD $0x4eb69fab // mul v11.4s, v29.4s, v22.4s
	WORD $0x4eb79f8f // mul v15.4s, v28.4s, v23.4s
	WORD $0x4eb897af // mla v15.4s, v29.4s, v24.4s
	WORD $0x4eb99f93 // mul v19.4s, v28.4s, v25.4s
	// The even pixels: yy = (Y-off)*cy + 32768, then (yy + term) >> 16, clamped.
	VUXTL V0.B8, V2.H8
	VUXTL2 V0.B16, V3.H8
	VSUB V20.H8, V2.H8, V2.H8
	VSUB V20.H8, V3.H8, V3.H8
	WORD $0x2e613844 // shll v4.4s, v2.4h, #16
	WORD $0x6e613845 // shll2 v5.4s, v2.8h, #16
	WORD $0x0e758044 // smlal v4.4s, v2.4h, v21.4h
	WORD $0x4e758045 // smlal2 v5.4s, v2.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V8.S4, V6.S4
	VADD V5.S4, V9.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128dc // sqxtun v28.8b, v6.8h
	VADD V4.S4, V12.S4, V6.S4
	VADD V5.S4, V13.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128de // sqxtun v30.8b, v6.8h
	VADD V4.S4, V16.S4, V6.S4
	VADD V5.S4, V17.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128c0 // sqxtun v0.8b, v6.8h
	WORD $0x2e613864 // shll v4.4s, v3.4h, #16
	WORD $0x6e613865 // shll2 v5.4s, v3.8h, #16
	WORD $0x0e758064 // smlal v4.4s, v3.4h, v21.4h
	WORD $0x4e758065 // smlal2 v5.4s, v3.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V10.S4, V6.S4
	VADD V5.S4, V11.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128dc // sqxtun2 v28.16b, v6.8h
	VADD V4.S4, V14.S4, V6.S4
	VADD V5.S4, V15.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128de // sqxtun2 v30.16b, v6.8h
	VADD V4.S4, V18.S4, V6.S4
	VADD V5.S4, V19.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128c0 // sqxtun2 v0.16b, v6.8h
	// The odd pixels: yy = (Y-off)*cy + 32768, then (yy + term) >> 16, clamped.
	VUXTL V1.B8, V2.H8
	VUXTL2 V1.B16, V3.H8
	VSUB V20.H8, V2.H8, V2.H8
	VSUB V20.H8, V3.H8, V3.H8
	WORD $0x2e613844 // shll v4.4s, v2.4h, #16
	WORD $0x6e613845 // shll2 v5.4s, v2.8h, #16
	WORD $0x0e758044 // smlal v4.4s, v2.4h, v21.4h
	WORD $0x4e758045 // smlal2 v5.4s, v2.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V8.S4, V6.S4
	VADD V5.S4, V9.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128dd // sqxtun v29.8b, v6.8h
	VADD V4.S4, V12.S4, V6.S4
	VADD V5.S4, V13.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128df // sqxtun v31.8b, v6.8h
	VADD V4.S4, V16.S4, V6.S4
	VADD V5.S4, V17.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x2e2128c1 // sqxtun v1.8b, v6.8h
	WORD $0x2e613864 // shll v4.4s, v3.4h, #16
	WORD $0x6e613865 // shll2 v5.4s, v3.8h, #16
	WORD $0x0e758064 // smlal v4.4s, v3.4h, v21.4h
	WORD $0x4e758065 // smlal2 v5.4s, v3.8h, v21.8h
	VADD V26.S4, V4.S4, V4.S4
	VADD V26.S4, V5.S4, V5.S4
	VADD V4.S4, V10.S4, V6.S4
	VADD V5.S4, V11.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128dd // sqxtun2 v29.16b, v6.8h
	VADD V4.S4, V14.S4, V6.S4
	VADD V5.S4, V15.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128df // sqxtun2 v31.16b, v6.8h
	VADD V4.S4, V18.S4, V6.S4
	VADD V5.S4, V19.S4, V7.S4
	VUZP2 V7.H8, V6.H8, V6.H8
	WORD $0x6e2128c1 // sqxtun2 v1.16b, v6.8h
	VST2.P [V28.B16, V29.B16], 32(R0)
	VST2.P [V30.B16, V31.B16], 32(R1)
	VST2.P [V0.B16, V1.B16], 32(R2)
	SUBS $1, R4
	BNE nloop
ndone:
	RET

// func hsumNEON(out *byte, rp, gp, bp *uint32, xf, xn *int32, xw *uint32, n int, d uint64, tab *[3][256]byte)
//
// Scalar: each output pixel's three channels share the footprint's column weights, so one weight
// load serves three multiply-adds into 64-bit sums; then (2S + d) / 2d and the channel's table.
TEXT ·hsumNEON(SB), NOSPLIT, $0-80
	MOVD out+0(FP), R0
	MOVD rp+8(FP), R1
	MOVD gp+16(FP), R2
	MOVD bp+24(FP), R3
	MOVD xf+32(FP), R4
	MOVD xn+40(FP), R5
	MOVD xw+48(FP), R6
	MOVD n+56(FP), R7
	MOVD d+64(FP), R8
	MOVD tab+72(FP), R9
	CBZ R7, sdone
	ADD R8<<1, ZR, R19 // 2d
	ADD $256, R9, R20
	ADD $512, R9, R21
sloop:
	MOVW.P 4(R4), R10
	MOVW.P 4(R5), R11
	ADD R10<<2, R1, R12
	ADD R10<<2, R2, R13
	ADD R10<<2, R3, R14
	MOVD ZR, R16
	MOVD ZR, R17
	MOVD ZR, R22
tloop:
	MOVWU.P 4(R6), R23
	MOVWU.P 4(R12), R24
	MOVWU.P 4(R13), R25
	MOVWU.P 4(R14), R15
	WORD $0x9bb842f0 // umaddl x16, w23, w24, x16
	WORD $0x9bb946f1 // umaddl x17, w23, w25, x17
	WORD $0x9baf5af6 // umaddl x22, w23, w15, x22
	SUBS $1, R11
	BNE tloop
	ADD R16<<1, R8, R16
	ADD R17<<1, R8, R17
	ADD R22<<1, R8, R22
	UDIV R19, R16, R16
	UDIV R19, R17, R17
	UDIV R19, R22, R22
	MOVBU (R9)(R16), R16
	MOVBU (R20)(R17), R17
	MOVBU (R21)(R22), R22
	MOVB R16, 0(R0)
	MOVB R17, 1(R0)
	MOVB R22, 2(R0)
	ADD $3, R0
	SUBS $1, R7
	BNE sloop
sdone:
	RET

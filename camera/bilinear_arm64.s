//go:build arm64 && gc && !purego

// The bilinear resize's NEON kernels (bilinear.go describes the stages; bilinear_generic.go holds
// the Go twins they are tested against). Instructions the Go assembler lacks are encoded as words
// with the GNU mnemonic beside them (checked by TestWordEncodings).

#include "textflag.h"

// func hrowYUVNEON(h *uint16, y, u, v *byte, grp *bilGroup, n int, k *yuvConsts)
TEXT ·hrowYUVNEON(SB), NOSPLIT, $0-56
	MOVD h+0(FP), R0
	MOVD y+8(FP), R1
	MOVD u+16(FP), R2
	MOVD v+24(FP), R3
	MOVD grp+32(FP), R4
	MOVD n+40(FP), R5
	MOVD k+48(FP), R6
	CBZ R5, hdone
	MOVW 0(R6), R7
	VDUP R7, V20.H8 // Y offset
	MOVW 4(R6), R7
	VDUP R7, V21.H8 // cy - 65536
	MOVW 8(R6), R7
	VDUP R7, V22.S4 // crR
	MOVW 12(R6), R7
	VDUP R7, V23.S4 // -cbG
	MOVW 16(R6), R7
	VDUP R7, V24.S4 // -crG
	MOVW 20(R6), R7
	VDUP R7, V25.S4 // cbB
	MOVD $32768, R7
	VDUP R7, V26.S4
	MOVD $128, R7
	VDUP R7, V27.H8
	VEOR V31.B16, V31.B16, V31.B16
hloop:
	MOVWU 0(R4), R7
	MOVWU 4(R4), R8
	MOVWU 8(R4), R9
	ADD R7, R1, R7
	ADD R8, R2, R8
	ADD R9, R3, R9
	VLD1 (R7), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1 (R8), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1 (R9), [V8.B16, V9.B16, V10.B16, V11.B16]
	ADD $16, R4, R10
	VLD1 (R10), [V12.B16, V13.B16, V14.B16, V15.B16] // indices Y, U, V; weights
	ADD $80, R4
	VTBL V12.B16, [V0.B16, V1.B16, V2.B16, V3.B16], V16.B16
	VTBL V13.B16, [V4.B16, V5.B16, V6.B16, V7.B16], V17.B16
	VTBL V14.B16, [V8.B16, V9.B16, V10.B16, V11.B16], V18.B16
	// Y - offset, U - 128, V - 128 as int16: slots 0-7 in V0, V2, V4, 8-15 in V1, V3, V5.
	VUXTL V16.B8, V0.H8
	VUXTL2 V16.B16, V1.H8
	VUXTL V17.B8, V2.H8
	VUXTL2 V17.B16, V3.H8
	VUXTL V18.B8, V4.H8
	VUXTL2 V18.B16, V5.H8
	VSUB V20.H8, V0.H8, V0.H8
	VSUB V20.H8, V1.H8, V1.H8
	VSUB V27.H8, V2.H8, V2.H8
	VSUB V27.H8, V3.H8, V3.H8
	VSUB V27.H8, V4.H8, V4.H8
	VSUB V27.H8, V5.H8, V5.H8
	// Slots 0-7: yy = (Y-off)*cy + 32768 in 32 bits, then R, G, B = (yy + chroma terms) >> 16, clamped.
	VZIP1 V0.H8, V31.H8, V6.H8
	VZIP2 V0.H8, V31.H8, V7.H8
	WORD $0x0e758006 // smlal v6.4s, v0.4h, v21.4h
	WORD $0x4e758007 // smlal2 v7.4s, v0.8h, v21.8h
	VADD V26.S4, V6.S4, V6.S4
	VADD V26.S4, V7.S4, V7.S4
	WORD $0x0f10a448 // sxtl v8.4s, v2.4h
	WORD $0x4f10a449 // sxtl2 v9.4s, v2.8h
	WORD $0x0f10a48a // sxtl v10.4s, v4.4h
	WORD $0x4f10a48b // sxtl2 v11.4s, v4.8h
	WORD $0x4eb69d4c // mul v12.4s, v10.4s, v22.4s
	WORD $0x4eb79d0e // mul v14.4s, v8.4s, v23.4s
	WORD $0x4eb8954e // mla v14.4s, v10.4s, v24.4s
	WORD $0x4eb99d11 // mul v17.4s, v8.4s, v25.4s
	VADD V6.S4, V12.S4, V12.S4
	VADD V6.S4, V14.S4, V14.S4
	VADD V6.S4, V17.S4, V17.S4
	WORD $0x4eb69d6d // mul v13.4s, v11.4s, v22.4s
	WORD $0x4eb79d30 // mul v16.4s, v9.4s, v23.4s
	WORD $0x4eb89570 // mla v16.4s, v11.4s, v24.4s
	WORD $0x4eb99d32 // mul v18.4s, v9.4s, v25.4s
	VADD V7.S4, V13.S4, V13.S4
	VADD V7.S4, V16.S4, V16.S4
	VADD V7.S4, V18.S4, V18.S4
	VUZP2 V13.H8, V12.H8, V12.H8
	VUZP2 V16.H8, V14.H8, V14.H8
	VUZP2 V18.H8, V17.H8, V17.H8
	WORD $0x2e21299c // sqxtun v28.8b, v12.8h
	WORD $0x2e2129dd // sqxtun v29.8b, v14.8h
	WORD $0x2e212a3e // sqxtun v30.8b, v17.8h
	// Slots 8-15: yy = (Y-off)*cy + 32768 in 32 bits, then R, G, B = (yy + chroma terms) >> 16, clamped.
	VZIP1 V1.H8, V31.H8, V6.H8
	VZIP2 V1.H8, V31.H8, V7.H8
	WORD $0x0e758026 // smlal v6.4s, v1.4h, v21.4h
	WORD $0x4e758027 // smlal2 v7.4s, v1.8h, v21.8h
	VADD V26.S4, V6.S4, V6.S4
	VADD V26.S4, V7.S4, V7.S4
	WORD $0x0f10a468 // sxtl v8.4s, v3.4h
	WORD $0x4f10a469 // sxtl2 v9.4s, v3.8h
	WORD $0x0f10a4aa // sxtl v10.4s, v5.4h
	WORD $0x4f10a4ab // sxtl2 v11.4s, v5.8h
	WORD $0x4eb69d4c // mul v12.4s, v10.4s, v22.4s
	WORD $0x4eb79d0e // mul v14.4s, v8.4s, v23.4s
	WORD $0x4eb8954e // mla v14.4s, v10.4s, v24.4s
	WORD $0x4eb99d11 // mul v17.4s, v8.4s, v25.4s
	VADD V6.S4, V12.S4, V12.S4
	VADD V6.S4, V14.S4, V14.S4
	VADD V6.S4, V17.S4, V17.S4
	WORD $0x4eb69d6d // mul v13.4s, v11.4s, v22.4s
	WORD $0x4eb79d30 // mul v16.4s, v9.4s, v23.4s
	WORD $0x4eb89570 // mla v16.4s, v11.4s, v24.4s
	WORD $0x4eb99d32 // mul v18.4s, v9.4s, v25.4s
	VADD V7.S4, V13.S4, V13.S4
	VADD V7.S4, V16.S4, V16.S4
	VADD V7.S4, V18.S4, V18.S4
	VUZP2 V13.H8, V12.H8, V12.H8
	VUZP2 V16.H8, V14.H8, V14.H8
	VUZP2 V18.H8, V17.H8, V17.H8
	WORD $0x6e21299c // sqxtun2 v28.16b, v12.8h
	WORD $0x6e2129dd // sqxtun2 v29.16b, v14.8h
	WORD $0x6e212a3e // sqxtun2 v30.16b, v17.8h
	// h = (a*(65536-w) + b*w + 128) >> 8 per channel, a in slots 0-7, b in 8-15, w in V15.
	VUXTL V28.B8, V0.H8
	VUXTL2 V28.B16, V1.H8
	VZIP1 V0.H8, V31.H8, V2.H8
	VZIP2 V0.H8, V31.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f188c44 // rshrn v4.4h, v2.4s, #8
	WORD $0x4f188c64 // rshrn2 v4.8h, v3.4s, #8
	VUXTL V29.B8, V0.H8
	VUXTL2 V29.B16, V1.H8
	VZIP1 V0.H8, V31.H8, V2.H8
	VZIP2 V0.H8, V31.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f188c45 // rshrn v5.4h, v2.4s, #8
	WORD $0x4f188c65 // rshrn2 v5.8h, v3.4s, #8
	VUXTL V30.B8, V0.H8
	VUXTL2 V30.B16, V1.H8
	VZIP1 V0.H8, V31.H8, V2.H8
	VZIP2 V0.H8, V31.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f188c46 // rshrn v6.4h, v2.4s, #8
	WORD $0x4f188c66 // rshrn2 v6.8h, v3.4s, #8
	VST1.P [V4.B16, V5.B16, V6.B16], 48(R0)
	SUBS $1, R5
	BNE hloop
hdone:
	RET

// func vlutNEON(out *byte, top, bot *uint16, n int, wy uint, tab *[256]byte)
TEXT ·vlutNEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD top+8(FP), R1
	MOVD bot+16(FP), R2
	MOVD n+24(FP), R3
	MOVD wy+32(FP), R4
	MOVD tab+40(FP), R5
	CBZ R3, vdone
	VLD1.P 64(R5), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1.P 64(R5), [V20.B16, V21.B16, V22.B16, V23.B16]
	VLD1.P 64(R5), [V24.B16, V25.B16, V26.B16, V27.B16]
	VLD1 (R5), [V28.B16, V29.B16, V30.B16, V31.B16]
	VDUP R4, V15.H8
	MOVD $64, R6
	VDUP R6, V14.B16
	VEOR V13.B16, V13.B16, V13.B16
	MOVD $48, R7
vloop:
	VLD1.P (R1)(R7), [V0.H8]
	VLD1.P (R2)(R7), [V1.H8]
	// top*(65536-wy) + bot*wy, then (x + 1<<23) >> 24 as (x >> 16 + 128) >> 8.
	VZIP1 V0.H8, V13.H8, V2.H8
	VZIP2 V0.H8, V13.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f108444 // shrn v4.4h, v2.4s, #16
	WORD $0x4f108464 // shrn2 v4.8h, v3.4s, #16
	WORD $0x2f089c85 // uqrshrn v5.8b, v4.8h, #8
	// The 256-byte table: four lookups of 64 entries.
	VTBL V5.B8, [V16.B16, V17.B16, V18.B16, V19.B16], V6.B8
	VSUB V14.B8, V5.B8, V5.B8
	VTBX V5.B8, [V20.B16, V21.B16, V22.B16, V23.B16], V6.B8
	VSUB V14.B8, V5.B8, V5.B8
	VTBX V5.B8, [V24.B16, V25.B16, V26.B16, V27.B16], V6.B8
	VSUB V14.B8, V5.B8, V5.B8
	VTBX V5.B8, [V28.B16, V29.B16, V30.B16, V31.B16], V6.B8
	VST1 [V6.B8], (R0)
	ADD $24, R0
	SUBS $1, R3
	BNE vloop
vdone:
	RET

// func interleave3NEON(dst, src *byte, n int)
TEXT ·interleave3NEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	CBZ R2, idone
iloop:
	VLD1.P 24(R1), [V0.B8, V1.B8, V2.B8]
	VST3.P [V0.B8, V1.B8, V2.B8], 24(R0)
	SUBS $1, R2
	BNE iloop
idone:
	RET

// func hrowPlanarNEON(h *uint16, rp, gp, bp *byte, grp *bilGroup, n int)
TEXT ·hrowPlanarNEON(SB), NOSPLIT, $0-48
	MOVD h+0(FP), R0
	MOVD rp+8(FP), R1
	MOVD gp+16(FP), R2
	MOVD bp+24(FP), R3
	MOVD grp+32(FP), R4
	MOVD n+40(FP), R5
	CBZ R5, pdone2
	VEOR V31.B16, V31.B16, V31.B16
ploop2:
	MOVWU 0(R4), R7
	MOVWU 4(R4), R8
	MOVWU 8(R4), R9
	ADD R7, R1, R7
	ADD R8, R2, R8
	ADD R9, R3, R9
	VLD1 (R7), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1 (R8), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1 (R9), [V8.B16, V9.B16, V10.B16, V11.B16]
	ADD $16, R4, R10
	VLD1 (R10), [V12.B16, V13.B16, V14.B16, V15.B16] // indices R, G, B; weights
	ADD $80, R4
	VTBL V12.B16, [V0.B16, V1.B16, V2.B16, V3.B16], V16.B16
	VTBL V13.B16, [V4.B16, V5.B16, V6.B16, V7.B16], V17.B16
	VTBL V14.B16, [V8.B16, V9.B16, V10.B16, V11.B16], V18.B16
	// h = (a*(65536-w) + b*w + 128) >> 8 per channel, a in slots 0-7, b in 8-15, w in V15.
	VUXTL V16.B8, V0.H8
	VUXTL2 V16.B16, V1.H8
	VZIP1 V0.H8, V31.H8, V2.H8
	VZIP2 V0.H8, V31.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f188c44 // rshrn v4.4h, v2.4s, #8
	WORD $0x4f188c64 // rshrn2 v4.8h, v3.4s, #8
	VUXTL V17.B8, V0.H8
	VUXTL2 V17.B16, V1.H8
	VZIP1 V0.H8, V31.H8, V2.H8
	VZIP2 V0.H8, V31.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f188c45 // rshrn v5.4h, v2.4s, #8
	WORD $0x4f188c65 // rshrn2 v5.8h, v3.4s, #8
	VUXTL V18.B8, V0.H8
	VUXTL2 V18.B16, V1.H8
	VZIP1 V0.H8, V31.H8, V2.H8
	VZIP2 V0.H8, V31.H8, V3.H8
	WORD $0x2e6fa002 // umlsl v2.4s, v0.4h, v15.4h
	WORD $0x6e6fa003 // umlsl2 v3.4s, v0.8h, v15.8h
	WORD $0x2e6f8022 // umlal v2.4s, v1.4h, v15.4h
	WORD $0x6e6f8023 // umlal2 v3.4s, v1.8h, v15.8h
	WORD $0x0f188c46 // rshrn v6.4h, v2.4s, #8
	WORD $0x4f188c66 // rshrn2 v6.8h, v3.4s, #8
	VST1.P [V4.B16, V5.B16, V6.B16], 48(R0)
	SUBS $1, R5
	BNE ploop2
pdone2:
	RET

// func deinterleave3NEON(rp, gp, bp, src *byte, n int)
TEXT ·deinterleave3NEON(SB), NOSPLIT, $0-40
	MOVD rp+0(FP), R0
	MOVD gp+8(FP), R1
	MOVD bp+16(FP), R2
	MOVD src+24(FP), R3
	MOVD n+32(FP), R4
	CBZ R4, d3done
d3loop:
	VLD3.P 48(R3), [V0.B16, V1.B16, V2.B16]
	VST1.P [V0.B16], 16(R0)
	VST1.P [V1.B16], 16(R1)
	VST1.P [V2.B16], 16(R2)
	SUBS $1, R4
	BNE d3loop
d3done:
	RET

// func deinterleave4NEON(rp, gp, bp, src *byte, n int)
TEXT ·deinterleave4NEON(SB), NOSPLIT, $0-40
	MOVD rp+0(FP), R0
	MOVD gp+8(FP), R1
	MOVD bp+16(FP), R2
	MOVD src+24(FP), R3
	MOVD n+32(FP), R4
	CBZ R4, d4done
d4loop:
	VLD4.P 64(R3), [V0.B16, V1.B16, V2.B16, V3.B16]
	VST1.P [V0.B16], 16(R0)
	VST1.P [V1.B16], 16(R1)
	VST1.P [V2.B16], 16(R2)
	SUBS $1, R4
	BNE d4loop
d4done:
	RET

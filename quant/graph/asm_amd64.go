//go:build amd64 && gc && !purego

package graph

import "golang.org/x/sys/cpu"

// floatAsmOK says the CPU runs the AVX2/FMA kernels, sgemmKernelAsm and depthwiseRow3Asm
// (GODEBUG=cpu.avx2=off or cpu.fma=off clears it); useFloatAsm selects them, and tests flip it
// to run both the assembly and the Go twins.
var (
	floatAsmOK  = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useFloatAsm = floatAsmOK
)

// sgemmKernelAsm is sgemmKernelGo (a holding kc·gemmMR values, b kc·gemmNR, kc ≥ 1) in AVX2 with
// fused multiply-adds: twelve YMM accumulators for the 6×16 tile.
//
//go:noescape
func sgemmKernelAsm(kc int, a, b *float32, tile *[gemmMR * gemmNR]float32)

// depthwiseRow3Asm is depthwiseRow3's loop for sw = 1 on the first n outputs (n a positive multiple
// of 8), eight at a time with fused multiply-adds: dst[i] = fma(w[2], x[i+2dw], fma(w[1], x[i+dw],
// fma(w[0], x[i], dst[i]))). x must hold n-1+2dw+1 values.
//
//go:noescape
func depthwiseRow3Asm(n int, dst, x *float32, w *[3]float32, dw int)

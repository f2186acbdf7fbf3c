//go:build amd64 && gc && !purego

package graph

import "golang.org/x/sys/cpu"

// sgemmAsmOK says the CPU runs the AVX2/FMA micro-kernel (GODEBUG=cpu.avx2=off or cpu.fma=off
// clears it); useSgemmAsm selects it, and tests flip it to run both kernels.
var (
	sgemmAsmOK  = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useSgemmAsm = sgemmAsmOK
)

// sgemmKernelAsm is sgemmKernelGo (a holding kc·gemmMR values, b kc·gemmNR, kc ≥ 1) in AVX2 with
// fused multiply-adds: twelve YMM accumulators for the 6×16 tile.
//
//go:noescape
func sgemmKernelAsm(kc int, a, b *float32, tile *[gemmMR * gemmNR]float32)

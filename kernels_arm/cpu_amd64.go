//go:build amd64 && gc && !purego

package kernels

import "golang.org/x/sys/cpu"

// haveAsm reports whether the assembly kernels are built.
const haveAsm = true

// dotName names pathSDOT on this architecture: the dot-product layout computed with AVX2
// (VPMOVSXBW + VPMADDWD, gemm_amd64.s).
const dotName = "avx2"

// haveDWDot reports whether the depthwise SDOT form (dwdot) has a kernel here: not on amd64, where
// the sdot path's depthwise convolutions run dw3x3.
const haveDWDot = false

func init() {
	// cpu.X86.HasAVX2 includes the operating system's support for the YMM state (XGETBV), and
	// GODEBUG=cpu.avx2=off clears it.
	useSDOT = cpu.X86.HasAVX2
}

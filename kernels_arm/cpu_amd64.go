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

// haveDW3x3b reports whether dw3x3b has a kernel here: not on amd64, where dw3x3 runs in AVX2.
const haveDW3x3b = false

func init() {
	// cpu.X86.HasAVX2 includes the operating system's support for the YMM state (XGETBV), and
	// GODEBUG=cpu.avx2=off clears it.
	useSDOT = cpu.X86.HasAVX2
	// VPDPBUSD on YMM registers: AVX512_VNNI with AVX512VL (x/sys/cpu clears both without the
	// operating system's AVX-512 state; GODEBUG=cpu.avx512vnni=off turns it off).
	useVNNI = useSDOT && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VL
}

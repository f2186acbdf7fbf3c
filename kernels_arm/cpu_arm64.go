//go:build arm64 && gc && !purego

package kernels

import "golang.org/x/sys/cpu"

// haveAsm reports whether the assembly kernels are built.
const haveAsm = true

// dotName names pathSDOT on this architecture: the SDOT instruction (ASIMDDP).
const dotName = "sdot"

// haveDWDot reports whether the depthwise SDOT form (dwdot) has a kernel here.
const haveDWDot = true

// haveDW3x3b reports whether dw3x3b (int8 pairs summed in int16) has a kernel here.
const haveDW3x3b = true

func init() {
	useNEON = cpu.ARM64.HasASIMD
	useSDOT = useNEON && cpu.ARM64.HasASIMDDP
}

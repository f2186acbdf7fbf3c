//go:build arm64 && gc && !purego

package kernels

import "golang.org/x/sys/cpu"

// haveAsm reports whether the assembly kernels are built.
const haveAsm = true

func init() {
	useNEON = cpu.ARM64.HasASIMD
	useSDOT = useNEON && cpu.ARM64.HasASIMDDP
}

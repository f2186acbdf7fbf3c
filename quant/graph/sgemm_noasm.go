//go:build !amd64 || !gc || purego

package graph

// No assembly SGEMM kernel on this platform: sgemmKernelGo runs.
const sgemmAsmOK = false

var useSgemmAsm = false

func sgemmKernelAsm(kc int, a, b *float32, tile *[gemmMR * gemmNR]float32) {
	panic("graph: no assembly SGEMM kernel on this platform")
}

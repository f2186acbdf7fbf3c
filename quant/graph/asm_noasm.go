//go:build !amd64 || !gc || purego

package graph

// No assembly kernels on this platform: sgemmKernelGo and depthwiseRow3's Go loop run.
const floatAsmOK = false

var useFloatAsm = false

func sgemmKernelAsm(kc int, a, b *float32, tile *[gemmMR * gemmNR]float32) {
	panic("graph: no assembly SGEMM kernel on this platform")
}

func depthwiseRow3Asm(n int, dst, x *float32, w *[3]float32, dw int) {
	panic("graph: no assembly depthwise kernel on this platform")
}

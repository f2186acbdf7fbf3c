//go:build amd64 && gc && !purego

package kernels

// addXNNPACK has add_arm64.go's contract (XNNPACK's qs8-vadd on n blocks of 16), computed with AVX2:
// VPMOVSXBD, VPMULLD and VPADDD wrap in int32 as the reference loop's arithmetic does. The
// reference loop:
//
//	for i := range 16 * n {
//		dst[i] = addOneX(a[i], b[i], p[:addXConsts])
//	}
//
//go:noescape
func addXNNPACK(dst, a, b *int8, n int, p *int32)

// addInt8 (TensorFlow Lite's reference Add) has no amd64 form: it calls its twin.
func addInt8(dst, a, b *int8, n int, p *int32) { addInt8Generic(dst, a, b, n, p) }

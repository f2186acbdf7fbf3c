package kernels

import (
	"unsafe"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
)

// addConsts and addXConsts are the numbers of int32 in addInt8's and addXNNPACK's parameter blocks.
const (
	addConsts  = 12
	addXConsts = 7
)

// addOne is TFLite's AddFunc (reference/integer_ops/add.h) on the addInt8 parameter block.
func addOne(x, y int8, P []int32) int8 {
	a := (int32(x) + P[0]) * (1 << uint(P[2]))
	b := (int32(y) + P[1]) * (1 << uint(P[2]))
	a = fixedpoint.MultiplyByQuantizedMultiplier(a, P[3], int(P[4]))
	b = fixedpoint.MultiplyByQuantizedMultiplier(b, P[5], int(P[6]))
	v := fixedpoint.MultiplyByQuantizedMultiplier(a+b, P[7], int(P[8])) + P[9]
	return int8(fixedpoint.Clamp(v, P[10], P[11]))
}

// addInt8Generic is the pure-Go twin of addInt8.
func addInt8Generic(dst, a, b *int8, n int, p *int32) {
	D, A, B := unsafe.Slice(dst, 16*n), unsafe.Slice(a, 16*n), unsafe.Slice(b, 16*n)
	P := unsafe.Slice(p, addConsts)
	for i := range D {
		D[i] = addOne(A[i], B[i], P)
	}
}

// addOneX is XNNPACK's scalar add (qs8-vadd scalar) on the addXNNPACK parameter block.
func addOneX(x, y int8, P []int32) int8 {
	acc := P[0] + int32(x)*P[1] + int32(y)*P[2]
	v := acc >> uint(-P[3])
	return int8(fixedpoint.Clamp(v, P[5]-P[4], P[6]-P[4]) + P[4])
}

// addXNNPACKGeneric is the pure-Go twin of addXNNPACK.
func addXNNPACKGeneric(dst, a, b *int8, n int, p *int32) {
	D, A, B := unsafe.Slice(dst, 16*n), unsafe.Slice(a, 16*n), unsafe.Slice(b, 16*n)
	P := unsafe.Slice(p, addXConsts)
	for i := range D {
		D[i] = addOneX(A[i], B[i], P)
	}
}

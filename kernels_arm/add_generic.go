package kernels

import (
	"unsafe"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
)

// addConsts is the number of int32 in addInt8's parameter block.
const addConsts = 12

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

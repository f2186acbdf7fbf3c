package runtime_test

import (
	"math"
	"math/rand/v2"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
)

// The transformer family's cases of TestTFLiteReference: BATCH_MATMUL (a constant or a computed
// right operand, adj_x, adj_y, broadcast batch dimensions), GELU (exact and tanh) and SOFTMAX over
// the rows of rank-3 and rank-4 attention scores.
func init() {
	refCases = append(refCases,
		refCase{name: "batchmatmul/i8/const-rhs", build: bmmConstCase([]int{2, 5, 7}, []int{7, 6}, false)},
		refCase{name: "batchmatmul/i8/const-rhs/adj_y/broadcast", build: bmmConstCase([]int{2, 1, 4, 6}, []int{3, 5, 6}, true)},
		refCase{name: "batchmatmul/i8/self/adj_y", build: bmmSelfCase([]int{1, 2, 6, 8}, false, true)},
		refCase{name: "batchmatmul/i8/two-activations", build: bmmTwoCase([]int{3, 5, 5}, false, false)},
		refCase{name: "batchmatmul/i8/two-activations/adj_x", build: bmmTwoCase([]int{2, 6, 6}, true, false)},
		refCase{name: "batchmatmul/i8/two-activations/adj_x/adj_y", build: bmmTwoCase([]int{2, 4, 4}, true, true)},
		refCase{name: "gelu/i8/exact", build: geluCase(false, qp{0.0317, 5}, qp{0.0165, -118})},
		refCase{name: "gelu/i8/tanh", build: geluCase(true, qp{0.0317, 5}, qp{0.0165, -118})},
		refCase{name: "gelu/i8/exact/wide", build: geluCase(false, qp{0.0731, -20}, qp{0.041, -110})},
		refCase{name: "softmax/i8/rank3", build: softmaxCase(false, []int{2, 3, 17}, qp{0.0151, 3}, 1)},
		refCase{name: "softmax/i8/rank4/attention", build: softmaxCase(false, []int{1, 2, 9, 9}, qp{0.0217, -4}, 1)},
	)
}

// bmmOutScale is an output scale that holds most accumulators of random int8 operands with
// depth k without saturating.
func bmmOutScale(sa, sb float32, k int) float32 {
	return sa * sb * float32(math.Sqrt(float64(k))) * 74 * 74 / 45
}

func bmmShape(a, b []int, adjX, adjY bool) []int {
	r := max(len(a), len(b))
	ext := func(s []int) []int {
		e := make([]int, r)
		for i := range e {
			e[i] = 1
		}
		copy(e[r-len(s):], s)
		return e
	}
	ea, eb := ext(a), ext(b)
	out := make([]int, r)
	for i := range r - 2 {
		out[i] = max(ea[i], eb[i])
	}
	m, n := ea[r-2], eb[r-1]
	if adjX {
		m = ea[r-1]
	}
	if adjY {
		n = eb[r-2]
	}
	out[r-2], out[r-1] = m, n
	return out
}

func bmmConstCase(a, b []int, adjY bool) func(*tfliteref.Builder, *rand.Rand) {
	return func(bld *tfliteref.Builder, rng *rand.Rand) {
		in, w := qp{0.0417, -7}, qp{0.0213, 3}
		k := a[len(a)-1]
		x := bld.Input("lhs", tfl.TensorTypeINT8, a, in.q())
		y := bld.Const("rhs", tfl.TensorTypeINT8, b, w.q(), randBytes(rng, prod(b)))
		shape := bmmShape(a, b, false, adjY)
		o := bld.Tensor("output", tfl.TensorTypeINT8, shape, qp{bmmOutScale(in.scale, w.scale, k), 2}.q())
		bld.Op(tfl.BuiltinOperatorBATCH_MATMUL, 4, &tfl.BatchMatMulOptionsT{AdjY: adjY}, []int32{x, y}, o)
		bld.Output(o)
	}
}

func bmmSelfCase(a []int, adjX, adjY bool) func(*tfliteref.Builder, *rand.Rand) {
	return func(bld *tfliteref.Builder, _ *rand.Rand) {
		in := qp{0.0417, -7}
		x := bld.Input("x", tfl.TensorTypeINT8, a, in.q())
		k := a[len(a)-1]
		if adjX {
			k = a[len(a)-2]
		}
		o := bld.Tensor("output", tfl.TensorTypeINT8, bmmShape(a, a, adjX, adjY), qp{bmmOutScale(in.scale, in.scale, k), -3}.q())
		bld.Op(tfl.BuiltinOperatorBATCH_MATMUL, 4, &tfl.BatchMatMulOptionsT{AdjX: adjX, AdjY: adjY}, []int32{x, x}, o)
		bld.Output(o)
	}
}

// bmmTwoCase multiplies the input by a requantized copy of itself (QUANTIZE int8 → int8 with
// another scale and zero point): two activations quantized differently.
func bmmTwoCase(a []int, adjX, adjY bool) func(*tfliteref.Builder, *rand.Rand) {
	return func(bld *tfliteref.Builder, _ *rand.Rand) {
		in, in2 := qp{0.0417, -7}, qp{0.0311, 9}
		x := bld.Input("x", tfl.TensorTypeINT8, a, in.q())
		y := bld.Tensor("y", tfl.TensorTypeINT8, a, in2.q())
		bld.Op(tfl.BuiltinOperatorQUANTIZE, 2, &tfl.QuantizeOptionsT{}, []int32{x}, y)
		k := a[len(a)-1]
		if adjX {
			k = a[len(a)-2]
		}
		o := bld.Tensor("output", tfl.TensorTypeINT8, bmmShape(a, a, adjX, adjY), qp{bmmOutScale(in.scale, in2.scale, k), 4}.q())
		bld.Op(tfl.BuiltinOperatorBATCH_MATMUL, 4, &tfl.BatchMatMulOptionsT{AdjX: adjX, AdjY: adjY}, []int32{x, y}, o)
		bld.Output(o)
	}
}

func geluCase(approximate bool, in, out qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		shape := []int{4, 256}
		x := b.Input("input", tfl.TensorTypeINT8, shape, in.q())
		y := b.Tensor("output", tfl.TensorTypeINT8, shape, out.q())
		b.Op(tfl.BuiltinOperatorGELU, 2, &tfl.GeluOptionsT{Approximate: approximate}, []int32{x}, y)
		b.Output(y)
	}
}

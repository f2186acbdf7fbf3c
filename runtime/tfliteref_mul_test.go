package runtime_test

import (
	"math/rand/v2"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
)

// Real-TensorFlow-Lite cases of the squeeze-excitation family: MUL with and without broadcasting,
// LOGISTIC and HARD_SWISH (runtime/mul.go, runtime/lut.go).
func init() {
	refCases = append(refCases,
		refCase{name: "mul/i8/same-shape", build: mulCase([]int{1, 5, 6, 7}, []int{1, 5, 6, 7}, qp{0.0517, -3}, qp{0.0231, 11}, qp{0.0771, -9}, none, false)},
		refCase{name: "mul/i8/se-broadcast/relu", build: mulCase([]int{1, 6, 5, 16}, []int{1, 1, 1, 16}, qp{0.0417, -20}, qp{1.0 / 256, -128}, qp{0.0311, -25}, relu, false)},
		refCase{name: "mul/i8/const-per-channel", build: mulCase([]int{1, 4, 7, 9}, []int{9}, qp{0.0731, 5}, qp{0.0119, 3}, qp{0.0517, 1}, none, true)},
		refCase{name: "mul/i8/scalar", build: mulCase([]int{1, 3, 4, 5}, []int{1}, qp{0.0731, 5}, qp{0.0419, -7}, qp{0.0617, 2}, relu6, true)},
		refCase{name: "mul/i8/rank3-rows", build: mulCase([]int{2, 7, 8}, []int{2, 7, 1}, qp{0.0331, -1}, qp{0.0213, 4}, qp{0.0457, 0}, none, false)},
		refCase{name: "mul/i8/tiny-scale", build: mulCase([]int{1, 3, 3, 4}, []int{1, 3, 3, 4}, qp{0.0001, -3}, qp{0.0002, 11}, qp{0.5, -9}, none, true)},
		refCase{name: "logistic/i8", build: unaryCase(tfl.BuiltinOperatorLOGISTIC, []int{1, 8, 8, 4}, qp{0.0625, -7}, qp{1.0 / 256, -128})},
		refCase{name: "logistic/i8/wide", build: unaryCase(tfl.BuiltinOperatorLOGISTIC, []int{1, 37}, qp{0.0531, 13}, qp{1.0 / 256, -128})},
		refCase{name: "hardswish/i8", build: unaryCase(tfl.BuiltinOperatorHARD_SWISH, []int{1, 8, 8, 4}, qp{0.0517, -11}, qp{0.0361, -60})},
		refCase{name: "hardswish/i8/wide-input", build: unaryCase(tfl.BuiltinOperatorHARD_SWISH, []int{1, 5, 5, 8}, qp{0.1931, 3}, qp{0.1131, -100})},
		refCase{name: "hardswish/i8/narrow", build: unaryCase(tfl.BuiltinOperatorHARD_SWISH, []int{1, 64}, qp{0.0123, 27}, qp{0.0093, -90})},
	)
}

// mulCase multiplies the input by a second operand of shape bShape: another input-like constant of
// random bytes (const: a constant; otherwise also a constant, as the reference runner feeds one input).
func mulCase(aShape, bShape []int, a, bq, out qp, act tfl.ActivationFunctionType, _ bool) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, rng *rand.Rand) {
		typ := tensorType(false)
		x := b.Input("input", typ, aShape, a.q())
		k := b.Const("factor", typ, bShape, bq.q(), randBytes(rng, prod(bShape)))
		oshape := aShape
		if len(bShape) > len(aShape) {
			oshape = bShape
		}
		y := b.Tensor("output", typ, oshape, out.q())
		b.Op(tfl.BuiltinOperatorMUL, 2, &tfl.MulOptionsT{FusedActivationFunction: act}, []int32{x, k}, y)
		b.Output(y)
	}
}

// unaryCase applies a one-input activation.
func unaryCase(code tfl.BuiltinOperator, shape []int, in, out qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(false)
		x := b.Input("input", typ, shape, in.q())
		y := b.Tensor("output", typ, shape, out.q())
		var opts any
		if code == tfl.BuiltinOperatorHARD_SWISH {
			opts = &tfl.HardSwishOptionsT{}
		}
		version := int32(2)
		if code == tfl.BuiltinOperatorHARD_SWISH {
			version = 1
		}
		b.Op(code, version, opts, []int32{x}, y)
		b.Output(y)
	}
}

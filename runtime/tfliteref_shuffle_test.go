package runtime_test

import (
	"math/rand/v2"
	"slices"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
)

// The channel-shuffle family against real TensorFlow Lite (issue 13): TRANSPOSE of rank 4 and 5,
// SLICE, STRIDED_SLICE, SPLIT and SPLIT_V (their outputs joined again, in another order, by a
// CONCATENATION so that the model has one output), the pools of Inception and DenseNet.
func init() {
	refCases = append(refCases,
		refCase{name: "transpose/i8/rank4/nhwc-nchw", build: transposeCase(false, []int{1, 4, 5, 6}, []int32{0, 3, 1, 2})},
		refCase{name: "transpose/u8/rank4", build: transposeCase(true, []int{2, 3, 4, 5}, []int32{3, 1, 0, 2})},
		// ShuffleNet's channel shuffle in NHWC: [N, H, W, groups, C/groups] -> [N, H, W, C/groups, groups].
		refCase{name: "transpose/i8/rank5/shuffle", build: transposeCase(false, []int{1, 4, 5, 2, 6}, []int32{0, 1, 2, 4, 3})},
		// (This TensorFlow Lite build refuses rank 6: "Transpose op only supports 1D-5D input arrays";
		// the runtime takes ranks up to 8, TestTransposeAgainstNaive.)
		refCase{name: "slice/i8", build: sliceCase(false, []int32{0, 1, 2, 3}, []int32{1, 3, -1, 4}, []int{1, 3, 4, 4})},
		refCase{name: "slice/u8", build: sliceCase(true, []int32{0, 0, 1, 0}, []int32{-1, 5, 3, 3}, []int{1, 5, 3, 3})},
		// Strides 2 and 3, a negative begin, begin and end masks.
		refCase{name: "strided_slice/i8/strides", build: stridedSliceCase([]int32{0, 1, -5, 1}, []int32{1, 5, 6, 8}, []int32{1, 2, 2, 3}, 0b0001, 0b1000, 0, []int{1, 2, 3, 3})},
		// shrink_axis_mask drops dimension 1.
		refCase{name: "strided_slice/i8/shrink", build: stridedSliceCase([]int32{0, 2, 0, 0}, []int32{1, 3, 6, 8}, []int32{1, 1, 1, 1}, 0, 0, 0b0010, []int{1, 6, 8})},
		refCase{name: "split/i8/channels", build: splitCase(false, nil)},
		refCase{name: "split_v/i8/channels", build: splitCase(false, []int32{3, -1, 2})},
		refCase{name: "split/u8/channels", build: splitCase(true, nil)},
		// Inception's 3x3 stride-1 max pool before its pool projection; DenseNet's 2x2 stride-2
		// average pool in its transitions.
		refCase{name: "maxpool/i8/3x3/s1/same", build: poolCase(tfl.BuiltinOperatorMAX_POOL_2D, false, 9, 10, 5, 3, 1, same, none)},
		refCase{name: "avgpool/i8/2x2/s2/valid", build: poolCase(tfl.BuiltinOperatorAVERAGE_POOL_2D, false, 8, 10, 6, 2, 2, valid, none)},
		// (No INT8 CONCATENATION with inputs quantized unlike the output: TensorFlow Lite's INT8 kernel
		// refuses it at prepare time, "concatenation.cc:179 t->params.scale != output->params.scale",
		// although this build's XNNPACK delegate sometimes takes the op first and joins the bytes.)
		refCase{name: "avgpool/i8/2x2/s2/valid/odd", build: poolCase(tfl.BuiltinOperatorAVERAGE_POOL_2D, false, 7, 9, 3, 2, 2, valid, none)},
	)
}

func i32s(v []int32) []byte { return tfliteref.Int32Data(v) }

func transposeCase(u8 bool, shape []int, perm []int32) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		q := qp{0.0517, -3}
		if u8 {
			q = qp{0.0517, 125}
		}
		out := make([]int, len(perm))
		for d, a := range perm {
			out[d] = shape[a]
		}
		x := b.Input("input", typ, shape, q.q())
		p := b.Const("perm", tfl.TensorTypeINT32, []int{len(perm)}, nil, i32s(perm))
		y := b.Tensor("output", typ, out, q.q())
		b.Op(tfl.BuiltinOperatorTRANSPOSE, opVersion(u8, 2), &tfl.TransposeOptionsT{}, []int32{x, p}, y)
		b.Output(y)
	}
}

// sliceCase slices a [1, 5, 6, 8] input.
func sliceCase(u8 bool, begin, size []int32, out []int) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		q := qp{0.0417, 5}
		if u8 {
			q = qp{0.0417, 133}
		}
		x := b.Input("input", typ, []int{1, 5, 6, 8}, q.q())
		bt := b.Const("begin", tfl.TensorTypeINT32, []int{4}, nil, i32s(begin))
		st := b.Const("size", tfl.TensorTypeINT32, []int{4}, nil, i32s(size))
		y := b.Tensor("output", typ, out, q.q())
		b.Op(tfl.BuiltinOperatorSLICE, opVersion(u8, 2), &tfl.SliceOptionsT{}, []int32{x, bt, st}, y)
		b.Output(y)
	}
}

// stridedSliceCase slices an int8 [1, 5, 6, 8] input.
func stridedSliceCase(begin, end, strides []int32, beginMask, endMask, shrink int32, out []int) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		q := qp{0.0417, 5}
		x := b.Input("input", tfl.TensorTypeINT8, []int{1, 5, 6, 8}, q.q())
		bt := b.Const("begin", tfl.TensorTypeINT32, []int{4}, nil, i32s(begin))
		et := b.Const("end", tfl.TensorTypeINT32, []int{4}, nil, i32s(end))
		st := b.Const("strides", tfl.TensorTypeINT32, []int{4}, nil, i32s(strides))
		y := b.Tensor("output", tfl.TensorTypeINT8, out, q.q())
		b.Op(tfl.BuiltinOperatorSTRIDED_SLICE, 2, &tfl.StridedSliceOptionsT{BeginMask: beginMask, EndMask: endMask, ShrinkAxisMask: shrink},
			[]int32{x, bt, et, st}, y)
		b.Output(y)
	}
}

// splitCase splits a [1, 4, 5, 8] input along the channels, into two halves (SPLIT) or by sizes
// (SPLIT_V), and joins the parts again in reverse order.
func splitCase(u8 bool, sizes []int32) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		q := qp{0.0613, -2}
		if u8 {
			q = qp{0.0613, 126}
		}
		x := b.Input("input", typ, []int{1, 4, 5, 8}, q.q())
		axis := b.Const("axis", tfl.TensorTypeINT32, []int{}, nil, i32s([]int32{3}))
		var parts []int32
		if sizes == nil {
			for k := range 2 {
				parts = append(parts, b.Tensor("part"+string(rune('0'+k)), typ, []int{1, 4, 5, 4}, q.q()))
			}
			b.Op(tfl.BuiltinOperatorSPLIT, opVersion(u8, 2), &tfl.SplitOptionsT{NumSplits: 2}, []int32{axis, x}, parts...)
		} else {
			real := []int{3, 3, 2}
			for k := range sizes {
				parts = append(parts, b.Tensor("part"+string(rune('0'+k)), typ, []int{1, 4, 5, real[k]}, q.q()))
			}
			st := b.Const("sizes", tfl.TensorTypeINT32, []int{len(sizes)}, nil, i32s(sizes))
			b.Op(tfl.BuiltinOperatorSPLIT_V, 2, &tfl.SplitVOptionsT{NumSplits: int32(len(sizes))}, []int32{x, st, axis}, parts...)
		}
		rev := slices.Clone(parts) // the op keeps parts
		slices.Reverse(rev)
		y := b.Tensor("output", typ, []int{1, 4, 5, 8}, q.q())
		b.Op(tfl.BuiltinOperatorCONCATENATION, opVersion(u8, 2), &tfl.ConcatenationOptionsT{Axis: 3}, rev, y)
		b.Output(y)
	}
}

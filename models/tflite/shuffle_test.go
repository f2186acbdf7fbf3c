package tflite

import (
	"slices"
	"strings"
	"testing"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
	"github.com/edgeinfer/edgeinfer/models"
)

func shuffleI32(v ...int32) []byte { return tfliteref.Int32Data(v) }

// shuffleModel is a one-op model on an int8 [1, 4, 5, 6] input; add adds the op's other inputs and
// its outputs and returns them.
func shuffleModel(t testing.TB, code tfl.BuiltinOperator, opts any, add func(b *tfliteref.Builder, x int32, q *tfliteref.Quant) (ins, outs []int32)) []byte {
	t.Helper()
	b := tfliteref.NewBuilder()
	q := tfliteref.PerTensor(0.05, 3)
	x := b.Input("x", tfl.TensorTypeINT8, []int{1, 4, 5, 6}, q)
	ins, outs := add(b, x, q)
	b.Op(code, 1, opts, ins, outs...)
	for _, o := range outs {
		b.Output(o)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func transposeModel(t testing.TB, perm []int32, out []int, oq *tfliteref.Quant) []byte {
	return shuffleModel(t, tfl.BuiltinOperatorTRANSPOSE, &tfl.TransposeOptionsT{}, func(b *tfliteref.Builder, x int32, q *tfliteref.Quant) ([]int32, []int32) {
		if oq == nil {
			oq = q
		}
		p := b.Const("perm", tfl.TensorTypeINT32, []int{len(perm)}, nil, shuffleI32(perm...))
		return []int32{x, p}, []int32{b.Tensor("y", tfl.TensorTypeINT8, out, oq)}
	})
}

func stridedSliceModel(t testing.TB, begin, end, strides []int32, opts *tfl.StridedSliceOptionsT, out []int) []byte {
	return shuffleModel(t, tfl.BuiltinOperatorSTRIDED_SLICE, opts, func(b *tfliteref.Builder, x int32, q *tfliteref.Quant) ([]int32, []int32) {
		bt := b.Const("begin", tfl.TensorTypeINT32, []int{len(begin)}, nil, shuffleI32(begin...))
		et := b.Const("end", tfl.TensorTypeINT32, []int{len(end)}, nil, shuffleI32(end...))
		st := b.Const("strides", tfl.TensorTypeINT32, []int{len(strides)}, nil, shuffleI32(strides...))
		return []int32{x, bt, et, st}, []int32{b.Tensor("y", tfl.TensorTypeINT8, out, q)}
	})
}

func splitVModel(t testing.TB, sizes []int32, axis int32, outs [][]int) []byte {
	return shuffleModel(t, tfl.BuiltinOperatorSPLIT_V, &tfl.SplitVOptionsT{NumSplits: int32(len(outs))}, func(b *tfliteref.Builder, x int32, q *tfliteref.Quant) ([]int32, []int32) {
		st := b.Const("sizes", tfl.TensorTypeINT32, []int{len(sizes)}, nil, shuffleI32(sizes...))
		at := b.Const("axis", tfl.TensorTypeINT32, []int{}, nil, shuffleI32(axis))
		var o []int32
		for k, s := range outs {
			o = append(o, b.Tensor("part"+string(rune('0'+k)), tfl.TensorTypeINT8, s, q))
		}
		return []int32{x, st, at}, o
	})
}

// shuffleSeeds are seeds for FuzzRead.
func shuffleSeeds(t testing.TB) [][]byte {
	return [][]byte{
		transposeModel(t, []int32{0, 3, 1, 2}, []int{1, 6, 4, 5}, nil),
		stridedSliceModel(t, []int32{0, 1, -3, 0}, []int32{1, 4, 5, 6}, []int32{1, 2, 1, 2}, &tfl.StridedSliceOptionsT{EndMask: 0b0100, ShrinkAxisMask: 1}, []int{2, 3, 3}),
		splitVModel(t, []int32{2, -1, 1}, 3, [][]int{{1, 4, 5, 2}, {1, 4, 5, 3}, {1, 4, 5, 1}}),
	}
}

func TestShuffleImport(t *testing.T) {
	seeds := shuffleSeeds(t)
	m, err := Read(seeds[0], "transpose.tflite")
	if err != nil {
		t.Fatal(err)
	}
	if op := m.Ops[0]; op.Type != models.OpTranspose || !slices.Equal(op.Axes, []int{0, 3, 1, 2}) {
		t.Errorf("transpose: op %+v", op)
	}
	m, err = Read(seeds[1], "strided.tflite")
	if err != nil {
		t.Fatal(err)
	}
	// begin 0 (shrunk), 1, -3 -> 2, 0; end 1, 4, 5 (end mask: 5), 6; strides 1, 2, 1, 2.
	if op := m.Ops[0]; op.Type != models.OpSlice || !slices.Equal(op.Paddings, []int{0, 1, 1, 4, 2, 5, 0, 6}) || !slices.Equal(op.Axes, []int{1, 2, 1, 2}) {
		t.Errorf("strided slice: op %+v", op)
	}
	m, err = Read(seeds[2], "splitv.tflite")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 1, 0, 4, 0, 5, 0, 2}, {0, 1, 0, 4, 0, 5, 2, 5}, {0, 1, 0, 4, 0, 5, 5, 6}}
	if len(m.Ops) != 3 {
		t.Fatalf("split_v: %d ops, want 3 Slices", len(m.Ops))
	}
	for k, op := range m.Ops {
		if op.Type != models.OpSlice || !slices.Equal(op.Paddings, want[k]) || op.Outputs[0] != m.Outputs[k] {
			t.Errorf("split_v part %d: op %+v, want Paddings %v writing output %d", k, op, want[k], m.Outputs[k])
		}
	}
}

func TestShuffleImportErrors(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"repeated axis", transposeModel(t, []int32{0, 1, 1, 2}, []int{1, 4, 4, 5}, nil), "op 0 (TRANSPOSE): permutation [0 1 1 2] is not a permutation of 0..3"},
		{"short permutation", transposeModel(t, []int32{0, 1, 2}, []int{1, 4, 5}, nil), "permutation [0 1 2] has 3 entries for input \"x\" of rank 4"},
		{"wrong output", transposeModel(t, []int32{0, 2, 1, 3}, []int{1, 4, 5, 6}, nil), "has shape [1 4 5 6], want [1 5 4 6]"},
		{"other quantization", transposeModel(t, []int32{0, 2, 1, 3}, []int{1, 5, 4, 6}, tfliteref.PerTensor(0.1, 3)), "different quantization"},
		{"ellipsis", stridedSliceModel(t, []int32{0, 0, 0, 0}, []int32{1, 4, 5, 6}, []int32{1, 1, 1, 1}, &tfl.StridedSliceOptionsT{EllipsisMask: 2}, []int{1, 4, 5, 6}), "ellipsis_mask 2"},
		{"negative stride", stridedSliceModel(t, []int32{0, 3, 0, 0}, []int32{1, 0, 5, 6}, []int32{1, -1, 1, 1}, &tfl.StridedSliceOptionsT{}, []int{1, 3, 5, 6}), "only positive strides"},
		{"shrink out of range", stridedSliceModel(t, []int32{0, 4, 0, 0}, []int32{1, 5, 5, 6}, []int32{1, 1, 1, 1}, &tfl.StridedSliceOptionsT{ShrinkAxisMask: 2}, []int{1, 5, 6}), "shrink index 4 out of range"},
		{"short begin", stridedSliceModel(t, []int32{0, 0}, []int32{1, 4, 5, 6}, []int32{1, 1, 1, 1}, &tfl.StridedSliceOptionsT{}, []int{1, 4, 5, 6}), "input 1 has 2 values for input \"x\" of rank 4"},
		{"sizes do not add up", splitVModel(t, []int32{2, 2, 1}, 3, [][]int{{1, 4, 5, 2}, {1, 4, 5, 2}, {1, 4, 5, 1}}), "do not add up to dimension 3 (6)"},
		{"split axis", splitVModel(t, []int32{2, 4}, 4, [][]int{{1, 4, 5, 2}, {1, 4, 5, 4}}), "axis [4] out of range"},
		{"split part shape", splitVModel(t, []int32{2, 4}, 3, [][]int{{1, 4, 5, 2}, {1, 4, 5, 3}}), "part 1 of the split"},
	}
	for _, tc := range cases {
		_, err := Read(tc.file, "m.tflite")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tflite: m.tflite: op 0 (") {
			t.Errorf("%s: err = %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

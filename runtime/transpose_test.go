package runtime

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// naiveGather computes output element by output element: in index = Σ idx[d]·stride[d] + offset.
func naiveGather(src []int8, offset int, size, stride []int) []int8 {
	n := 1
	for _, s := range size {
		n *= s
	}
	out := make([]int8, n)
	idx := make([]int, len(size))
	for o := range out {
		k := offset
		for d := range size {
			k += idx[d] * stride[d]
		}
		out[o] = src[k]
		for d := len(size) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

func runOne(t *testing.T, b *builder) (*Interpreter, []int8) {
	t.Helper()
	it, err := New(&b.m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(it.Close)
	b.fill(it)
	if err := it.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(3, func() { it.Run(context.Background()) }); n != 0 {
		t.Errorf("Run allocates %v times", n)
	}
	return it, it.Output(0).Int8s()
}

func TestTransposeAgainstNaive(t *testing.T) {
	cases := []struct {
		shape, perm []int
	}{
		{[]int{1, 4, 5, 2, 3}, []int{0, 1, 2, 4, 3}}, // channel shuffle in NHWC: [N,H,W,g,C/g] -> [N,H,W,C/g,g]
		{[]int{2, 3, 4, 5}, []int{0, 3, 1, 2}},       // NHWC -> NCHW
		{[]int{2, 3, 4, 5}, []int{0, 2, 3, 1}},
		{[]int{3, 7}, []int{1, 0}},
		{[]int{2, 1, 3, 1, 4, 2}, []int{5, 3, 1, 4, 0, 2}},
		{[]int{6}, []int{0}},
		{[]int{1, 5, 1, 7}, []int{2, 0, 3, 1}}, // only size-1 dimensions move
		{[]int{2, 3, 2, 2, 3, 2, 2}, []int{6, 5, 4, 3, 2, 1, 0}},
	}
	for _, tc := range cases {
		b := newBuilder(3)
		q := pt(0.05, -3)
		x := b.act("x", tc.shape, q)
		outShape := make([]int, len(tc.shape))
		for d, a := range tc.perm {
			outShape[d] = tc.shape[a]
		}
		y := b.act("y", outShape, q)
		b.op(models.Op{Type: models.OpTranspose, Name: "t", Axes: tc.perm, Inputs: []int{x}, Outputs: []int{y}})
		b.m.Inputs, b.m.Outputs = []int{x}, []int{y}
		it, got := runOne(t, b)
		st := denseStrides(tc.shape)
		stride := make([]int, len(tc.perm))
		for d, a := range tc.perm {
			stride[d] = st[a]
		}
		want := naiveGather(it.Input(0).Int8s(), 0, outShape, stride)
		if string(asBytes(got)) != string(asBytes(want)) {
			t.Errorf("shape %v perm %v: got %v, want %v", tc.shape, tc.perm, got, want)
		}
	}
}

func asBytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func TestSliceAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 200; k++ {
		r := 1 + rng.IntN(5)
		shape := make([]int, r)
		begin, end, strides := make([]int, r), make([]int, r), make([]int, r)
		var pads []int
		size := make([]int, r)
		offset := 0
		for d := range shape {
			shape[d] = 1 + rng.IntN(6)
		}
		in := denseStrides(shape)
		gs := make([]int, r)
		for d := range shape {
			begin[d] = rng.IntN(shape[d])
			end[d] = begin[d] + 1 + rng.IntN(shape[d]-begin[d])
			strides[d] = 1 + rng.IntN(3)
			pads = append(pads, begin[d], end[d])
			size[d] = (end[d] - begin[d] + strides[d] - 1) / strides[d]
			offset += begin[d] * in[d]
			gs[d] = in[d] * strides[d]
		}
		b := newBuilder(uint64(k))
		q := pt(0.05, 7)
		x := b.act("x", shape, q)
		y := b.act("y", size, q)
		op := models.Op{Type: models.OpSlice, Name: "s", Paddings: pads, Inputs: []int{x}, Outputs: []int{y}}
		if k%2 == 0 {
			op.Axes = strides
		} else {
			for d := range r { // strides all 1
				size[d] = end[d] - begin[d]
				gs[d] = in[d]
			}
			b.m.Tensors[y].Shape = size
		}
		b.op(op)
		b.m.Inputs, b.m.Outputs = []int{x}, []int{y}
		it, got := runOne(t, b)
		want := naiveGather(it.Input(0).Int8s(), offset, size, gs)
		if string(asBytes(got)) != string(asBytes(want)) {
			t.Fatalf("shape %v slice %v strides %v: got %v, want %v", shape, pads, op.Axes, got, want)
		}
	}
}

// STRIDED_SLICE's shrink_axis_mask: the output leaves out size-1 dimensions.
func TestSliceShrink(t *testing.T) {
	b := newBuilder(1)
	q := pt(0.1, 0)
	x := b.act("x", []int{2, 3, 4}, q)
	y := b.act("y", []int{4}, q)
	b.op(models.Op{Type: models.OpSlice, Paddings: []int{1, 2, 2, 3, 0, 4}, Inputs: []int{x}, Outputs: []int{y}})
	b.m.Inputs, b.m.Outputs = []int{x}, []int{y}
	it, got := runOne(t, b)
	in := it.Input(0).Int8s()
	for i := range got {
		if got[i] != in[12+8+i] {
			t.Fatalf("got %v, want row [1,2,:] of %v", got, in)
		}
	}
}

func TestTransposeSliceErrors(t *testing.T) {
	q := pt(0.1, 0)
	cases := []struct {
		name string
		op   models.Op
		in   []int
		out  []int
		oq   *models.Quant
		want string
	}{
		{"repeated axis", models.Op{Type: models.OpTranspose, Axes: []int{0, 0, 1}}, []int{2, 3, 4}, []int{2, 2, 3}, q, "not a permutation"},
		{"short perm", models.Op{Type: models.OpTranspose, Axes: []int{1, 0}}, []int{2, 3, 4}, []int{3, 2, 4}, q, "permutation [1 0] has 2 entries"},
		{"axis out of range", models.Op{Type: models.OpTranspose, Axes: []int{0, 3, 1}}, []int{2, 3, 4}, []int{2, 3, 4}, q, "not a permutation"},
		{"wrong output shape", models.Op{Type: models.OpTranspose, Axes: []int{1, 0}}, []int{2, 3}, []int{2, 3}, q, "the op computes [3 2]"},
		{"other quantization", models.Op{Type: models.OpTranspose, Axes: []int{1, 0}}, []int{2, 3}, []int{3, 2}, pt(0.2, 0), "differ in type or quantization"},
		{"slice past the end", models.Op{Type: models.OpSlice, Paddings: []int{0, 2, 1, 4}}, []int{2, 3}, []int{2, 3}, q, "out of range"},
		{"slice backwards", models.Op{Type: models.OpSlice, Paddings: []int{0, 2, 2, 1}}, []int{2, 3}, []int{2, 1}, q, "out of range"},
		{"slice rank", models.Op{Type: models.OpSlice, Paddings: []int{0, 2}}, []int{2, 3}, []int{2, 3}, q, "begin/end values"},
		{"negative stride", models.Op{Type: models.OpSlice, Paddings: []int{0, 2, 0, 3}, Axes: []int{1, -1}}, []int{2, 3}, []int{2, 3}, q, "positive strides only"},
		{"slice output", models.Op{Type: models.OpSlice, Paddings: []int{0, 2, 0, 3}, Axes: []int{1, 2}}, []int{2, 3}, []int{2, 3}, q, "the slice computes [2 2]"},
	}
	for _, tc := range cases {
		b := newBuilder(1)
		x := b.act("x", tc.in, q)
		y := b.act("y", tc.out, tc.oq)
		tc.op.Name = "node7"
		tc.op.Inputs, tc.op.Outputs = []int{x}, []int{y}
		b.op(tc.op)
		b.m.Inputs, b.m.Outputs = []int{x}, []int{y}
		_, err := New(&b.m, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"node7"`) {
			t.Errorf("%s: err = %v, want one naming the node and saying %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkChannelShuffle is ShuffleNetV2's shuffle at its second stage (28x28, 116 channels) in
// NHWC: Transpose [1, 28, 28, 2, 58] -> [1, 28, 28, 58, 2].
func BenchmarkChannelShuffle(b *testing.B) {
	bl := newBuilder(1)
	q := pt(0.05, 0)
	x := bl.act("x", []int{1, 28, 28, 2, 58}, q)
	y := bl.act("y", []int{1, 28, 28, 58, 2}, q)
	bl.op(models.Op{Type: models.OpTranspose, Axes: []int{0, 1, 2, 4, 3}, Inputs: []int{x}, Outputs: []int{y}})
	bl.m.Inputs, bl.m.Outputs = []int{x}, []int{y}
	it, err := New(&bl.m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	b.SetBytes(int64(28 * 28 * 116))
	for b.Loop() {
		it.Run(context.Background())
	}
}

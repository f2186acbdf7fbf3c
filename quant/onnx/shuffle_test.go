package onnx_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// Bad Transpose, Slice and Split nodes: Read, or Run when only the input's shape shows the fault,
// fails with an error naming the node, never a panic.
func TestShuffleErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *onnxtest.Builder)
		run   bool // the error comes from Run
		want  string
	}{
		{"repeated perm", func(b *onnxtest.Builder) {
			b.Op("Transpose", "y", onnxtest.Attrs{"perm": []int64{0, 1, 1, 2}}, "x")
		}, true, `node 0 "y" (Transpose): perm [0 1 1 2] is not a permutation of 0..3`},
		{"short perm", func(b *onnxtest.Builder) {
			b.Op("Transpose", "y", onnxtest.Attrs{"perm": []int64{1, 0}}, "x")
		}, true, "perm [1 0] has 2 entries for an input of rank 4"},
		{"slice axes repeated", func(b *onnxtest.Builder) {
			b.Op("Slice", "y", nil, "x", b.Ints("s", 0, 0), b.Ints("e", 1, 1), b.Ints("a", 1, -3))
		}, true, "axes [1 -3] out of range or repeated for rank 4"},
		{"slice axis out of range", func(b *onnxtest.Builder) {
			b.Op("Slice", "y", nil, "x", b.Ints("s", 0), b.Ints("e", 1), b.Ints("a", 4))
		}, true, "out of range or repeated"},
		{"slice step 0", func(b *onnxtest.Builder) {
			b.Op("Slice", "y", nil, "x", b.Ints("s", 0), b.Ints("e", 1), b.Ints("a", 1), b.Ints("st", 0))
		}, true, "step 0"},
		{"slice ends short", func(b *onnxtest.Builder) {
			b.Op("Slice", "y", nil, "x", b.Ints("s", 0, 0), b.Ints("e", 1))
		}, false, `node 0 "y" (Slice): 1 ends for 2 starts`},
		{"slice computed starts", func(b *onnxtest.Builder) {
			b.Op("Slice", "y", nil, "x", "x", b.Ints("e", 1))
		}, false, "starts: \"x\" is not a constant"},
		{"split sizes", func(b *onnxtest.Builder) {
			b.Node("Split", "y", []string{"x", b.Ints("sz", 1, 2)}, []string{"y", "y1"}, onnxtest.Attrs{"axis": 1})
		}, true, "split [1 2] into 2 outputs for dimension 1 of [1 4 5 6]"},
		{"split count", func(b *onnxtest.Builder) {
			b.Node("Split", "y", []string{"x", b.Ints("sz", 2, 2)}, []string{"y", "y1", "y2"}, onnxtest.Attrs{"axis": 1})
		}, false, "2 split sizes for 3 outputs"},
		{"split uneven", func(b *onnxtest.Builder) {
			b.Node("Split", "y", []string{"x"}, []string{"y", "y1", "y2"}, onnxtest.Attrs{"axis": -2})
		}, true, "dimension 2 of [1 4 5 6] does not split into 3 equal parts"},
		{"split axis", func(b *onnxtest.Builder) {
			b.Node("Split", "y", []string{"x"}, []string{"y", "y1"}, onnxtest.Attrs{"axis": 4})
		}, true, "axis 4 out of range for rank 4"},
	}
	for _, tc := range cases {
		b := onnxtest.New("bad", 13)
		b.Input("x", 1, 4, 5, 6)
		tc.build(b)
		b.Output("y")
		data, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		g, err := onnx.Read(data, "bad.onnx")
		if !tc.run {
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y"`) {
				t.Errorf("%s: Read: err = %v, want one naming the node and saying %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Read: %v", tc.name, err)
			continue
		}
		_, err = g.Run(map[string]*graph.Tensor{"x": {Name: "x", Shape: []int{1, 4, 5, 6}, Data: make([]float32, 120)}})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y"`) {
			t.Errorf("%s: Run: err = %v, want one naming the node and saying %q", tc.name, err, tc.want)
		}
		if errors.Is(err, onnx.ErrUnsupported) {
			t.Errorf("%s: a malformed node reported as unsupported", tc.name)
		}
	}
}

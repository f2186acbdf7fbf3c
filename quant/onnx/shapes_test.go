package onnx_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// A fold case is a small graph on input x (values 0, 1, 2, ... in order) whose output y goes
// through one of the folds PyTorch's exports need (shapes.go, squeeze.go): on good input, the ops
// Read leaves and y's shape and values; on bad input, Read's error, which must name the node
// called "bad".
type foldCase struct {
	name  string
	opset int64
	x     []int64
	build func(b *onnxtest.Builder, r string) // r is Relu(x), the graph's first node
	ops   string                              // the imported graph's ops, in order
	shape []int                               // y's shape
	y     func(x []float32) []float32         // y's values; nil: x's
	err   string                              // for bad input: what Read's error says after the node
}

// iota32 returns 0, 1, ..., n-1.
func iota32(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

var foldCases = []foldCase{
	// Slice of a folded shape: x.shape[1:3] and x.shape[::-1].
	{name: "slice", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		s := b.Op("Shape", "s", nil, r)
		sl := b.Op("Slice", "sl", nil, s, b.Ints("st", 1), b.Ints("en", 3))
		b.Op("Reshape", "y", nil, r, b.Op("Concat", "shape", onnxtest.Attrs{"axis": 0}, b.Ints("m1", -1), sl))
	}, ops: "Relu Reshape", shape: []int{6, 4, 5}},
	{name: "slice reversed", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		s := b.Op("Shape", "s", nil, r)
		sl := b.Op("Slice", "sl", nil, s, b.Ints("st", -1), b.Ints("en", -100), b.Ints("ax", 0), b.Ints("step", -1))
		b.Op("Reshape", "y", nil, r, sl)
	}, ops: "Relu Reshape", shape: []int{6, 5, 4, 1}},
	{name: "slice huge step", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		s := b.Op("Shape", "s", nil, r)
		sl := b.Op("Slice", "sl", nil, s, b.Ints("st", 1), b.Ints("en", 4), b.Ints("ax", 0), b.Ints("step", math.MaxInt64))
		b.Op("Reshape", "y", nil, r, b.Op("Concat", "shape", onnxtest.Attrs{"axis": 0}, b.Ints("m1", -1), sl))
	}, ops: "Relu Reshape", shape: []int{30, 4}},
	{name: "slice of 2-D integers", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		s2 := b.Op("Reshape", "s2", nil, b.Op("Shape", "s", nil, r), b.Ints("sh", 2, 2))
		b.Op("Slice", "bad", nil, s2, b.Ints("st", 0), b.Ints("en", 1))
	}, err: "Slice of integers of shape [2 2]: only 1-D is not supported"},
	{name: "slice step 0", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Slice", "bad", nil, b.Op("Shape", "s", nil, r), b.Ints("st", 0), b.Ints("en", 1), b.Ints("ax", 0), b.Ints("step", 0))
	}, err: "Slice with step 0"},
	{name: "slice axis 1", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Slice", "bad", nil, b.Op("Shape", "s", nil, r), b.Ints("st", 0), b.Ints("en", 1), b.Ints("ax", 1))
	}, err: "Slice of a 1-D integer tensor on axis 1"},
	{name: "slice two starts", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Slice", "bad", nil, b.Op("Shape", "s", nil, r), b.Ints("st", 0, 1), b.Ints("en", 1, 2))
	}, err: "Slice of a 1-D integer tensor with starts [0 1], ends [1 2], axes []: not supported"},

	// Reshape of integers: [4] to [2, 2] (0 keeping a dimension) and back.
	{name: "reshape", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		s2 := b.Op("Reshape", "s2", nil, b.Op("Shape", "s", nil, r), b.Ints("sh", 2, -1))
		s3 := b.Op("Reshape", "s3", nil, s2, b.Ints("sh0", 0, 2))
		b.Op("Reshape", "y", nil, r, b.Op("Reshape", "s4", nil, s3, b.Ints("flat", 4)))
	}, ops: "Relu Reshape", shape: []int{1, 4, 5, 6}},
	{name: "reshape count", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Reshape", "bad", nil, b.Op("Shape", "s", nil, r), b.Ints("sh", 3))
	}, err: "Reshape of 4 integers to [3]"},
	{name: "reshape two -1", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Reshape", "bad", nil, b.Op("Shape", "s", nil, r), b.Ints("sh", -1, -1))
	}, err: "Reshape of integers to [-1 -1]"},
	{name: "reshape huge", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Reshape", "bad", nil, b.Op("Shape", "s", nil, r), b.Ints("sh", 1<<32, 1<<32, 1<<32, 1<<32))
	}, err: "Reshape of integers to [4294967296 4294967296 4294967296 4294967296]"},
	{name: "reshape to a 2-D shape", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		sh := b.Init(onnxtest.Int64Tensor("sh", []int64{1, 2}, []int64{2, 2}))
		b.Op("Reshape", "bad", nil, b.Op("Shape", "s", nil, r), sh)
	}, err: "Reshape to a shape of shape [1 2]"},

	// ConstantOfShape: a float constant of x's shape (value 0.5, and the default 0), an integer one.
	{name: "constant of shape", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		c := b.Op("ConstantOfShape", "c", onnxtest.Attrs{"value": onnxtest.FloatTensor("v", []int64{1}, []float32{0.5})}, b.Op("Shape", "s", nil, r))
		b.Op("Add", "y", nil, r, c)
	}, ops: "Relu Add", shape: []int{1, 4, 5, 6}, y: func(x []float32) []float32 {
		y := slices.Clone(x)
		for i := range y {
			y[i] += 0.5
		}
		return y
	}},
	{name: "constant of shape default", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Add", "y", nil, r, b.Op("ConstantOfShape", "c", nil, b.Op("Shape", "s", nil, r)))
	}, ops: "Relu Add", shape: []int{1, 4, 5, 6}},
	{name: "constant of shape integer", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		ones := b.Op("ConstantOfShape", "ones", onnxtest.Attrs{"value": onnxtest.Int64Tensor("v", []int64{1}, []int64{1})}, b.Ints("three", 3))
		b.Op("Reshape", "y", nil, r, b.Op("Concat", "shape", onnxtest.Attrs{"axis": 0}, b.Ints("m1", -1), ones))
	}, ops: "Relu Reshape", shape: []int{120, 1, 1, 1}},
	{name: "constant of negative shape", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("ConstantOfShape", "bad", nil, b.Ints("sh", 2, -2))
	}, err: "ConstantOfShape of shape [2 -2]"},
	{name: "constant of huge shape", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("ConstantOfShape", "bad", nil, b.Ints("sh", 1<<14, 1<<14))
	}, err: "ConstantOfShape of shape [16384 16384]: too large"},
	{name: "constant of shape two values", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("ConstantOfShape", "bad", onnxtest.Attrs{"value": onnxtest.FloatTensor("v", []int64{2}, []float32{1, 2})}, b.Ints("sh", 2))
	}, err: "ConstantOfShape value: want one number"},
	{name: "constant of a 2-D shape", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("ConstantOfShape", "bad", nil, b.Init(onnxtest.Int64Tensor("sh", []int64{1, 2}, []int64{2, 2})))
	}, err: "ConstantOfShape of a shape of shape [1 2]"},
	{name: "constant of an empty input", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Node("ConstantOfShape", "bad", []string{"", b.Ints("sh", 2)}, []string{"bad"}, nil)
	}, err: "input 0 is empty"},

	// Equal and Where: PyTorch's expand(-1) sizes, -1 replaced by 1.
	{name: "equal where", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		c := b.Ints("c", -1, 20, 6)
		w := b.Op("Where", "w", nil, b.Op("Equal", "eq", nil, c, b.Ints("m1", -1)), b.Ints("one", 1), c)
		b.Op("Reshape", "y", nil, r, w)
	}, ops: "Relu Reshape", shape: []int{1, 20, 6}},
	{name: "equal shapes", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Equal", "bad", nil, b.Ints("a", 1, 2), b.Ints("b", 1, 2, 3))
	}, err: "integer Equal of shapes [2] and [3]: not supported"},
	{name: "where shapes", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Where", "bad", nil, b.Ints("c", 1, 0), b.Ints("a", 1, 2, 3), b.Ints("b", 4))
	}, err: "integer Where of shapes [2], [3] and [1]: not supported"},

	// Expand of a constant: a ViT's class token, cls.expand(x.size(0), -1, -1), as PyTorch writes it;
	// and a broadcast of both operands.
	{name: "expand class token", x: []int64{2, 4, 3}, build: func(b *onnxtest.Builder, r string) {
		n := b.Op("Gather", "n", onnxtest.Attrs{"axis": 0}, b.Op("Shape", "s", nil, r), b.Init(onnxtest.Int64Tensor("i0", []int64{}, []int64{0})))
		shape := b.Op("Concat", "shape", onnxtest.Attrs{"axis": 0}, b.Op("Unsqueeze", "un", nil, n, b.Ints("ax0", 0)), b.Ints("mm", -1, -1))
		fixed := b.Op("Where", "fixed", nil, b.Op("Equal", "eq", nil, shape, b.Ints("m1", -1)), b.Ints("one", 1), shape)
		cls := b.Op("Expand", "cls", nil, b.Float("token", []int64{1, 1, 3}, []float32{-1, -2, -3}), fixed)
		b.Op("Concat", "y", onnxtest.Attrs{"axis": 1}, cls, r)
	}, ops: "Relu Concat", shape: []int{2, 5, 3}, y: func(x []float32) []float32 {
		var y []float32
		for i := range 2 {
			y = append(append(y, -1, -2, -3), x[12*i:12*i+12]...)
		}
		return y
	}},
	{name: "expand both ways", x: []int64{2, 3}, build: func(b *onnxtest.Builder, r string) {
		e := b.Op("Expand", "e", nil, b.Float("col", []int64{2, 1}, []float32{10, 20}), b.Ints("sh", 1, 3))
		b.Op("Add", "y", nil, r, e)
	}, ops: "Relu Add", shape: []int{2, 3}, y: func(x []float32) []float32 {
		return []float32{x[0] + 10, x[1] + 10, x[2] + 10, x[3] + 20, x[4] + 20, x[5] + 20}
	}},
	{name: "expand mismatch", x: []int64{2, 3}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Expand", "bad", nil, b.Float("c", []int64{2, 3}, make([]float32, 6)), b.Ints("sh", 4))
	}, err: "Expand of shape [2 3] to [4]"},
	{name: "expand huge", x: []int64{2, 3}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Expand", "bad", nil, b.Float("c", []int64{1}, []float32{1}), b.Ints("sh", 1<<14, 1<<14))
	}, err: "Expand of shape [1] to [16384 16384]: too large"},
	{name: "expand to a 2-D shape", x: []int64{2, 3}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Expand", "bad", nil, b.Float("c", []int64{1}, []float32{1}), b.Init(onnxtest.Int64Tensor("sh", []int64{1, 2}, []int64{2, 2})))
	}, err: "Expand to a shape of shape [1 2]"},

	// Squeeze and Unsqueeze of float tensors: Reshapes (axes as inputs from opset 13, as attributes
	// before).
	{name: "squeeze unsqueeze", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		q := b.Op("Squeeze", "q", nil, r, b.Ints("ax0", 0))
		b.Op("Unsqueeze", "y", nil, q, b.Ints("ax", 1, -1))
	}, ops: "Relu Reshape Reshape", shape: []int{4, 1, 5, 6, 1}},
	{name: "squeeze unsqueeze opset 11", opset: 11, x: []int64{1, 4, 1, 6}, build: func(b *onnxtest.Builder, r string) {
		q := b.Op("Squeeze", "q", nil, r) // every axis of size 1
		b.Op("Unsqueeze", "y", onnxtest.Attrs{"axes": []int64{0, 2}}, q)
	}, ops: "Relu Reshape Reshape", shape: []int{1, 4, 1, 6}},
	{name: "squeeze size 4", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Squeeze", "bad", nil, r, b.Ints("ax", 1))
	}, err: "Squeeze of axis 1 of size 4"},
	{name: "squeeze axis out of range", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Squeeze", "bad", nil, r, b.Ints("ax", 4))
	}, err: "axis 4 out of range for rank 4"},
	{name: "squeeze axis repeated", x: []int64{4, 1}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Squeeze", "bad", nil, r, b.Ints("ax", 1, -1))
	}, err: "axes [1 -1] repeated"},
	{name: "unsqueeze axis repeated", x: []int64{4, 1}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Unsqueeze", "bad", nil, r, b.Ints("ax", 1, -3))
	}, err: "axes [1 -3] repeated"},
	{name: "unsqueeze without axes", opset: 11, x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Unsqueeze", "bad", nil, r)
	}, err: "Unsqueeze without axes"},
	{name: "squeeze computed axes", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Squeeze", "bad", nil, r, "x")
	}, err: `axes "x": computed axes are not supported`},
	{name: "squeeze integers axis repeated", x: []int64{1, 4, 5, 6}, build: func(b *onnxtest.Builder, r string) {
		b.Op("Squeeze", "bad", nil, b.Init(onnxtest.Int64Tensor("c", []int64{1, 1}, []int64{7})), b.Ints("ax", 1, 1))
	}, err: "axes [1 1] repeated"},

	// q, k, v = qkv.unbind(0): Split into parts of 1, each squeezed, become Gathers of x (the
	// Split, read no more, is left for quant/transform's RemoveDead).
	{name: "split squeeze", x: []int64{3, 2, 4}, build: func(b *onnxtest.Builder, r string) {
		b.Node("Split", "sp", []string{r}, []string{"p0", "p1", "p2"}, onnxtest.Attrs{"axis": 0})
		ax := b.Ints("ax", 0)
		q0, q1, q2 := b.Op("Squeeze", "q0", nil, "p0", ax), b.Op("Squeeze", "q1", nil, "p1", ax), b.Op("Squeeze", "q2", nil, "p2", ax)
		b.Op("Add", "y", nil, q0, b.Op("Mul", "m", nil, q1, q2))
	}, ops: "Relu Split Gather Gather Gather Mul Add", shape: []int{2, 4}, y: func(x []float32) []float32 {
		y := make([]float32, 8)
		for i := range y {
			y[i] = x[i] + x[8+i]*x[16+i]
		}
		return y
	}},
	// Parts of sizes 2 and 1 on the last axis (negative): the part of 1 is the third row.
	{name: "split sizes squeeze", opset: 11, x: []int64{2, 3}, build: func(b *onnxtest.Builder, r string) {
		b.Node("Split", "sp", []string{r}, []string{"p0", "p1"}, onnxtest.Attrs{"axis": -1, "split": []int64{2, 1}})
		b.Op("Squeeze", "y", onnxtest.Attrs{"axes": []int64{1}}, "p1")
	}, ops: "Relu Split Gather", shape: []int{2}, y: func(x []float32) []float32 { return []float32{x[2], x[5]} }},
	{name: "split sizes squeeze opset 13", x: []int64{3, 2}, build: func(b *onnxtest.Builder, r string) {
		b.Node("Split", "sp", []string{r, b.Ints("sizes", 1, 1, 1)}, []string{"p0", "p1", "p2"}, onnxtest.Attrs{"axis": 0})
		b.Op("Sub", "y", nil, b.Op("Squeeze", "q2", nil, "p2", b.Ints("ax", 0)), "p0")
	}, ops: "Relu Split Gather Sub", shape: []int{1, 2}, y: func(x []float32) []float32 { return []float32{x[4] - x[0], x[5] - x[1]} }},
	// A part of 2 squeezed: no Gather, and the Squeeze's error.
	{name: "split part of 2 squeezed", x: []int64{3, 2}, build: func(b *onnxtest.Builder, r string) {
		b.Node("Split", "sp", []string{r, b.Ints("sizes", 2, 1)}, []string{"p0", "p1"}, onnxtest.Attrs{"axis": 0})
		b.Op("Squeeze", "bad", nil, "p0", b.Ints("ax", 0))
	}, err: "Squeeze of axis 0 of size 2"},
}

func (c foldCase) model(t testing.TB) []byte {
	t.Helper()
	opset := c.opset
	if opset == 0 {
		opset = 13
	}
	b := onnxtest.New("fold", opset)
	b.Input("x", c.x...)
	c.build(b, b.Op("Relu", "r", nil, "x"))
	out := "y"
	if c.err != "" {
		out = "bad"
	}
	b.Output(out)
	return mustBytes(t, b)
}

// TestFolds reads each fold case: good graphs import to the expected ops and compute y; bad ones
// fail with an error naming the node, never a panic.
func TestFolds(t *testing.T) {
	for _, c := range foldCases {
		t.Run(c.name, func(t *testing.T) {
			g, err := onnx.Read(c.model(t), "fold.onnx")
			if c.err != "" {
				if err == nil {
					t.Fatalf("Read succeeded, want an error saying %q", c.err)
				}
				if !strings.HasPrefix(err.Error(), "onnx: fold.onnx: node ") || !strings.Contains(err.Error(), `"bad" (`) || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %q\nwant one naming node \"bad\" and saying %q", err, c.err)
				}
				if unsupported := strings.Contains(err.Error(), "not supported"); unsupported != errors.Is(err, onnx.ErrUnsupported) {
					t.Errorf("error %q: errors.Is(err, ErrUnsupported) = %v", err, !unsupported)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, n := range g.Nodes {
				ops = append(ops, n.Op)
			}
			if got := strings.Join(ops, " "); got != c.ops {
				t.Errorf("ops %q, want %q", got, c.ops)
			}
			x := c.input()
			out, err := g.Run(map[string]*graph.Tensor{"x": x})
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, out["y"], x)
		})
	}
}

// TestORTFolds runs the good fold cases through ONNX Runtime: its y is the one the cases expect.
func TestORTFolds(t *testing.T) {
	home := ortHome(t)
	for _, c := range foldCases {
		if c.err != "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			model := c.model(t)
			g, err := onnx.Read(model, "fold.onnx")
			if err != nil {
				t.Fatal(err)
			}
			x := c.input()
			c.check(t, runORT(t, home, model, g, map[string]*graph.Tensor{"x": x})["y"], x)
		})
	}
}

// input returns the case's x: 0, 1, 2, ... in order.
func (c foldCase) input() *graph.Tensor {
	shape := make([]int, len(c.x))
	for i, d := range c.x {
		shape[i] = int(d)
	}
	return &graph.Tensor{Name: "x", Shape: shape, Data: iota32(graph.ShapeLen(shape))}
}

// check compares y with the shape and values the case expects for input x.
func (c foldCase) check(t *testing.T, y *graph.Tensor, x *graph.Tensor) {
	t.Helper()
	want := x.Data
	if c.y != nil {
		want = c.y(x.Data)
	}
	if y == nil || !slices.Equal(y.Shape, c.shape) || !slices.Equal(y.Data, want) {
		t.Errorf("y: %v\nwant shape %v values %v", y, c.shape, want)
	}
}

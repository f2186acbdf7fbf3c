package graph

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func tensor(shape []int, data ...float32) *Tensor { return &Tensor{Shape: shape, Data: data} }

// runNode runs n alone on ins, its inputs taken as constants where that matters (Gemm keeps its
// B packed).
func runNode(n *Node, ins []*Tensor) ([]*Tensor, error) {
	return runNodeOf(nil, n, ins)
}

// TestGemmInputB: a Gemm whose B is a graph input (not an initializer) reads it on every run, even
// when the caller rewrites the same buffer between runs (the packed cache is for initializers).
func TestGemmInputB(t *testing.T) {
	g := New("gemm_input_b")
	g.Inputs = []*Tensor{{Name: "a", Shape: []int{1, 2}}, {Name: "b", Shape: []int{3, 2}}}
	g.Nodes = []*Node{{Op: "Gemm", Inputs: []string{"a", "b"}, Outputs: []string{"y"}, Attrs: map[string]Attr{"transB": Int(1)}}}
	g.Outputs = []*Tensor{{Name: "y"}}
	a := tensor([]int{1, 2}, 1, 1)
	b := tensor([]int{3, 2}, 1, 2, 3, 4, 5, 6)
	for _, scale := range []float32{1, 10} {
		for i := range b.Data {
			b.Data[i] = scale * float32(i+1)
		}
		outs, err := g.RunAll(map[string]*Tensor{"a": a, "b": b})
		if err != nil {
			t.Fatal(err)
		}
		want := []float32{3 * scale, 7 * scale, 11 * scale}
		if got := outs["y"].Data; !slices.Equal(got, want) {
			t.Fatalf("B scaled by %v: y = %v, want %v", scale, got, want)
		}
	}
}

// run1 executes one node on constant inputs and returns its output.
func run1(t *testing.T, op string, attrs map[string]Attr, ins ...*Tensor) *Tensor {
	t.Helper()
	out, err := runNode(&Node{Op: op, Attrs: attrs}, ins)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out[0]
}

func check(t *testing.T, what string, got *Tensor, shape []int, data ...float32) {
	t.Helper()
	if !slices.Equal(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	for i := range data {
		if math.Abs(float64(got.Data[i]-data[i])) > 1e-6 {
			t.Fatalf("%s: data %v, want %v", what, got.Data, data)
		}
	}
}

// Hand-computed cases; the differential test against ONNX Runtime (quant/onnx) covers the rest.
func TestOps(t *testing.T) {
	x := tensor([]int{1, 1, 3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	// 2x2 kernel of ones, stride 1, pad 1 at the top-left only: sums of 2x2 windows.
	got := run1(t, "Conv", map[string]Attr{"pads": Ints(1, 1, 0, 0)}, x, tensor([]int{1, 1, 2, 2}, 1, 1, 1, 1), tensor([]int{1}, 10))
	check(t, "Conv", got, []int{1, 1, 3, 3}, 11, 13, 15, 15, 22, 26, 21, 34, 38)
	// Depthwise: two channels, each scaled by its own 1x1 weight.
	x2 := tensor([]int{1, 2, 1, 2}, 1, 2, 3, 4)
	got = run1(t, "Conv", map[string]Attr{"group": Int(2)}, x2, tensor([]int{2, 1, 1, 1}, 10, -1))
	check(t, "depthwise Conv", got, []int{1, 2, 1, 2}, 10, 20, -3, -4)
	got = run1(t, "MaxPool", map[string]Attr{"kernel_shape": Ints(2, 2), "strides": Ints(2, 2), "ceil_mode": Int(1), "auto_pad": String("")}, x)
	check(t, "MaxPool ceil", got, []int{1, 1, 2, 2}, 5, 6, 8, 9)
	got = run1(t, "AveragePool", map[string]Attr{"kernel_shape": Ints(2, 2), "pads": Ints(1, 1, 1, 1), "strides": Ints(2, 2)}, x)
	check(t, "AveragePool excluding pads", got, []int{1, 1, 2, 2}, 1, 2.5, 5.5, 7)
	got = run1(t, "AveragePool", map[string]Attr{"kernel_shape": Ints(2, 2), "pads": Ints(1, 1, 1, 1), "strides": Ints(2, 2), "count_include_pad": Int(1)}, x)
	check(t, "AveragePool including pads", got, []int{1, 1, 2, 2}, 0.25, 1.25, 2.75, 7)
	got = run1(t, "Pad", map[string]Attr{"pads": Ints(0, 0, 0, 2, 0, 0, 0, 1), "mode": String("reflect")}, x)
	check(t, "Pad reflect", got, []int{1, 1, 3, 6}, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5)
	got = run1(t, "Pad", map[string]Attr{"pads": Ints(0, 0, -1, 1, 0, 0, 0, -2), "mode": String("edge")}, x)
	check(t, "Pad edge with crop", got, []int{1, 1, 2, 2}, 4, 4, 7, 7)
	got = run1(t, "ReduceMean", map[string]Attr{"axes": Ints(-1), "keepdims": Int(0)}, x)
	check(t, "ReduceMean", got, []int{1, 1, 3}, 2, 5, 8)
	got = run1(t, "ReduceMean", nil, x)
	check(t, "ReduceMean all", got, []int{1, 1, 1, 1}, 5)
	got = run1(t, "Softmax", nil, tensor([]int{1, 3}, 0, float32(math.Log(2)), float32(math.Log(5))))
	check(t, "Softmax", got, []int{1, 3}, 0.125, 0.25, 0.625)
	// Batched MatMul: [2,1,2] x [2,1] broadcasts B over the batch.
	got = run1(t, "MatMul", nil, tensor([]int{2, 1, 2}, 1, 2, 3, 4), tensor([]int{2, 1}, 10, 1))
	check(t, "MatMul batch", got, []int{2, 1, 1}, 12, 34)
	got = run1(t, "MatMul", nil, tensor([]int{2}, 1, 2), tensor([]int{2, 2}, 1, 2, 3, 4))
	check(t, "MatMul vector", got, []int{2}, 7, 10)
	got = run1(t, "Gemm", map[string]Attr{"transA": Int(1), "transB": Int(1), "beta": Float(0.5)},
		tensor([]int{2, 1}, 1, 2), tensor([]int{2, 2}, 1, 2, 3, 4), tensor([]int{2}, 2, 4))
	check(t, "Gemm transposed", got, []int{1, 2}, 6, 13)
	got = run1(t, "Add", nil, tensor([]int{2, 1}, 1, 2), tensor([]int{3}, 10, 20, 30))
	check(t, "Add broadcast", got, []int{2, 3}, 11, 21, 31, 12, 22, 32)
	got = run1(t, "Concat", map[string]Attr{"axis": Int(-1)}, tensor([]int{2, 1}, 1, 2), tensor([]int{2, 2}, 3, 4, 5, 6))
	check(t, "Concat", got, []int{2, 3}, 1, 3, 4, 2, 5, 6)
	got = run1(t, "Reshape", map[string]Attr{"shape": Ints(0, -1, 3)}, x)
	check(t, "Reshape", got, []int{1, 3, 3}, 1, 2, 3)
	got = run1(t, "BatchNormalization", map[string]Attr{"epsilon": Float(0)}, x2,
		tensor([]int{2}, 2, 1), tensor([]int{2}, 1, 0), tensor([]int{2}, 1, 3), tensor([]int{2}, 4, 1))
	check(t, "BatchNormalization", got, []int{1, 2, 1, 2}, 1, 2, 0, 1)
}

// TestBadShapes: ill-formed operands are errors, not panics.
func TestBadShapes(t *testing.T) {
	x := tensor([]int{1, 1, 2, 2}, 1, 2, 3, 4)
	tests := []struct {
		op    string
		attrs map[string]Attr
		ins   []*Tensor
		want  string
	}{
		{"Conv", nil, []*Tensor{x, tensor([]int{1, 2, 1, 1}, 1, 1)}, "do not match"},
		{"Conv", map[string]Attr{"kernel_shape": Ints(3, 3)}, []*Tensor{x, tensor([]int{1, 1, 3, 3}, make([]float32, 9)...)}, "larger than padded input"},
		{"Conv", nil, []*Tensor{x}, "input 1 missing"},
		{"MaxPool", map[string]Attr{"kernel_shape": Ints(1, 1), "strides": Ints(0, 1)}, []*Tensor{x}, "strides [0 1]: want 2 values from 1"},
		{"Gemm", nil, []*Tensor{tensor([]int{1, 2}, 1, 2), tensor([]int{3, 1}, 1, 2, 3)}, "do not multiply"},
		{"Add", nil, []*Tensor{tensor([]int{2}, 1, 2), tensor([]int{3}, 1, 2, 3)}, "do not broadcast"},
		{"Reshape", map[string]Attr{"shape": Ints(3, -1)}, []*Tensor{x}, "cannot infer"},
		{"Reshape", map[string]Attr{"shape": Ints(-1, -1)}, []*Tensor{x}, "more than one -1"},
		{"Pad", map[string]Attr{"pads": Ints(0, 0, 0, 1<<30, 0, 0, 0, 0)}, []*Tensor{x}, "out of range"},
		{"Pad", map[string]Attr{"pads": Ints(0, 0, 1<<20, 1<<20, 0, 0, 0, 0)}, []*Tensor{x}, "exceeds"},
		{"Concat", map[string]Attr{"axis": Int(1)}, []*Tensor{x, tensor([]int{1, 1, 2, 1}, 1, 2)}, "does not match"},
		{"Flatten", map[string]Attr{"axis": Int(5)}, []*Tensor{x}, "out of range"},
		{"Cosh", nil, []*Tensor{x}, "not implemented"},
		{"Softmax", map[string]Attr{"axis": Int(4)}, []*Tensor{x}, "out of range"},
	}
	for _, tc := range tests {
		_, err := runNode(&Node{Op: tc.op, Attrs: tc.attrs}, tc.ins)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want one containing %q", tc.op, tc.attrs, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := func() *Graph {
		g := New("g")
		g.Inputs = []*Tensor{{Name: "x", Shape: []int{1, 2}}}
		g.Initializers["w"] = &Tensor{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}
		g.Nodes = []*Node{{Name: "add", Op: "Add", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}}
		g.Outputs = []*Tensor{{Name: "y"}}
		return g
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := good().Run(map[string]*Tensor{"x": tensor([]int{1, 2}, 5, 6)})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Run", out["y"], []int{1, 2}, 6, 8)
	g := good()
	if g.Producer("y") != 0 || g.Producer("x") != -1 || !slices.Equal(g.Consumers("w"), []int{0}) || g.Consumers("y") != nil ||
		!g.IsOutput("y") || g.IsOutput("x") {
		t.Errorf("Producer/Consumers/IsOutput disagree with the graph")
	}
	tests := []struct {
		name   string
		mutate func(*Graph)
		want   string
	}{
		{"undefined input", func(g *Graph) { g.Nodes[0].Inputs[1] = "v" }, `node 0 "add" (Add): input "v" is not produced`},
		{"output twice", func(g *Graph) { g.Nodes = append(g.Nodes, g.Nodes[0]) }, `output "y" already comes from node 0`},
		{"missing output", func(g *Graph) { g.Outputs[0].Name = "z" }, `output "z" is never produced`},
		{"short initializer", func(g *Graph) { g.Initializers["w"].Data = g.Initializers["w"].Data[:1] }, `initializer "w": shape [2] holds 2 values, data has 1`},
		{"input is initializer", func(g *Graph) { g.Inputs[0].Name = "w" }, `"w" is both a graph input and an initializer`},
	}
	for _, tc := range tests {
		g := good()
		tc.mutate(g)
		err := g.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "graph: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// zooBatch returns b random inputs of g stacked along the first dimension, and each alone.
func zooBatch(g *graph.Graph, b int) (*graph.Tensor, []*graph.Tensor) {
	in := g.Inputs[0]
	shape := append([]int(nil), in.Shape...)
	shape[0] = 1
	n := graph.ShapeLen(shape)
	r := rand.New(rand.NewPCG(5, uint64(b)))
	batch := &graph.Tensor{Name: in.Name, Shape: append([]int{b}, shape[1:]...), Data: make([]float32, b*n)}
	for i := range batch.Data {
		batch.Data[i] = float32(r.NormFloat64())
	}
	var alone []*graph.Tensor
	for i := range b {
		alone = append(alone, &graph.Tensor{Name: in.Name, Shape: shape, Data: batch.Data[i*n : (i+1)*n]})
	}
	return batch, alone
}

// TestRunBatchZoo: the zoo's CIFAR-10 networks run as a batch give each image's logits bit for
// bit as Run gives them for that image alone.
func TestRunBatchZoo(t *testing.T) {
	for _, name := range []string{"cifar10_repvgg_a0.onnx", "cifar10_mobilenetv2_0.5.onnx"} {
		g := zooGraph(t, name)
		if err := g.Batchable(); err != nil {
			t.Fatal(err)
		}
		for _, b := range []int{1, 3, 16} {
			batch, alone := zooBatch(g, b)
			out, err := g.RunBatch(map[string]*graph.Tensor{batch.Name: batch})
			if err != nil {
				t.Fatal(err)
			}
			got := out[g.Outputs[0].Name]
			if got.Shape[0] != b {
				t.Fatalf("%s batch %d: output shape %v", name, b, got.Shape)
			}
			per := len(got.Data) / b
			for i, x := range alone {
				o, err := g.Run(map[string]*graph.Tensor{x.Name: x})
				if err != nil {
					t.Fatal(err)
				}
				want := o[g.Outputs[0].Name].Data
				for j, v := range got.Data[i*per : (i+1)*per] {
					if math.Float32bits(v) != math.Float32bits(want[j]) {
						t.Fatalf("%s batch %d, image %d: logit %d = %v, alone %v", name, b, i, j, v, want[j])
					}
				}
			}
		}
	}
}

// TestBatchable: graphs whose samples would mix are refused, naming the node, and RunBatch refuses
// inputs of different batches.
func TestBatchable(t *testing.T) {
	w := &graph.Tensor{Name: "w", Shape: []int{4, 2}, Data: make([]float32, 8)}
	c2 := &graph.Tensor{Name: "c2", Shape: []int{3, 4}, Data: make([]float32, 12)}
	for _, tc := range []struct {
		node *graph.Node
		ok   bool
	}{
		{&graph.Node{Name: "fc", Op: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"transB": graph.Int(1)}}, true},
		{&graph.Node{Name: "fc", Op: "Gemm", Inputs: []string{"x", "w", "c2"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"transB": graph.Int(1)}}, false},
		{&graph.Node{Name: "fcT", Op: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"transA": graph.Int(1)}}, false},
		{&graph.Node{Name: "flat0", Op: "Flatten", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(0)}}, false},
		{&graph.Node{Name: "add", Op: "Add", Inputs: []string{"x", "c2"}, Outputs: []string{"y"}}, false},
		{&graph.Node{Name: "resh", Op: "Reshape", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"shape": graph.Ints(1, -1)}}, false},
		{&graph.Node{Name: "resh", Op: "Reshape", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"shape": graph.Ints(0, -1)}}, true},
		{&graph.Node{Name: "tr", Op: "Transpose", Inputs: []string{"x"}, Outputs: []string{"y"}}, false},
		{&graph.Node{Name: "cat", Op: "Concat", Inputs: []string{"x", "x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(1)}}, true},
		// A class token: a constant of batch one concatenated to the activations.
		{&graph.Node{Name: "cls", Op: "Concat", Inputs: []string{"w", "x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(1)}}, false},
	} {
		g := graph.New("t")
		g.Inputs = []*graph.Tensor{{Name: "x", Shape: []int{1, 2}}}
		g.Outputs = []*graph.Tensor{{Name: "y"}}
		g.Initializers["w"], g.Initializers["c2"] = w, c2
		g.Nodes = []*graph.Node{tc.node}
		err := g.Batchable()
		if (err == nil) != tc.ok {
			t.Errorf("%s %v: Batchable = %v, want ok %v", tc.node.Op, tc.node.Attrs, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q (%s)", tc.node.Name, tc.node.Op)) {
			t.Errorf("error %q does not name the node", err)
		}
	}
	g := graph.New("two")
	g.Inputs = []*graph.Tensor{{Name: "a", Shape: []int{1, 2}}, {Name: "b", Shape: []int{1, 2}}}
	g.Outputs = []*graph.Tensor{{Name: "y"}}
	g.Nodes = []*graph.Node{{Op: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}}
	_, err := g.RunBatch(map[string]*graph.Tensor{
		"a": {Shape: []int{2, 2}, Data: make([]float32, 4)}, "b": {Shape: []int{3, 2}, Data: make([]float32, 6)}})
	if err == nil || !strings.Contains(err.Error(), "one batch") {
		t.Errorf("inputs of batches 2 and 3: err = %v", err)
	}
	out, err := g.RunBatch(map[string]*graph.Tensor{
		"a": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}, "b": {Shape: []int{2, 2}, Data: []float32{10, 20, 30, 40}}})
	if err != nil || fmt.Sprint(out["y"].Shape, out["y"].Data) != "[2 2] [11 22 33 44]" {
		t.Errorf("batch of 2: %v, %v", out["y"], err)
	}
	// A constant of higher rank moves the batch off the first axis: an error, not mislabelled samples.
	g = graph.New("rank")
	g.Inputs = []*graph.Tensor{{Name: "x", Shape: []int{1, 2}}}
	g.Outputs = []*graph.Tensor{{Name: "y"}}
	g.Initializers["k"] = &graph.Tensor{Name: "k", Shape: []int{1, 1, 2}, Data: []float32{1, 2}}
	g.Nodes = []*graph.Node{{Op: "Add", Inputs: []string{"x", "k"}, Outputs: []string{"y"}}}
	if _, err := g.RunBatch(map[string]*graph.Tensor{"x": {Shape: []int{3, 2}, Data: make([]float32, 6)}}); err == nil ||
		!strings.Contains(err.Error(), "did not stay on the first axis") {
		t.Errorf("batch moved to axis 1: err = %v", err)
	}
}

// BenchmarkZooBatch is BenchmarkZoo for a batch of 16 images (RunBatch, as edgeinfer eval runs
// float models): ns/op is one batch, ns/image one image of it.
func BenchmarkZooBatch(b *testing.B) {
	for _, name := range []string{"cifar10_repvgg_a0.onnx", "cifar10_mobilenetv2_0.5.onnx"} {
		b.Run(name, func(b *testing.B) {
			g := zooGraph(b, name)
			const batch = 16
			x, _ := zooBatch(g, batch)
			in := map[string]*graph.Tensor{x.Name: x}
			if _, err := g.RunBatch(in); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := g.RunBatch(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/image")
		})
	}
}

package graph_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/transform"
)

// zooGraph reads a float model of models/zoo/onnx and simplifies it as edgeinfer eval does.
func zooGraph(tb testing.TB, name string) *graph.Graph {
	tb.Helper()
	path := filepath.Join("..", "..", "models", "zoo", "onnx", name)
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	g, err := onnx.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := transform.Simplify(g); err != nil {
		tb.Fatal(err)
	}
	return g
}

func zooInput(g *graph.Graph) map[string]*graph.Tensor {
	in := g.Inputs[0]
	shape := append([]int(nil), in.Shape...)
	shape[0] = 1
	x := &graph.Tensor{Name: in.Name, Shape: shape, Data: make([]float32, graph.ShapeLen(shape))}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return map[string]*graph.Tensor{in.Name: x}
}

// BenchmarkZoo is one float inference of the CIFAR-10 zoo models (batch 1), as edgeinfer eval and
// calibration run them, in the steady state: a first, untimed run packs the weights.
func BenchmarkZoo(b *testing.B) {
	for _, name := range []string{"cifar10_repvgg_a0.onnx", "cifar10_mobilenetv2_0.5.onnx"} {
		b.Run(name, func(b *testing.B) {
			g := zooGraph(b, name)
			in := zooInput(g)
			if _, err := g.Run(in); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := g.Run(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

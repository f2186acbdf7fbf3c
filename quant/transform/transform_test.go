package transform_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/transform"
)

// maxRelDiff is max |a-b| over max |a|, over every output of the graphs: the difference relative
// to the output's magnitude (elementwise ratios are meaningless near zero).
func maxRelDiff(t *testing.T, before, after *graph.Graph, inputs map[string]*graph.Tensor) float64 {
	t.Helper()
	want, err := before.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := after.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for name, w := range want {
		g := got[name]
		if g == nil || len(g.Data) != len(w.Data) {
			t.Fatalf("output %q: missing or resized after the transforms", name)
		}
		var diff, mag float64
		for i := range w.Data {
			diff = max(diff, math.Abs(float64(w.Data[i]-g.Data[i])))
			mag = max(mag, math.Abs(float64(w.Data[i])))
		}
		if mag > 0 {
			worst = max(worst, diff/mag)
		} else {
			worst = max(worst, diff)
		}
	}
	return worst
}

func randomInputs(g *graph.Graph, rng *rand.Rand) map[string]*graph.Tensor {
	in := map[string]*graph.Tensor{}
	for _, t := range g.Inputs {
		shape := append([]int(nil), t.Shape...)
		for i, d := range shape {
			if d < 0 {
				shape[i] = 1
			}
		}
		data := make([]float32, graph.ShapeLen(shape))
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		in[t.Name] = &graph.Tensor{Name: t.Name, Shape: shape, Data: data}
	}
	return in
}

func read(t *testing.T, b *onnxtest.Builder) *graph.Graph {
	t.Helper()
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Read(data, b.Model.Graph.GetName()+".onnx")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func ops(g *graph.Graph) map[string]int {
	m := map[string]int{}
	for _, n := range g.Nodes {
		m[n.Op]++
	}
	return m
}

// simplifyAndCompare simplifies a copy of g and checks its outputs on random inputs.
func simplifyAndCompare(t *testing.T, g *graph.Graph, inputs int) *graph.Graph {
	t.Helper()
	after := clone(g)
	if _, err := transform.Simplify(after); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	worst := 0.0
	for range inputs {
		d := maxRelDiff(t, g, after, randomInputs(g, rng))
		if d >= 1e-4 {
			t.Errorf("max relative difference %.3g after the transforms, want < 1e-4", d)
		}
		worst = max(worst, d)
	}
	t.Logf("%s: max relative difference %.2g over %d random inputs", g.Name, worst, inputs)
	return after
}

func clone(g *graph.Graph) *graph.Graph {
	c := graph.New(g.Name)
	c.Inputs, c.Outputs = g.Inputs, g.Outputs
	for k, v := range g.Initializers {
		c.Initializers[k] = v
	}
	for _, n := range g.Nodes {
		m := *n
		m.Inputs = append([]string(nil), n.Inputs...)
		m.Outputs = append([]string(nil), n.Outputs...)
		m.Attrs = map[string]graph.Attr{}
		for k, v := range n.Attrs {
			m.Attrs[k] = v
		}
		c.Nodes = append(c.Nodes, &m)
	}
	return c
}

// Every transform keeps every test model's outputs.
func TestSimplifyKeepsOutputs(t *testing.T) {
	for _, c := range onnxtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			data, err := c.Build(13, 1)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(data, c.Name)
			if err != nil {
				t.Fatal(err)
			}
			after := simplifyAndCompare(t, g, 3)
			if n := ops(after)["BatchNormalization"]; n != 0 {
				t.Errorf("%d BatchNormalization nodes left", n)
			}
		})
	}
}

func TestRepVGGResidualFuses(t *testing.T) {
	c, err := onnxtest.Find("repvgg_residual")
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.Build(13, 3)
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Read(data, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	after := simplifyAndCompare(t, g, 4)
	// The RepVGG block is one Conv (3 branches fused), the residual block two Convs and an Add
	// with its ReLU fused; no standalone Relu or BatchNormalization is left.
	got := ops(after)
	if got["Conv"] != 3 || got["Add"] != 1 || got["Relu"] != 0 || got["BatchNormalization"] != 0 {
		t.Errorf("ops after simplify: %v, want 3 Conv, 1 Add, no Relu or BatchNormalization", got)
	}
	for _, n := range after.Nodes {
		if n.Op == "Conv" {
			if w := after.Const(n.Inputs[1]); w.Shape[2] != 3 || w.Shape[3] != 3 {
				t.Errorf("Conv %q has a %dx%d kernel, want 3x3", n.Name, w.Shape[2], w.Shape[3])
			}
		}
	}
}

func TestRepVGGNetworkFuses(t *testing.T) {
	for _, folded := range []bool{false, true} {
		t.Run(fmt.Sprintf("folded=%v", folded), func(t *testing.T) {
			g := read(t, onnxtest.RepVGGNet(folded, 11))
			after := simplifyAndCompare(t, g, 3)
			got := ops(after)
			// 5 blocks + the padded conv = 6 Convs; Gemm+BN+Relu one Gemm; MatMul a Gemm.
			want := map[string]int{"Conv": 6, "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 2}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ops after simplify: %v, want %v", got, want)
			}
			for _, n := range after.Nodes {
				if n.Op == "Conv" && n.Name != "pconv" {
					if _, _, ok := graph.FusedClamp(n); !ok {
						t.Errorf("Conv %q has no fused ReLU", n.Name)
					}
				}
				if n.Name == "pconv" {
					if p := n.Attrs["pads"].Ints; fmt.Sprint(p) != "[1 0 1 2]" {
						t.Errorf("pconv pads %v, want the Pad's [1 0 1 2]", p)
					}
				}
			}
		})
	}
}

func TestBadBatchNorm(t *testing.T) {
	b := onnxtest.New("nan", 13)
	b.Input("x", 1, 2, 3, 3)
	nan := float32(math.NaN())
	b.Op("BatchNormalization", "bn", nil, "x", b.Float("g", []int64{2}, []float32{1, nan}), b.Float("b", []int64{2}, []float32{0, 0}),
		b.Float("m", []int64{2}, []float32{0, 0}), b.Float("v", []int64{2}, []float32{1, 1}))
	b.Output("bn")
	g := read(t, b)
	_, err := transform.Simplify(g)
	if err == nil || err.Error() != `transform: BatchNormalization "bn": channel 1 has a non-finite scale or shift (variance 1, epsilon 1e-05)` {
		t.Fatalf("err = %v", err)
	}
}

// The trained RepVGG-A0 of the zoo, if it has been trained here: fused vs unfused on real weights.
func TestTrainedModels(t *testing.T) {
	for _, name := range onnxtest.Shipped {
		t.Run(name, func(t *testing.T) {
			path := onnxtest.TrainedModel(t, name)
			g, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			after := simplifyAndCompare(t, g, 2)
			if n := ops(after)["BatchNormalization"] + ops(after)["Relu"]; n != 0 {
				t.Errorf("%d BatchNormalization or Relu nodes left: %v", n, ops(after))
			}
			t.Logf("%d nodes -> %d: %v", len(g.Nodes), len(after.Nodes), ops(after))
		})
	}
}

func TestAppendSoftmax(t *testing.T) {
	c, err := onnxtest.Find("repvgg_residual")
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.Build(13, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Read(data, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if added, err := transform.AppendSoftmax(g); err != nil || !added {
		t.Fatalf("added %v, %v", added, err)
	}
	if added, err := transform.AppendSoftmax(g); err != nil || added {
		t.Fatalf("second time: added %v, %v", added, err)
	}
	out, err := g.Run(randomInputs(g, rand.New(rand.NewPCG(1, 1))))
	if err != nil {
		t.Fatal(err)
	}
	var sum float32
	for _, v := range out[g.Outputs[0].Name].Data {
		sum += v
	}
	if math.Abs(float64(sum)-1) > 1e-5 {
		t.Errorf("probabilities sum to %g", sum)
	}
	// The second output ("rep", 4-D) is left alone; a 4-D first output is refused.
	g.Outputs[0], g.Outputs[1] = g.Outputs[1], g.Outputs[0]
	if _, err := transform.AppendSoftmax(g); err == nil {
		t.Error("softmax appended to a 4-D output")
	}

	// An output whose rank the static walk cannot follow (LayerNormalization) takes its declared
	// shape: 2-D is accepted, undeclared is refused.
	ln := &graph.Graph{Name: "ln", Inputs: []*graph.Tensor{{Name: "x", Shape: []int{1, 10}}},
		Initializers: map[string]*graph.Tensor{"s": {Name: "s", Shape: []int{10}, Data: make([]float32, 10)},
			"b": {Name: "b", Shape: []int{10}, Data: make([]float32, 10)}},
		Nodes: []*graph.Node{{Name: "ln", Op: "LayerNormalization", Inputs: []string{"x", "s", "b"}, Outputs: []string{"y"},
			Attrs: map[string]graph.Attr{"axis": graph.Int(-1), "epsilon": graph.Float(1e-5)}}},
		Outputs: []*graph.Tensor{{Name: "y"}}}
	if _, err := transform.AppendSoftmax(ln); err == nil {
		t.Error("softmax appended to an output of unknown rank")
	}
	ln.Outputs[0].Shape = []int{1, 10}
	if added, err := transform.AppendSoftmax(ln); err != nil || !added {
		t.Errorf("declared [1 10] output: added %v, %v", added, err)
	}
}

package transform_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/transform"
)

// TestViTSimplifies checks that Simplify turns every export form of the ViT-tiny into nodes with an
// int8 form: LayerNorm and GELU fused, Linear layers on tokens, attention split into heads (no
// Transpose, no 4-D tensor, no Mul or Div left), with the outputs kept.
func TestViTSimplifies(t *testing.T) {
	for _, v := range []struct {
		opset int64
		opt   onnxtest.ViTOptions
	}{
		{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "mean"}},
		{13, onnxtest.ViTOptions{LayerNorm: "decomposed", Gelu: "erf", Pool: "cls", Heads: 4}},
		{11, onnxtest.ViTOptions{LayerNorm: "decomposed", Gelu: "tanh", Pool: "mean"}},
		{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "mean", FusedQKV: true, Heads: 4}},
	} {
		t.Run(fmt.Sprintf("opset%d_%s_%s_%s_fused%v", v.opset, v.opt.LayerNorm, v.opt.Gelu, v.opt.Pool, v.opt.FusedQKV), func(t *testing.T) {
			g := read(t, onnxtest.ViTTiny(v.opset, 3, v.opt))
			after := simplifyAndCompare(t, g, 2)
			got := ops(after)
			t.Logf("ops after: %v", got)
			for _, op := range []string{"Transpose", "Mul", "Div", "Sub", "Pow", "Sqrt", "Erf", "Tanh", "MatMul", "Reshape", "Gather"} {
				if got[op] != 0 && (op != "Gather" || v.opt.Pool != "cls") {
					t.Errorf("%d %s nodes left", got[op], op)
				}
			}
			heads := max(v.opt.Heads, 2)
			want := map[string]int{"LayerNormalization": 5, "Gelu": 2, "BatchMatMul": 2 * 2 * int(heads), "Softmax": 2 * int(heads),
				"Linear": 2 * (3*int(heads) + 3), "ToTokens": 1, "Gemm": 1}
			for op, n := range want {
				if got[op] != n {
					t.Errorf("%d %s nodes, want %d", got[op], op, n)
				}
			}
		})
	}
}

// FuzzViTTransforms mutates the integer attributes of a small ViT (Reshape shapes, Transpose
// perms, axes) and runs import, Simplify and the float graph: each may refuse the model, none may
// panic, and a graph Simplify accepts must still compute what the original computes.
func FuzzViTTransforms(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 0, 7, 2})
	f.Add([]byte{12, 0, 2, 40, 3, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := onnxtest.ViTTiny(13, 1, onnxtest.ViTOptions{LayerNorm: "decomposed", Gelu: "erf", Pool: "mean", Dim: 8, Heads: 2, Blocks: 1})
		// Each pair of bytes picks an int attribute or Int64 initializer element and a new value.
		var slots []*int64
		for _, n := range b.Model.Graph.Node {
			for _, a := range n.Attribute {
				for i := range a.Ints {
					slots = append(slots, &a.Ints[i])
				}
			}
		}
		for _, init := range b.Model.Graph.Initializer {
			for i := range init.Int64Data {
				slots = append(slots, &init.Int64Data[i])
			}
		}
		for i := 0; i+1 < len(data); i += 2 {
			*slots[int(data[i])%len(slots)] = int64(int8(data[i+1])) % 8
		}
		model, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		g, err := onnx.Read(model, "fuzz.onnx")
		if err != nil {
			return
		}
		in := randomInputs(g, rand.New(rand.NewPCG(1, 2)))
		want, err := g.Run(in)
		if err != nil {
			return
		}
		after := clone(g)
		if _, err := transform.Simplify(after); err != nil {
			return
		}
		got, err := after.Run(in)
		if err != nil {
			t.Fatalf("the simplified graph fails where the original runs: %v", err)
		}
		for name, w := range want {
			gt := got[name]
			for i := range w.Data {
				if d := math.Abs(float64(gt.Data[i] - w.Data[i])); d > 1e-4*(1+math.Abs(float64(w.Data[i]))) {
					t.Fatalf("output %s[%d]: %g after Simplify, %g before", name, i, gt.Data[i], w.Data[i])
				}
			}
		}
	})
}

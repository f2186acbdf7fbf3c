package transform_test

import (
	"fmt"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
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
	} {
		t.Run(fmt.Sprintf("opset%d_%s_%s_%s", v.opset, v.opt.LayerNorm, v.opt.Gelu, v.opt.Pool), func(t *testing.T) {
			g := read(t, onnxtest.ViTTiny(v.opset, 3, v.opt))
			after := simplifyAndCompare(t, g, 2)
			got := ops(after)
			t.Logf("ops after: %v", got)
			for _, op := range []string{"Transpose", "Mul", "Div", "Sub", "Pow", "Sqrt", "Erf", "Tanh", "MatMul", "Reshape"} {
				if got[op] != 0 {
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

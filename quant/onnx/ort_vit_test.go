package onnx_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// vitVariants are the export forms of the ViT-tiny the tests cover.
var vitVariants = []struct {
	opset int64
	opt   onnxtest.ViTOptions
}{
	{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "mean"}},
	{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "tanh", Pool: "cls", Heads: 4}},
	{13, onnxtest.ViTOptions{LayerNorm: "decomposed", Gelu: "erf", Pool: "cls"}},
	{11, onnxtest.ViTOptions{LayerNorm: "decomposed", Gelu: "tanh", Pool: "mean", Heads: 4}},
	{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "cls", FusedQKV: true, Heads: 4}},
}

func vitName(opset int64, o onnxtest.ViTOptions) string {
	qkv := "separate"
	if o.FusedQKV {
		qkv = "fused"
	}
	return fmt.Sprintf("vit_opset%d_ln-%s_gelu-%s_pool-%s_heads%d_qkv-%s", opset, o.LayerNorm, o.Gelu, o.Pool, max(o.Heads, 2), qkv)
}

// TestORTViT runs the ViT-tiny, in each export form, through Read + graph.Run and through ONNX
// Runtime on several random images: the largest difference relative to the largest logit must be
// at most 1e-4.
func TestORTViT(t *testing.T) {
	home := ortHome(t)
	for _, v := range vitVariants {
		name := vitName(v.opset, v.opt)
		t.Run(name, func(t *testing.T) {
			model, err := onnxtest.ViTTiny(v.opset, 5, v.opt).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(model, name)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(v.opset), 9))
			for img := range 3 {
				x := &graph.Tensor{Name: "x", Shape: []int{1, 3, 32, 32}, Data: onnxtest.Uniform(rng, 2, 1, 3, 32, 32)}
				inputs := map[string]*graph.Tensor{"x": x}
				got, err := g.Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				want := runORT(t, home, model, g, inputs)
				gt, wt := got["logits"], want["logits"]
				if !slices.Equal(gt.Shape, wt.Shape) {
					t.Fatalf("logits shape %v, ONNX Runtime %v", gt.Shape, wt.Shape)
				}
				maxDiff, maxRef := 0.0, 0.0
				for i := range gt.Data {
					maxDiff = max(maxDiff, math.Abs(float64(gt.Data[i]-wt.Data[i])))
					maxRef = max(maxRef, math.Abs(float64(wt.Data[i])))
				}
				rel := maxDiff / maxRef
				t.Logf("image %d: max |graph.Run - ONNX Runtime| = %.3g, relative to max |logit| %.3g: %.3g", img, maxDiff, maxRef, rel)
				if !(rel <= 1e-4) {
					t.Errorf("image %d: relative difference %g > 1e-4\n got %v\nwant %v", img, rel, gt.Data, wt.Data)
				}
			}
		})
	}
}

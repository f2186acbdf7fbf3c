package onnx_test

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// TestTorchvisionAgainstORT imports torchvision's resnet18, mobilenet_v3_small, shufflenet_v2_x0_5,
// densenet121, googlenet and efficientnet_b0 as PyTorch exports them (random weights, 224x224) and
// compares graph.Run's logits with ONNX Runtime's on one random image: largest difference relative
// to the largest logit at most 1e-4.
func TestTorchvisionAgainstORT(t *testing.T) {
	home := ortHome(t)
	for _, name := range onnxtest.TorchvisionModels {
		t.Run(name, func(t *testing.T) {
			path := onnxtest.TorchvisionModel(t, name)
			model, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(model, name)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			in := g.Inputs[0]
			x := &graph.Tensor{Name: in.Name, Shape: []int{1, 3, 224, 224}, Data: onnxtest.Uniform(rng, 2, 1, 3, 224, 224)}
			got, err := g.Run(map[string]*graph.Tensor{in.Name: x})
			if err != nil {
				t.Fatal(err)
			}
			want := runORT(t, home, model, g, map[string]*graph.Tensor{in.Name: x})
			for _, o := range g.Outputs {
				gt, wt := got[o.Name], want[o.Name]
				if !slices.Equal(gt.Shape, wt.Shape) || len(gt.Data) != len(wt.Data) {
					t.Fatalf("output %s: shape %v, ONNX Runtime %v", o.Name, gt.Shape, wt.Shape)
				}
				var diff, scale float64
				for i := range gt.Data {
					diff = max(diff, math.Abs(float64(gt.Data[i]-wt.Data[i])))
					scale = max(scale, math.Abs(float64(wt.Data[i])))
				}
				t.Logf("%s: %d nodes, max |graph.Run - ONNX Runtime| = %.3g, largest |logit| %.3g, relative %.2g", name, len(g.Nodes), diff, scale, diff/scale)
				if !(diff <= 1e-4*scale) {
					t.Errorf("relative difference %.3g > 1e-4", diff/scale)
				}
			}
		})
	}
}

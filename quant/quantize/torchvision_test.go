package quantize_test

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/transform"
	"github.com/edgeinfer/edgeinfer/runtime"
)

var imagenetPP = models.Preprocess{Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}

// TestQuantizeTorchvision quantizes torchvision's resnet18, mobilenet_v3_small, shufflenet_v2_x0_5,
// densenet121, googlenet and efficientnet_b0 (random weights, 224x224; see onnxtest.TorchvisionModel)
// with the default method on synthetic images, and checks that every op runs int8, that the int8
// logits follow the float ones (output SQNR), and that the fast kernels give the generic kernels'
// bytes. Random weights make top-1 agreement meaningless; the SQNR is reported and bounded.
func TestQuantizeTorchvision(t *testing.T) {
	set := synthetic{n: 16, size: 224}
	for _, name := range onnxtest.TorchvisionModels {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(onnxtest.TorchvisionModel(t, name))
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(data, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := transform.Simplify(g); err != nil {
				t.Fatal(err)
			}
			in, err := quantize.ImageInput(g, imagenetPP, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			cal, err := quantize.Calibrate(context.Background(), g, in, set, dataset.Spread(set.Len(), 8), quantize.CalibrateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[models.OpType]int{}
			for _, op := range m.Ops {
				ops[op.Type]++
				if m.Tensors[op.Outputs[0]].Type != models.Int8 && op.Type != models.OpDequantize {
					t.Errorf("op %s %q computes %s", op.Type, op.Name, m.Tensors[op.Outputs[0]].Type)
				}
			}
			stats, err := quantize.CompareLayers(context.Background(), cal, m, 2)
			if err != nil {
				t.Fatal(err)
			}
			worst := math.Inf(1)
			for _, s := range stats {
				worst = min(worst, s.Cosine)
			}
			last := stats[len(stats)-1]
			fast, err := runtime.New(m, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fast.Close()
			gen, err := runtime.New(m, runtime.Options{Generic: true})
			if err != nil {
				t.Fatal(err)
			}
			defer gen.Close()
			inb := fast.Input(0).Bytes()
			for j := range inb {
				inb[j] = byte(j * 7)
			}
			copy(gen.Input(0).Bytes(), inb)
			if err := fast.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := gen.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if string(fast.Output(0).Bytes()) != string(gen.Output(0).Bytes()) {
				t.Error("fast and generic kernels differ")
			}
			t.Logf("%s: %d int8 ops %v, %.1f M MACs; worst layer cosine %.4f, output cosine %.4f, output SQNR %.1f dB",
				name, len(m.Ops), ops, float64(fast.MACs())/1e6, worst, last.Cosine, last.SQNR)
			if last.SQNR < 10 {
				t.Errorf("output SQNR %.1f dB, want >= 10", last.SQNR)
			}
		})
	}
}

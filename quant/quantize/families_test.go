package quantize_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TestQuantizeFamilies quantizes the squeeze-excitation, MobileNetV3, EfficientNet and DenseNet-BC
// networks of onnxtest (below and from opset 14, where HardSwish is an op of its own) with the
// default method, and checks that every op runs int8 (the model has no float op and no Dequantize
// before its output), that the int8 model agrees with float on held-out synthetic images, on the
// generic and the fast kernels alike, and that each family's special ops were lowered as intended.
func TestQuantizeFamilies(t *testing.T) {
	set := synthetic{n: 200, size: 16}
	wantOps := map[string][]models.OpType{
		"senet":        {models.OpLogistic, models.OpMul},
		"mobilenetv3":  {models.OpHardSwish, models.OpTable, models.OpMul},
		"efficientnet": {models.OpTable, models.OpLogistic, models.OpMul},
		"densenet":     {models.OpConcatenation, models.OpAveragePool2D, models.OpDepthwiseConv2D},
	}
	for _, name := range onnxtest.FamilyNames() {
		for _, opset := range []int64{13, 17} {
			t.Run(fmt.Sprintf("%s/opset%d", name, opset), func(t *testing.T) {
				b, err := onnxtest.Family(name, opset, 3)
				if err != nil {
					t.Fatal(err)
				}
				g := prepare(t, b)
				cal := calibrate(t, g, set, 64)
				m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
				if err != nil {
					t.Fatal(err)
				}
				have := map[models.OpType]int{}
				for _, op := range m.Ops {
					have[op.Type]++
				}
				for _, op := range m.Ops[:len(m.Ops)-1] {
					if op.Type == models.OpDequantize || m.Tensors[op.Outputs[0]].Type != models.Int8 {
						t.Errorf("op %s %q computes %s: want every op int8", op.Type, op.Name, m.Tensors[op.Outputs[0]].Type)
					}
				}
				for _, op := range wantOps[name] {
					if have[op] == 0 {
						t.Errorf("no %s op in the int8 model (ops: %v)", op, have)
					}
				}
				stats, err := quantize.CompareLayers(context.Background(), cal, m, 16)
				if err != nil {
					t.Fatal(err)
				}
				worst := math.Inf(1)
				for _, s := range stats {
					worst = min(worst, s.Cosine)
				}
				last := stats[len(stats)-1]
				held := dataset.Spread(set.Len(), 100)[1:]
				agree := agreement(t, g, cal, m, set, held)
				t.Logf("%s: %d ops %v, worst layer cosine %.4f, output SQNR %.1f dB, top-1 agreement %.0f%%", name, len(m.Ops), have, worst, last.SQNR, 100*agree)
				if worst < 0.98 || last.SQNR < 15 || agree < 0.85 {
					t.Errorf("worst cosine %.4f, output SQNR %.1f dB, agreement %.2f: want >= 0.98, 15 dB, 0.85", worst, last.SQNR, agree)
				}
				// The fast kernels give the generic kernels' bytes.
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
				for i := range 3 {
					in := fast.Input(0).Bytes()
					for j := range in {
						in[j] = byte(i*31 + j*7)
					}
					copy(gen.Input(0).Bytes(), in)
					if err := fast.Run(context.Background()); err != nil {
						t.Fatal(err)
					}
					if err := gen.Run(context.Background()); err != nil {
						t.Fatal(err)
					}
					if string(fast.Output(0).Bytes()) != string(gen.Output(0).Bytes()) {
						t.Errorf("input %d: fast and generic kernels differ", i)
					}
				}
			})
		}
	}
}

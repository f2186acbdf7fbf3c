package quantize_test

import (
	"context"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/transform"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// FuzzQuantizePipeline feeds mutated ONNX models through everything a user's model meets after the
// parser (FuzzRead in quant/onnx covers that): the graph passes, calibration (the float run), the
// lowering to int8 and the runtime's prepare and run. Any of them may refuse a model with an error;
// none may panic. Seeds: every onnxtest network family and the ONNX Runtime cases, their weights
// stripped (onnxtest.StripWeights: the engine crawls on inputs of tens of kilobytes).
func FuzzQuantizePipeline(f *testing.F) {
	for _, name := range onnxtest.FamilyNames() {
		b, err := onnxtest.Family(name, 13, 1)
		if err != nil {
			f.Fatal(err)
		}
		data, err := b.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(onnxtest.StripWeights(data))
	}
	for _, c := range onnxtest.Cases() {
		data, err := c.Build(13, 1)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(onnxtest.StripWeights(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data, ok := onnxtest.FillWeights(data, 1<<20)
		if !ok {
			return
		}
		g, err := onnx.Read(data, "fuzz.onnx")
		if err != nil {
			return
		}
		if _, err := transform.Simplify(g); err != nil {
			return
		}
		// Keep each run small: the float run of calibration computes every tensor.
		weights := 0
		for _, c := range g.Initializers {
			weights += len(c.Data)
		}
		if weights > 1<<20 || len(g.Nodes) > 300 {
			return
		}
		in, err := quantize.ImageInput(g, cifarPP, 0, 0)
		if err != nil || in.H*in.W > 64*64 {
			return
		}
		set := synthetic{n: 2, size: 16}
		cal, err := quantize.Calibrate(context.Background(), g, in, set, dataset.Spread(2, 2), quantize.CalibrateOptions{})
		if err != nil {
			return
		}
		m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
		if err != nil {
			return
		}
		it, err := runtime.New(m, runtime.Options{})
		if err != nil {
			return
		}
		defer it.Close()
		_ = it.Run(context.Background())
	})
}

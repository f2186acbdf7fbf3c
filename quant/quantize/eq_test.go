package quantize_test

import (
	"context"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
)

// TestEQDefault checks the default method on the EfficientNet test network, whose
// squeeze-excitation blocks once made eq lose 10 dB of output SQNR against minmax: eq clipped the
// pooled per-channel vectors (one value per channel and image) and, with 8 kept samples, over-fitted
// its clipping of the excited maps. Now the vectors keep their min/max under eq, and the default
// method's output SQNR is at least minmax's, less 1 dB.
func TestEQDefault(t *testing.T) {
	set := synthetic{n: 200, size: 16}
	b, err := onnxtest.Family("efficientnet", 13, 3)
	if err != nil {
		t.Fatal(err)
	}
	g := prepare(t, b)
	cal := calibrate(t, g, set, 64)
	quant := func(method string) (*models.Model, float64) {
		m, err := quantize.Quantize(context.Background(), cal, quantize.Options{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		st, err := quantize.CompareLayers(context.Background(), cal, m, 16)
		if err != nil {
			t.Fatal(err)
		}
		return m, st[len(st)-1].SQNR
	}
	mm, mmSQNR := quant(quantize.MinMax)
	def, defSQNR := quant("")
	t.Logf("output SQNR: minmax %.1f dB, default (%s) %.1f dB", mmSQNR, quantize.Default, defSQNR)
	if defSQNR < mmSQNR-1 {
		t.Errorf("default method: output SQNR %.1f dB, minmax %.1f dB: want at least minmax's less 1 dB", defSQNR, mmSQNR)
	}
	// The squeeze-excitation's pooled vectors and the layers on them: minmax's scales.
	scales := map[string]float32{}
	for _, tn := range mm.Tensors {
		if tn.Quant != nil && len(tn.Shape) > 0 {
			scales[tn.Name] = tn.Quant.Scale[0]
		}
	}
	vectors := 0
	for _, tn := range def.Tensors {
		if tn.Quant == nil || tn.Data != nil || len(tn.Shape) != 4 || tn.Shape[1] != 1 || tn.Shape[2] != 1 {
			continue
		}
		vectors++
		if s, ok := scales[tn.Name]; ok && s != tn.Quant.Scale[0] {
			t.Errorf("per-image vector %q: scale %g under the default method, %g under minmax: want min/max", tn.Name, tn.Quant.Scale[0], s)
		}
	}
	if vectors == 0 {
		t.Fatal("no N×1×1×C activation in the EfficientNet test network: the test checks nothing")
	}
}

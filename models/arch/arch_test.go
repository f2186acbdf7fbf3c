package arch

import (
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// The architectures must have the published sizes: MACs of their convolutions and fully connected
// layers, and parameter counts.
func TestPublishedSizes(t *testing.T) {
	for _, c := range []struct {
		name         string
		macs, params float64 // millions
	}{
		{"mobilenet_v1_1.0_224", 569, 4.2},
		{"mobilenet_v2_1.0_224", 300, 3.5},
		{"repvgg_a0_224", 1360, 8.3},
	} {
		m, err := Build(c.name, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var macs, params int64
		for _, op := range m.Ops {
			out := m.Tensors[op.Outputs[0]].NumElements()
			switch op.Type {
			case models.OpConv2D, models.OpFullyConnected:
				w := m.Tensors[op.Inputs[1]]
				macs += int64(out) * int64(w.NumElements()/w.Shape[0])
				params += int64(w.NumElements() + w.Shape[0])
			case models.OpDepthwiseConv2D:
				w := m.Tensors[op.Inputs[1]]
				macs += int64(out) * int64(w.Shape[1]*w.Shape[2])
				params += int64(w.NumElements() + w.Shape[3])
			}
		}
		gotM, gotP := float64(macs)/1e6, float64(params)/1e6
		if gotM < c.macs*0.97 || gotM > c.macs*1.03 || gotP < c.params*0.95 || gotP > c.params*1.05 {
			t.Errorf("%s: %.1f M MACs, %.2f M params; published %.0f M and %.1f M", c.name, gotM, gotP, c.macs, c.params)
		}
		t.Logf("%s: %.1f M MACs, %.2f M params", c.name, gotM, gotP)
	}
	if _, err := Build("nope", 1); err == nil {
		t.Error("unknown architecture accepted")
	}
}

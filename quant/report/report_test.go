package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/quantize"
)

func TestHTML(t *testing.T) {
	r := &Report{Model: "m<1>", Method: "eq", Float: quantize.Accuracy{N: 4, Top1: 3, Top5: 4}, Int8: quantize.Accuracy{N: 4, Top1: 2, Top5: 4},
		Agree: 3, Labelled: true, Layers: []quantize.LayerStat{
			{Tensor: "conv<a>", Op: "Conv", SQNR: 31.5, Cosine: 0.9993},
			{Tensor: "pool", Op: "MaxPool", SQNR: math.Inf(1), Cosine: 1},
		}}
	r.Worst = r.Layers[:1]
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"m&lt;1&gt;", "conv&lt;a&gt;", "75.00%", "50.00%", "-25.00", "exact", "<svg", "<rect", "0.99930"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<a>") || strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("page has unescaped names, a script or a fetched resource")
	}
	if !strings.Contains(page, "Accuracy on the calibration set (not held out") {
		t.Error("page does not say its figures are from the calibration set")
	}
	r.HeldOut = true
	b.Reset()
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Accuracy on held-out images") {
		t.Error("page does not say its figures are from held-out images")
	}
	if r.AgreementPercent() != 75 {
		t.Errorf("agreement %g%%", r.AgreementPercent())
	}
}

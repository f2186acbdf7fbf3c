package tflitegraph_test

import (
	"context"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/tflitegraph"
	"github.com/edgeinfer/edgeinfer/quant/transform"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// MLPerf Tiny's float ResNet8 (input 0..255) imported as a graph: its accuracy on CIFAR-10 is the
// documented ~77%, and it agrees with the int8 model TensorFlow Lite's converter made of it.
func TestResNet8(t *testing.T) {
	g, err := tflitegraph.ReadFile(shareddata.Path(t, "mlperf_tiny/pretrainedResnet.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	qm, err := tflite.ReadFile(shareddata.Path(t, "mlperf_tiny/pretrainedResnet_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := dataset.Open(shareddata.Path(t, "cifar10/test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transform.Simplify(g); err != nil {
		t.Fatal(err)
	}
	inv255 := float32(1.0 / 255)
	in, err := quantize.ImageInput(g, models.Preprocess{Std: [3]float32{inv255, inv255, inv255}}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := quantize.NewFloatClassifier(g, in)
	if err != nil {
		t.Fatal(err)
	}
	qc, err := quantize.NewInt8Classifier(qm, runtime.Options{}) // raw pixels - 128, as the file says
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	var acc quantize.Accuracy
	agree := 0
	idx := dataset.Spread(set.Len(), 200)
	for _, i := range idx {
		img, label, err := set.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fc.Scores(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		q, err := qc.Scores(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(f, label)
		if quantize.Argmax(f) == quantize.Argmax(q) {
			agree++
		}
	}
	t.Logf("float ResNet8: %s; agrees with TFLite's int8 model on %d of %d", acc, agree, len(idx))
	if acc.Top1 < 140 || acc.Top1 > 170 || agree < 180 {
		t.Errorf("float top-1 %d/200 (want ~77%%), agreement with int8 %d/200 (want >= 180)", acc.Top1, agree)
	}
}

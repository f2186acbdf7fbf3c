package quantize_test

import (
	"context"
	"image"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/transform"
)

// TestWorkersDeterministic: calibration statistics and evaluation results of the zoo's float
// MobileNetV2 on CIFAR-10 images are the same with one worker and with three.
func TestWorkersDeterministic(t *testing.T) {
	g, err := onnx.ReadFile(filepath.Join("..", "..", "models", "zoo", "onnx", "cifar10_mobilenetv2_0.5.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transform.Simplify(g); err != nil {
		t.Fatal(err)
	}
	set, err := dataset.Open(shareddata.Path(t, "cifar10/test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := quantize.ImageInput(g, cifarPP, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	idx := dataset.Spread(set.Len(), 12)
	ctx := context.Background()
	px, err := quantize.NewPixels(in)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := set.Image(idx[5])
	if err != nil {
		t.Fatal(err)
	}
	want5, err := px.Of(img)
	if err != nil {
		t.Fatal(err)
	}
	var stats []any
	var accs []quantize.Accuracy
	for _, w := range []int{1, 3} {
		batch := 1 + 3*(w-1) // 1, then 7: the batched float path (RunBatch) must score the same
		cal, err := quantize.Calibrate(ctx, g, in, set, idx, quantize.CalibrateOptions{Workers: w, Samples: 2})
		if err != nil {
			t.Fatal(err)
		}
		stats = append(stats, cal.Obs.Stats)
		if !reflect.DeepEqual(cal.Pixels[5], want5) {
			t.Fatalf("workers %d: pixels of image 5 out of order", w)
		}
		acc, unl, err := quantize.Evaluate(ctx, func() (quantize.Classifier, error) { return quantize.NewFloatClassifier(g, in) },
			set, idx, quantize.EvalOptions{Workers: w, Batch: batch})
		if err != nil || unl != 0 || acc.N != len(idx) {
			t.Fatalf("workers %d: %v, %d unlabelled, %d images", w, err, unl, acc.N)
		}
		accs = append(accs, acc)
	}
	if !reflect.DeepEqual(stats[0], stats[1]) {
		t.Error("calibration statistics differ between 1 and 3 workers")
	}
	if accs[0] != accs[1] {
		t.Errorf("accuracy %v with 1 worker one image at a time, %v with 3 workers, batches of 7", accs[0], accs[1])
	}
}

// TestScoresBatch: the float classifier scores a batch of CIFAR-10 images (one graph.RunBatch) bit
// for bit as it scores each alone, for RepVGG-A0 and MobileNetV2-0.5.
func TestScoresBatch(t *testing.T) {
	set, err := dataset.Open(shareddata.Path(t, "cifar10/test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"cifar10_repvgg_a0.onnx", "cifar10_mobilenetv2_0.5.onnx"} {
		g, err := onnx.ReadFile(filepath.Join("..", "..", "models", "zoo", "onnx", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := transform.Simplify(g); err != nil {
			t.Fatal(err)
		}
		in, err := quantize.ImageInput(g, cifarPP, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		c, err := quantize.NewFloatClassifier(g, in)
		if err != nil {
			t.Fatal(err)
		}
		var imgs []image.Image
		for _, k := range dataset.Spread(set.Len(), 9) {
			img, _, err := set.Image(k)
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, img)
		}
		got, err := c.ScoresBatch(ctx, imgs)
		if err != nil {
			t.Fatal(err)
		}
		for i, img := range imgs {
			want, err := c.Scores(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("%s: image %d: batch scores %v, alone %v", name, i, got[i], want)
			}
		}
	}
}

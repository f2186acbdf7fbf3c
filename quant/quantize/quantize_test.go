package quantize_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/transform"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// synthetic is a set of smooth random images (gradients plus a bright disc), 10 classes.
type synthetic struct {
	n, size int
}

func (s synthetic) Len() int          { return s.n }
func (s synthetic) Classes() []string { return nil }
func (s synthetic) Name() string      { return "synthetic" }
func (s synthetic) Image(i int) (image.Image, int, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 99))
	img := image.NewRGBA(image.Rect(0, 0, s.size, s.size))
	var base, gx, gy [3]float64
	for c := range 3 {
		base[c], gx[c], gy[c] = 255*rng.Float64(), 200*(rng.Float64()-0.5), 200*(rng.Float64()-0.5)
	}
	cx, cy, r := rng.Float64()*float64(s.size), rng.Float64()*float64(s.size), 2+rng.Float64()*float64(s.size)/3
	for y := range s.size {
		for x := range s.size {
			var px [3]uint8
			for c := range 3 {
				v := base[c] + gx[c]*float64(x)/float64(s.size) + gy[c]*float64(y)/float64(s.size)
				if (float64(x)-cx)*(float64(x)-cx)+(float64(y)-cy)*(float64(y)-cy) < r*r {
					v = 255 - v
				}
				px[c] = uint8(max(0, min(255, v)))
			}
			img.Set(x, y, color.RGBA{px[0], px[1], px[2], 255})
		}
	}
	return img, i % 10, nil
}

var cifarPP = models.Preprocess{Mean: [3]float32{0.4914, 0.4822, 0.4465}, Std: [3]float32{0.2470, 0.2435, 0.2616}}

func prepare(t *testing.T, b *onnxtest.Builder) *graph.Graph {
	t.Helper()
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Read(data, "test.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transform.Simplify(g); err != nil {
		t.Fatal(err)
	}
	return g
}

func calibrate(t *testing.T, g *graph.Graph, set dataset.Set, n int) *quantize.Calibration {
	t.Helper()
	in, err := quantize.ImageInput(g, cifarPP, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := quantize.Calibrate(context.Background(), g, in, set, dataset.Spread(set.Len(), n), quantize.CalibrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// agreement is the fraction of images whose top-1 class is the same in float and int8.
func agreement(t *testing.T, g *graph.Graph, cal *quantize.Calibration, m *models.Model, set dataset.Set, idx []int) float64 {
	t.Helper()
	fc, err := quantize.NewFloatClassifier(g, cal.Input)
	if err != nil {
		t.Fatal(err)
	}
	qc, err := quantize.NewInt8Classifier(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	same := 0
	for _, i := range idx {
		img, _, err := set.Image(i)
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
		if quantize.Argmax(f) == quantize.Argmax(q) {
			same++
		}
	}
	return float64(same) / float64(len(idx))
}

func TestQuantizeNetworks(t *testing.T) {
	set := synthetic{n: 200, size: 16}
	nets := []struct {
		name string
		b    *onnxtest.Builder
	}{
		{"mobilenetv2", onnxtest.MobileNetV2Net(5)},
		{"repvgg", onnxtest.RepVGGNet(false, 5)},
	}
	for _, net := range nets {
		g := prepare(t, net.b)
		cal := calibrate(t, g, set, 64)
		var minmaxSQNR float64
		for _, opt := range []quantize.Options{
			{Method: quantize.MinMax},
			{Method: quantize.Percentile},
			{Method: quantize.KL},
			{Method: quantize.EQ},
			{Method: quantize.MinMax, BiasCorrection: true},
		} {
			m, err := quantize.Quantize(context.Background(), cal, opt)
			if err != nil {
				t.Fatalf("%s %+v: %v", net.name, opt, err)
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
			agree := agreement(t, g, cal, m, set, dataset.Spread(set.Len(), 100)[1:])
			t.Logf("%s %s bc=%v: %d layers, worst cosine %.4f, output SQNR %.1f dB, top-1 agreement %.0f%%", net.name, opt.Method, opt.BiasCorrection, len(stats), worst, last.SQNR, 100*agree)
			// KL clips hard on these small synthetic histograms: the clipped tensors themselves
			// lose similarity, the outputs much less.
			wantCos := 0.98
			if opt.Method == quantize.KL {
				wantCos = 0.9
			}
			if opt.Method == quantize.MinMax && !opt.BiasCorrection {
				minmaxSQNR = last.SQNR
			}
			if opt.BiasCorrection && last.SQNR <= minmaxSQNR {
				t.Errorf("%s: bias correction: output SQNR %.1f dB, not above minmax's %.1f dB", net.name, last.SQNR, minmaxSQNR)
			}
			if worst < wantCos || last.SQNR < 15 || agree < 0.85 {
				t.Errorf("%s %+v: worst cosine %.4f, output SQNR %.1f dB, agreement %.2f: want >= %g, 15 dB, 0.85", net.name, opt, worst, last.SQNR, agree, wantCos)
			}
		}
	}
}

// Per-tensor weights are the naive baseline: measurably worse than per channel on the same
// calibration (RepVGG's fused kernels have very different channel ranges).
func TestPerTensorIsWorse(t *testing.T) {
	g := prepare(t, onnxtest.MobileNetV2Net(6))
	cal := calibrate(t, g, synthetic{n: 64, size: 16}, 32)
	sqnr := func(perTensor bool) float64 {
		m, err := quantize.Quantize(context.Background(), cal, quantize.Options{PerTensor: perTensor})
		if err != nil {
			t.Fatal(err)
		}
		st, err := quantize.CompareLayers(context.Background(), cal, m, 16)
		if err != nil {
			t.Fatal(err)
		}
		return st[len(st)-1].SQNR
	}
	pc, pt := sqnr(false), sqnr(true)
	t.Logf("output SQNR per channel %.1f dB, per tensor %.1f dB", pc, pt)
	if pt >= pc {
		t.Errorf("per-tensor SQNR %.1f dB not below per-channel %.1f dB", pt, pc)
	}
}

func TestErrors(t *testing.T) {
	g := prepare(t, onnxtest.MobileNetV2Net(7))
	in, err := quantize.ImageInput(g, cifarPP, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := quantize.Calibrate(context.Background(), g, in, synthetic{n: 0, size: 16}, nil, quantize.CalibrateOptions{}); !errors.Is(err, quantize.ErrNoCalibration) {
		t.Errorf("empty calibration set: err = %v", err)
	}
	if _, err := quantize.ImageInput(g, cifarPP, 32, 32); err == nil || err.Error() != `quantize: graph "mobilenetv2": input "x" is 16x16, the requested size is 32x32` {
		t.Errorf("wrong size: err = %v", err)
	}
	// A NaN weight: Calibrate rejects it before running the graph.
	for _, c := range g.Initializers {
		if len(c.Shape) == 4 {
			c.Data[0] = float32(math.NaN())
			break
		}
	}
	_, err = quantize.Calibrate(context.Background(), g, in, synthetic{n: 4, size: 16}, []int{0, 1}, quantize.CalibrateOptions{})
	if err == nil || !strings.Contains(err.Error(), "element 0 is NaN") {
		t.Fatalf("NaN weight: err = %v, want one naming the NaN element", err)
	}
	t.Log(err)
}

// Pools, a Pad that stays (before an AveragePool), Concat, and a Flatten of a 4x4 map before the
// Gemm (whose weight columns move from CHW to HWC order).
func TestOtherOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	b := onnxtest.New("ops", 13)
	b.Input("x", 1, 3, 16, 16)
	c1 := b.Op("Relu", "c1", nil, b.Op("Conv", "conv1", onnxtest.Attrs{"pads": []int64{1, 1, 1, 1}}, "x", b.Random(rng, "w1", 0.4, 8, 3, 3, 3), b.Random(rng, "b1", 0.1, 8)))
	mp := b.Op("MaxPool", "mp", onnxtest.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, c1)
	p := b.Op("Pad", "pad", nil, mp, b.Ints("pads", 0, 0, 1, 1, 0, 0, 1, 1))
	ap := b.Op("AveragePool", "ap", onnxtest.Attrs{"kernel_shape": []int64{3, 3}}, p)
	c2 := b.Op("Conv", "c2", nil, ap, b.Random(rng, "w2", 0.5, 4, 8, 1, 1))
	c3 := b.Op("Conv", "c3", onnxtest.Attrs{"pads": []int64{1, 1, 1, 1}}, mp, b.Random(rng, "w3", 0.3, 4, 8, 3, 3))
	cat := b.Op("Concat", "cat", onnxtest.Attrs{"axis": 1}, c2, c3)
	ap2 := b.Op("AveragePool", "ap2", onnxtest.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, cat)
	f := b.Op("Flatten", "flat", nil, ap2)
	b.Op("Gemm", "logits", onnxtest.Attrs{"transB": 1}, f, b.Random(rng, "fw", 0.3, 10, 128), b.Random(rng, "fb", 0.1, 10))
	b.Output("logits")
	g := prepare(t, b)
	set := synthetic{n: 100, size: 16}
	cal := calibrate(t, g, set, 50)
	m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[models.OpType]int{}
	for _, op := range m.Ops {
		ops[op.Type]++
	}
	want := map[models.OpType]int{models.OpConv2D: 3, models.OpMaxPool2D: 1, models.OpPad: 1, models.OpAveragePool2D: 2,
		models.OpConcatenation: 1, models.OpReshape: 1, models.OpFullyConnected: 1}
	for k, v := range want {
		if ops[k] != v {
			t.Errorf("%d %s ops, want %d (all: %v)", ops[k], k, v, ops)
		}
	}
	stats, err := quantize.CompareLayers(context.Background(), cal, m, 16)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Cosine < 0.995 {
			t.Errorf("%s (%s): cosine %.4f, SQNR %.1f dB", s.Tensor, s.Op, s.Cosine, s.SQNR)
		}
	}
	if agree := agreement(t, g, cal, m, set, dataset.Spread(100, 50)); agree < 0.9 {
		t.Errorf("top-1 agreement %.2f, want >= 0.9", agree)
	}
}

// The zoo's trained models, when models/train has written them here: int8 (minmax, 100 training
// images) agrees with float on the top-1 class of at least 90% of 200 test images, and their
// top-1 accuracies differ by at most 3 points there. (The full measurement, on the 10,000 test
// images, is `edgeinfer eval`'s.)
func TestTrainedModels(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute: skipped with -short")
	}
	test := shareddata.Path(t, "cifar10/test_batch.bin")
	train := shareddata.Path(t, "cifar10/train_jpeg.pack")
	for _, name := range onnxtest.Zoo() {
		t.Run(name, func(t *testing.T) {
			path := onnxtest.TrainedModel(t, name)
			g, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := transform.Simplify(g); err != nil {
				t.Fatal(err)
			}
			calSet, err := dataset.Open(train)
			if err != nil {
				t.Fatal(err)
			}
			testSet, err := dataset.Open(test)
			if err != nil {
				t.Fatal(err)
			}
			cal := calibrate(t, g, calSet, 100)
			m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fc, err := quantize.NewFloatClassifier(g, cal.Input)
			if err != nil {
				t.Fatal(err)
			}
			qc, err := quantize.NewInt8Classifier(m, runtime.Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer qc.Close()
			var fa, qa quantize.Accuracy
			agree := 0
			idx := dataset.Spread(testSet.Len(), 200)
			for _, i := range idx {
				img, label, err := testSet.Image(i)
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
				fa.Add(f, label)
				qa.Add(q, label)
				if quantize.Argmax(f) == quantize.Argmax(q) {
					agree++
				}
			}
			t.Logf("%s: float %s; int8 %s; same top-1 on %d", name, fa, qa, agree)
			if agree < 180 || qa.Top1 < fa.Top1-6 {
				t.Errorf("agreement %d/200 (want >= 180), int8 top-1 %d vs float %d (want within 6 images)", agree, qa.Top1, fa.Top1)
			}
		})
	}
}

// An op left standalone by the transforms (a Relu after a pool) is an error naming the node.
func TestUnsupportedOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	b := onnxtest.New("relu_after_pool", 13)
	b.Input("x", 1, 3, 8, 8)
	c := b.Op("Conv", "c", nil, "x", b.Random(rng, "w", 0.5, 4, 3, 1, 1))
	r := b.Op("Relu", "r", nil, b.Op("MaxPool", "mp", onnxtest.Attrs{"kernel_shape": []int64{2, 2}}, c))
	b.Op("Gemm", "y", onnxtest.Attrs{"transB": 1}, b.Op("Flatten", "f", nil, r), b.Random(rng, "fw", 0.5, 2, 196))
	b.Output("y")
	g := prepare(t, b)
	cal := calibrate(t, g, synthetic{n: 4, size: 8}, 4)
	_, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
	if err == nil || err.Error() != `quantize: graph "relu_after_pool": node 2 "r" (Relu): no int8 form (after the graph transforms, Relu is left on its own)` {
		t.Errorf("err = %v", err)
	}
}

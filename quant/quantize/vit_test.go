package quantize_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TestQuantizeViT quantizes the ViT-tiny (two export forms) with the default method after
// calibrating on 64 synthetic 32x32 images, and compares the int8 model with the float graph on
// other images: every layer's cosine similarity, the logits' SQNR, and top-1 agreement.
func TestQuantizeViT(t *testing.T) {
	set := synthetic{n: 300, size: 32}
	for _, v := range []struct {
		opset int64
		opt   onnxtest.ViTOptions
	}{
		{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "mean"}},
		{13, onnxtest.ViTOptions{LayerNorm: "decomposed", Gelu: "tanh", Pool: "mean", Heads: 4}},
		{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "cls"}},
		{17, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "tanh", Pool: "mean", FusedQKV: true, Heads: 4}},
	} {
		t.Run(fmt.Sprintf("opset%d_%s_%s_%s_heads%d_fused%v", v.opset, v.opt.LayerNorm, v.opt.Gelu, v.opt.Pool, max(v.opt.Heads, 2), v.opt.FusedQKV), func(t *testing.T) {
			g := prepare(t, onnxtest.ViTTiny(v.opset, 11, v.opt))
			cal := calibrate(t, g, set, 64)
			m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			stats, err := quantize.CompareLayers(context.Background(), cal, m, 16)
			if err != nil {
				t.Fatal(err)
			}
			worst, worstAt := math.Inf(1), ""
			for _, s := range stats {
				if s.Cosine < worst {
					worst, worstAt = s.Cosine, s.Op
				}
			}
			last := stats[len(stats)-1]
			nAgree := 200
			if testing.Short() { // scripts/test's run under qemu: fewer images to compare (the float graph is slow there)
				nAgree = 50
			}
			agree := agreement(t, g, cal, m, set, dataset.Spread(set.Len(), nAgree)[1:])
			t.Logf("%d ops, %d compared layers; worst cosine %.4f (%s); logits cosine %.4f, SQNR %.1f dB; top-1 agreement %.1f%%",
				len(m.Ops), len(stats), worst, worstAt, last.Cosine, last.SQNR, 100*agree)
			// EDGEINFER_VIT_OUT=dir writes the int8 models there (for scripts/insncount).
			if dir := os.Getenv("EDGEINFER_VIT_OUT"); dir != "" {
				path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".eim")
				if err := m.WriteFile(path, models.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", path)
			}
			it, err := runtime.New(m, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			kernels := map[string]int{}
			for _, op := range it.Ops() {
				kernels[op.Type.String()+":"+op.Kernel]++
			}
			t.Logf("kernels: %v", kernels)
			if n := testing.AllocsPerRun(3, func() { it.Run(context.Background()) }); n != 0 {
				t.Errorf("Run allocates %v times", n)
			}
			// The fast kernels (FullyConnected, Conv, Add) give the generic kernels' bytes.
			gen, err := runtime.New(m, runtime.Options{Generic: true})
			if err != nil {
				t.Fatal(err)
			}
			defer gen.Close()
			for k := range 3 {
				copy(it.Input(0).Bytes(), cal.Pixels[k])
				in := it.Input(0).Bytes()
				for j := range in {
					in[j] = byte(int(in[j])*7 + k)
				}
				copy(gen.Input(0).Bytes(), in)
				if err := it.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := gen.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if string(it.Output(0).Bytes()) != string(gen.Output(0).Bytes()) {
					t.Errorf("input %d: fast kernels %v, generic %v", k, it.Output(0).Int8s(), gen.Output(0).Int8s())
				}
			}
			if worst < 0.98 || last.SQNR < 15 || agree < 0.85 {
				t.Errorf("worst cosine %.4f, logits SQNR %.1f dB, agreement %.2f: want >= 0.98, 15 dB, 0.85", worst, last.SQNR, agree)
			}
		})
	}
}

// TestQuantizeViTMethods runs every calibration method, and bias correction, on the ViT-tiny.
func TestQuantizeViTMethods(t *testing.T) {
	set := synthetic{n: 200, size: 32}
	g := prepare(t, onnxtest.ViTTiny(17, 11, onnxtest.ViTOptions{LayerNorm: "op", Gelu: "erf", Pool: "mean"}))
	cal := calibrate(t, g, set, 48)
	for _, opt := range []quantize.Options{
		{Method: quantize.Percentile},
		{Method: quantize.KL},
		{Method: quantize.EQ},
		{Method: quantize.MinMax, BiasCorrection: true},
	} {
		m, err := quantize.Quantize(context.Background(), cal, opt)
		if err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		stats, err := quantize.CompareLayers(context.Background(), cal, m, 8)
		if err != nil {
			t.Fatal(err)
		}
		last := stats[len(stats)-1]
		agree := agreement(t, g, cal, m, set, dataset.Spread(set.Len(), 100)[1:])
		t.Logf("%s bc=%v: logits cosine %.4f, SQNR %.1f dB, top-1 agreement %.0f%%", opt.Method, opt.BiasCorrection, last.Cosine, last.SQNR, 100*agree)
		if last.SQNR < 12 || agree < 0.8 {
			t.Errorf("%+v: logits SQNR %.1f dB, agreement %.2f: want >= 12 dB, 0.8", opt, last.SQNR, agree)
		}
	}
}

package onnx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/models/arch"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// BenchmarkORTMobileNetV2 times MobileNetV2 1.0 224 with ONNX Runtime, float
// (onnxtest.MobileNetV2Full) and QDQ int8 (onnxtest.MobileNetV2FullQDQ), one thread, and with
// edgeinfer (int8, one thread, models/arch's mobilenet_v2_1.0_224: the same layers) in one run,
// alternating rounds of 10 inferences each so that all see the same load, and reports the medians of
// the wall times (ort-ms, ort-qdq-ms, edgeinfer-ms) and of the processes' CPU times (user + system:
// ort-cpu-ms, ort-qdq-cpu-ms, edgeinfer-cpu-ms), and edgeinfer's ratios to ONNX Runtime float.
// Run it with -benchtime 1x (each b.N repeats the whole comparison):
//
//	go test ./quant/onnx -run XXX -bench ORTMobileNetV2 -benchtime 1x -timeout 20m
func BenchmarkORTMobileNetV2(b *testing.B) {
	home := ortHome(b)
	script, err := filepath.Abs(filepath.Join("testdata", "ort_bench.js"))
	if err != nil {
		b.Fatal(err)
	}
	var models [2]string // float, QDQ
	for i, m := range []*onnxtest.Builder{onnxtest.MobileNetV2Full(1), onnxtest.MobileNetV2FullQDQ(1)} {
		data, err := m.Bytes()
		if err != nil {
			b.Fatal(err)
		}
		models[i] = filepath.Join(b.TempDir(), fmt.Sprintf("mobilenet_v2_%d.onnx", i))
		if err := os.WriteFile(models[i], data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	m, err := arch.Build("mobilenet_v2_1.0_224", 1)
	if err != nil {
		b.Fatal(err)
	}
	it, err := runtime.New(m, runtime.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	in := it.Input(0).Bytes()
	for j := range in {
		in[j] = byte(rng.IntN(256))
	}
	const rounds, per = 3, 10
	ctx := context.Background()
	for range b.N {
		var ort, ortCPU [2][]float64
		var ei, eiCPU []float64
		for r := 0; r < rounds; r++ {
			for i, model := range models {
				cmd := exec.Command("node", script, model, "x", "1,3,224,224", "10", "2")
				cmd.Env = append(os.Environ(), "EDGEINFER_ORT_HOME="+home)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("ort_bench.js: %v", err)
				}
				var res struct {
					Times []float64 `json:"times_ms"`
					CPU   []float64 `json:"cpu_ms"`
				}
				if err := json.Unmarshal(out, &res); err != nil {
					b.Fatalf("ort_bench.js output %q: %v", out, err)
				}
				ort[i], ortCPU[i] = append(ort[i], res.Times...), append(ortCPU[i], res.CPU...)
			}
			for i := 0; i < per+2; i++ {
				c0 := cpuTime(b)
				start := time.Now()
				if err := it.Run(ctx); err != nil {
					b.Fatal(err)
				}
				if i >= 2 { // two warm-up runs per round, as for ONNX Runtime
					ei = append(ei, float64(time.Since(start))/1e6)
					eiCPU = append(eiCPU, float64(cpuTime(b)-c0)/1e6)
				}
			}
		}
		om, qm, em := median(ort[0]), median(ort[1]), median(ei)
		oc, qc, ec := median(ortCPU[0]), median(ortCPU[1]), median(eiCPU)
		b.ReportMetric(om, "ort-ms")
		b.ReportMetric(qm, "ort-qdq-ms")
		b.ReportMetric(em, "edgeinfer-ms")
		b.ReportMetric(em/om, "edgeinfer/ort")
		b.ReportMetric(oc, "ort-cpu-ms")
		b.ReportMetric(qc, "ort-qdq-cpu-ms")
		b.ReportMetric(ec, "edgeinfer-cpu-ms")
		b.ReportMetric(ec/oc, "edgeinfer/ort-cpu")
		b.Logf("MobileNetV2 1.0 224, one thread, medians of %d: ONNX Runtime float %.2f ms (min %.2f; CPU %.2f ms), QDQ int8 %.2f ms (min %.2f; CPU %.2f ms); edgeinfer int8 (%s kernels) %.2f ms (min %.2f; CPU %.2f ms): %.2fx / %.2fx wall, %.2fx / %.2fx CPU (float / QDQ)",
			len(ei), om, slices.Min(ort[0]), oc, qm, slices.Min(ort[1]), qc, kernelsOf(it), em, slices.Min(ei), ec, em/om, em/qm, ec/oc, ec/qc)
	}
}

// cpuTime is the process's CPU time so far (user + system), in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// kernelsOf names the GEMM kernel path the interpreter's first convolution was prepared for.
func kernelsOf(it *runtime.Interpreter) string {
	for _, op := range it.Ops() {
		if len(op.Kernel) > 5 && op.Kernel[:5] == "gemm-" {
			return op.Kernel
		}
	}
	return "unknown"
}

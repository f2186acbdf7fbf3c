package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// A small random-weight MobileNetV2 (16x16 input) quantized on CIFAR-10 images, then evaluated
// float and int8: the int8 model must agree with the float one.
func TestQuantizeThenEval(t *testing.T) {
	cifar := shareddata.Path(t, "cifar10/test_batch.bin")
	dir := t.TempDir()
	data, err := onnxtest.MobileNetV2Net(3).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	onnxPath := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(onnxPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.eim")
	rep := filepath.Join(dir, "r.html")
	mean := []string{"--mean", "0.4914,0.4822,0.4465", "--std", "0.2470,0.2435,0.2616"}
	args := append([]string{"quantize", "--in", onnxPath, "--calib", cifar, "--calib-count", "40", "--method", "eq",
		"--bias-correction", "--report", rep, "--report-count", "60", "--report-data", cifar, "--out", out}, mean...)
	code, stdout, stderr := cli(t, nil, args...)
	if code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, stderr)
	}
	// Not a terminal: progress as a line per tenth of the work.
	if !strings.Contains(stderr, "calibrating 4/40") || !strings.Contains(stderr, "calibrating 40/40") || strings.Contains(stderr, "\r") {
		t.Errorf("no progress lines on stderr: %q", stderr)
	}
	m := regexp.MustCompile(`agreement ([0-9.]+)%`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no agreement in output:\n%s", stdout)
	}
	if agree, err := strconv.ParseFloat(m[1], 64); err != nil || agree < 80 {
		t.Errorf("float/int8 agreement %s%% on random weights, want >= 80%%\n%s", m[1], stdout)
	}
	html, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "Worst layers", "same top-1 class", "eq, bias correction"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// eval on the int8 model (its preprocessing is stored) and on the float one (given again).
	code, stdout, stderr = cli(t, nil, "eval", "--model", out, "--data", cifar, "--count", "30")
	if code != 0 || !strings.Contains(stdout, "top-1") || !strings.Contains(stdout, "(30 images)") {
		t.Fatalf("eval int8: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, nil, append([]string{"eval", "--model", onnxPath, "--data", cifar, "--count", "30"}, mean...)...)
	if code != 0 || !strings.Contains(stdout, "(30 images)") {
		t.Fatalf("eval float: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestQuantizeErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	data, err := onnxtest.MobileNetV2Net(3).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	onnxPath := filepath.Join(dir, "m.onnx")
	os.WriteFile(onnxPath, data, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"quantize", "--in", onnxPath, "--out", "x"}, 2, "--in, --calib and --out are required"},
		{[]string{"quantize", "--in", onnxPath, "--calib", empty, "--out", "x"}, 1, "no images"},
		{[]string{"quantize", "--in", onnxPath, "--calib", empty, "--method", "magic", "--out", "x"}, 2, `--method "magic"`},
		{[]string{"quantize", "--in", onnxPath, "--calib", empty, "--size", "32x32", "--out", "x"}, 1, "input \"x\" is 16x16, the requested size is 32x32"},
		{[]string{"quantize", "--in", onnxPath, "--calib", empty, "--mean", "1,2", "--out", "x"}, 2, "want three comma-separated numbers"},
		{[]string{"eval", "--model", onnxPath}, 2, "--model and --data are required"},
	} {
		code, _, stderr := cli(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

// --calib with a directory of CIFAR-10 batches: class names from batches.meta.txt beside them, from
// --labels, or none with a WARN; a report without --report-data says its figures are from the
// calibration set.
func TestQuantizeCIFARDirLabels(t *testing.T) {
	dir := t.TempDir()
	batches := filepath.Join(dir, "batches")
	os.Mkdir(batches, 0o755)
	rng := uint32(1)
	var data []byte
	for i := range 60 {
		rec := make([]byte, 3073)
		rec[0] = byte(i % 10)
		for p := 1; p < len(rec); p++ {
			rng = rng*1664525 + 1013904223
			rec[p] = byte(rng >> 24)
		}
		data = append(data, rec...)
	}
	os.WriteFile(filepath.Join(batches, "data_batch_1.bin"), data[:30*3073], 0o644)
	os.WriteFile(filepath.Join(batches, "data_batch_2.bin"), data[30*3073:], 0o644)
	onnxBytes, err := onnxtest.MobileNetV2Net(3).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	onnxPath := filepath.Join(dir, "m.onnx")
	os.WriteFile(onnxPath, onnxBytes, 0o644)
	out := filepath.Join(dir, "m.eim")
	rep := filepath.Join(dir, "r.html")
	quant := func(extra ...string) (string, string) {
		t.Helper()
		args := append([]string{"quantize", "--in", onnxPath, "--calib", batches, "--calib-count", "10", "--out", out}, extra...)
		code, stdout, stderr := cli(t, nil, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, code, stderr)
		}
		return stdout, stderr
	}
	labelsOf := func() string {
		t.Helper()
		code, stdout, stderr := cli(t, nil, "inspect", out)
		if code != 0 {
			t.Fatalf("inspect: exit %d: %s", code, stderr)
		}
		return stdout
	}

	stdout, stderr := quant("--report", rep, "--report-count", "20")
	if want := "edgeinfer quantize: WARN: " + batches + ": no class names"; !strings.Contains(stderr, want) || !strings.Contains(stderr, "--labels") {
		t.Errorf("no WARN for a model without labels; stderr:\n%s", stderr)
	}
	if !strings.Contains(stdout, "on 10 images of "+batches) || !strings.Contains(stdout, "on the calibration set (not held out") {
		t.Errorf("output does not say the figures are from the calibration set:\n%s", stdout)
	}
	if html, _ := os.ReadFile(rep); !strings.Contains(string(html), "Accuracy on the calibration set") {
		t.Error("report does not say its figures are from the calibration set")
	}

	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	os.WriteFile(filepath.Join(batches, "batches.meta.txt"), []byte(names), 0o644)
	if _, stderr = quant(); strings.Contains(stderr, "WARN") {
		t.Errorf("WARN with batches.meta.txt:\n%s", stderr)
	}
	if l := labelsOf(); !strings.Contains(l, "airplane") {
		t.Errorf("batches.meta.txt's names not stored:\n%s", l)
	}

	labels := filepath.Join(dir, "labels.txt")
	os.WriteFile(labels, []byte(strings.ToUpper(names)), 0o644)
	if _, stderr = quant("--labels", labels); strings.Contains(stderr, "WARN") {
		t.Errorf("WARN with --labels:\n%s", stderr)
	}
	if l := labelsOf(); !strings.Contains(l, "AIRPLANE") {
		t.Errorf("--labels not stored:\n%s", l)
	}
}

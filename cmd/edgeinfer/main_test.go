package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// cli runs one command line in-process and returns exit code, stdout and stderr.
func cli(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	e := &env{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(&errb, nil)),
		getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func firstLabel(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) < 2 {
		t.Fatalf("no labels in output %q", out)
	}
	return strings.TrimSpace(lines[1])
}

func TestClassifyTFLiteAndConverted(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v2_1.0_224_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	img := shareddata.Path(t, "imagenet/grace_hopper.bmp")
	code, out, errs := cli(t, nil, "classify", "--model", model, "--labels", labels, img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if l := firstLabel(t, out); !strings.Contains(l, "military uniform") {
		t.Fatalf("first label %q, want military uniform; output:\n%s", l, out)
	}
	converted := filepath.Join(t.TempDir(), "mnv2.eim")
	if code, _, errs := cli(t, nil, "convert", "--labels", labels, model, converted); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errs)
	}
	// The converted file carries its labels: no --labels needed.
	code, out2, errs := cli(t, nil, "classify", "--top", "3", "--model", converted, img)
	if code != 0 {
		t.Fatalf("converted model: exit %d: %s", code, errs)
	}
	if l := firstLabel(t, out2); !strings.Contains(l, "military uniform") {
		t.Fatalf("converted model: first label %q; output:\n%s", l, out2)
	}
	code, out3, _ := cli(t, nil, "classify", "--model", converted, "--resize", "nearest", img)
	if code != 0 || out3 == out || !strings.Contains(firstLabel(t, out3), "military uniform") {
		t.Fatalf("nearest resize: exit %d, output:\n%s", code, out3)
	}
}

func TestInspect(t *testing.T) {
	model := shareddata.Path(t, "mlperf_tiny/pretrainedResnet_quant.tflite")
	code, out, errs := cli(t, nil, "inspect", "--tensors", model)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"16 ops", "Conv2D", "per-channel(axis 0", "FullyConnected", "12.5M MACs", "memory plan: activation arena", "arena offset"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

// With no --model at all and the default model out of reach, the embedded model works on an empty
// cache (the README's first command, offline); a public model is pulled (here from a local server serving the shared copies) and then used by name.
func TestDefaultsThenPull(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "imagenet/mobilenet_v2_1.0_224_quant.tflite"))
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	env := map[string]string{"EDGEINFER_MODELS_URL": srv.URL}
	// Offline (a mirror without the files): the embedded model, with a WARN.
	code, out, errs := cli(t, map[string]string{"EDGEINFER_MODELS_URL": t.TempDir()}, "classify", shareddata.Path(t, "imagenet/cat.bmp"))
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) < 6 || !cifarLine.MatchString(lines[1]) || !strings.Contains(errs, "WARN") {
		t.Fatalf("classify with the embedded default: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// The embedded model is the one models/zoo/RESULTS.md measured (77.98% on all 10,000 test images).
	code, out, errs = cli(t, nil, "eval", "--model", "cifar10_mobilenetv2_0.5", "--data", shareddata.Path(t, "cifar10/test_batch.bin"), "--count", "500")
	m := regexp.MustCompile(`top-1 ([0-9.]+)%`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("eval of the embedded model: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if top1, _ := strconv.ParseFloat(m[1], 64); top1 < 72 {
		t.Errorf("embedded model: top-1 %.2f%% on 500 CIFAR-10 test images, want at least 72%%", top1)
	}
	code, _, errs = cli(t, nil, "classify", "--model", "mobilenet_v2_1.0_224_quant", shareddata.Path(t, "imagenet/grace_hopper.bmp"))
	if code != 1 || !strings.Contains(errs, "models pull mobilenet_v2_1.0_224_quant") {
		t.Fatalf("classify before pull: exit %d, stderr %q; want a hint to pull", code, errs)
	}
	code, out, errs = cli(t, env, "models", "pull", "mobilenet_v2_1.0_224_quant")
	if code != 0 || !strings.Contains(out, "mobilenet_v2_1.0_224_quant -> ") || !strings.Contains(errs, "verified") {
		t.Fatalf("pull: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, errs = cli(t, nil, "classify", "--model", "mobilenet_v2_1.0_224_quant", shareddata.Path(t, "imagenet/grace_hopper.bmp"))
	if code != 0 || !strings.Contains(firstLabel(t, out), "military uniform") {
		t.Fatalf("classify with the pulled model: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, _ = cli(t, nil, "models", "list")
	if code != 0 || !strings.Contains(out, "pulled: ") || !strings.Contains(out, "cifar10_mobilenetv2_0.5") {
		t.Fatalf("models list: %d %q", code, out)
	}
}

// An image that fails does not stop the others, and the exit code says something failed.
func TestClassifyBadImage(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	notImage := filepath.Join(t.TempDir(), "notes.jpg")
	os.WriteFile(notImage, []byte("not a jpeg"), 0o644)
	code, out, errs := cli(t, nil, "classify", "--model", model, notImage, shareddata.Path(t, "imagenet/cat.bmp"))
	if code != 1 || !strings.Contains(errs, "notes.jpg: cannot decode image") || !strings.Contains(errs, "1 of 2 images failed") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, "cat.bmp:") {
		t.Fatalf("the good image was not classified: %q", out)
	}
}

// A live stream of labels from the generated test pattern, three frames.
func TestClassifySource(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	code, out, errs := cli(t, nil, "classify", "--model", model, "--source", "pattern:?size=320x240", "--frames", "3", "--top", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, "\n"); n < 3 {
		t.Fatalf("want a line per frame, got %q", out)
	}
	code, _, errs = cli(t, nil, "classify", "--model", model, "--source", "pattern:", "x.jpg")
	if code != 2 || !strings.Contains(errs, "not both") {
		t.Fatalf("images and --source: exit %d, %q", code, errs)
	}
}

func TestErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.tflite")
	os.WriteFile(bad, append([]byte{0, 0, 0, 0}, []byte("TFL3 and then garbage")...), 0o644)
	junk := filepath.Join(t.TempDir(), "junk.bin")
	os.WriteFile(junk, []byte("hello"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"classify", "--model", bad, "x.jpg"}, 1, bad + ": malformed flatbuffer"},
		{[]string{"classify", "--model", junk, "x.jpg"}, 1, "neither an edgeinfer model file nor a TensorFlow Lite model"},
		{[]string{"classify", "--resize", "cubic", "x.jpg"}, 2, "want bilinear or nearest"},
		{[]string{"classify", "--top", "0", "x.jpg"}, 2, "--top must be at least 1"},
		{[]string{"classify", "--model", "nosuchmodel", "x.jpg"}, 1, "not a known model name"},
		{[]string{"inspect"}, 2, "want exactly one model"},
		{[]string{"models", "pull", "nosuchmodel"}, 1, "unknown model"},
		{[]string{"convert", "a"}, 2, "want IN and OUT"},
		{[]string{"bench"}, 2, "exactly one of --arch and --model"},
		{[]string{"bench", "--arch", "alexnet"}, 2, "unknown architecture"},
		{[]string{"classify", "--requant", "magic", "x.jpg"}, 2, "unknown requantization"},
	}
	for _, c := range cases {
		code, _, errs := cli(t, nil, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

func TestBench(t *testing.T) {
	code, out, errs := cli(t, nil, "bench", "--arch", "mobilenet_v2_1.0_224", "--iterations", "2", "--warmup", "0", "--threads", "2")
	if code != 0 || !strings.Contains(out, "300.8 M MACs") || !strings.Contains(out, "median") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

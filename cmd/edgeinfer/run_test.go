package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// TestRun runs 'edgeinfer run' in-process on the test pattern with the embedded broker on a free
// port, for a few frames, taking the source from the environment and the rest from a config file
// and flags.
func TestRun(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	conf := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	if err := os.WriteFile(conf, []byte("source: file:nothing.jpg\ndevice: clitest\nlisten: \"off\"\nwatch:\n  - class: goldfish, Carassius auratus\n    on: 0.6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EDGEINFER_SOURCE": "pattern:?size=160x120&fps=60"}
	code, out, errs := cli(t, env, "run", "--config", conf, "--model", model, "--labels", labels,
		"--mqtt-listen", "127.0.0.1:0", "--frames", "5")
	if code != 0 {
		t.Fatalf("run: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if !strings.HasPrefix(out, "frame ") || !strings.Contains(errs, "embedded MQTT broker") || !strings.Contains(errs, "device=clitest") {
		t.Errorf("run: stdout %q\nstderr %s", out, errs)
	}
}

func TestRunErrors(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("source: \"pattern:\"\nmqtt:\n  brokr: tcp://x\n"), 0o644)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("source: \"pattern:\"\nlisten: \"off\"\nwatch:\n  - class: unicorn\n    on: 0.5\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--config", bad}, 1, bad + ": line 3: field brokr not found"},
		{[]string{"run", "--config", unknown, "--model", model, "--labels", labels, "--mqtt-listen", "127.0.0.1:0"}, 1,
			unknown + `:4: watch: unknown class "unicorn"`},
		{[]string{"run", "--frames", "-1"}, 2, "--frames must not be negative"},
		{[]string{"run", "extra"}, 2, "run takes no arguments"},
		{[]string{"run", "--config", filepath.Join(dir, "missing.yaml")}, 1, "missing.yaml"},
	} {
		code, _, errs := cli(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// eval of a float model prints the same accuracy whatever the number of images scored at once and
// the batch size (RepVGG-A0: batches through graph.RunBatch); --jobs 0 and --batch 0 are usage
// errors.
func TestEvalJobs(t *testing.T) {
	cifar := shareddata.Path(t, "cifar10/test_batch.bin")
	model := filepath.Join("..", "..", "models", "zoo", "onnx", "cifar10_mobilenetv2_0.5.onnx")
	args := []string{"eval", "--model", model, "--data", cifar, "--count", "40",
		"--mean", "0.4914,0.4822,0.4465", "--std", "0.2470,0.2435,0.2616"}
	var outs []string
	for _, jobs := range []string{"1", "3"} {
		code, stdout, stderr := cli(t, nil, append(args, "--jobs", jobs)...)
		if code != 0 || !strings.Contains(stdout, "(40 images)") {
			t.Fatalf("--jobs %s: exit %d\n%s%s", jobs, code, stdout, stderr)
		}
		outs = append(outs, stdout)
	}
	if outs[0] != outs[1] {
		t.Errorf("--jobs 1 printed %q, --jobs 3 %q", outs[0], outs[1])
	}
	repvgg := append([]string{"eval", "--model", filepath.Join("..", "..", "models", "zoo", "onnx", "cifar10_repvgg_a0.onnx")}, args[3:]...)
	outs = outs[:0]
	for _, batch := range []string{"1", "7"} {
		code, stdout, stderr := cli(t, nil, append(repvgg, "--jobs", "1", "--batch", batch)...)
		if code != 0 || !strings.Contains(stdout, "(40 images)") {
			t.Fatalf("--batch %s: exit %d\n%s%s", batch, code, stdout, stderr)
		}
		outs = append(outs, strings.TrimPrefix(stdout, repvgg[2]))
	}
	if outs[0] != outs[1] {
		t.Errorf("--batch 1 printed %q, --batch 7 %q", outs[0], outs[1])
	}
	if code, _, stderr := cli(t, nil, append(args, "--batch", "0")...); code != 2 || !strings.Contains(stderr, "--batch must be at least 1") {
		t.Errorf("--batch 0: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := cli(t, nil, append(args, "--jobs", "0")...); code != 2 || !strings.Contains(stderr, "--jobs must be at least 1") {
		t.Errorf("--jobs 0: exit %d, stderr %q", code, stderr)
	}
}

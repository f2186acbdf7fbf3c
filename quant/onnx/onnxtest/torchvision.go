package onnxtest

import (
	"os"
	"path/filepath"
	"testing"
)

// TorchvisionModels are the ImageNet classifiers models/train/torchvision_export.py writes (random
// weights, 1x3x224x224): one of each classic family that ships with torchvision.
var TorchvisionModels = []string{"resnet18", "mobilenet_v3_small", "shufflenet_v2_x0_5", "densenet121", "googlenet", "efficientnet_b0"}

// TorchvisionModel returns the path of the exported model name: in $EDGEINFER_TORCHVISION_DIR, or
// ~/.cache/edgeinfer/torchvision. It skips the test when the file is missing (torch is needed to
// make it: .ci/run installs Debian's python3-torch and runs the script), and fails it instead when
// EDGEINFER_REQUIRE_DATA=1.
func TorchvisionModel(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("EDGEINFER_TORCHVISION_DIR")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "edgeinfer", "torchvision")
		}
	}
	p := filepath.Join(dir, name+".onnx")
	if _, err := os.Stat(p); err != nil {
		msg := "torchvision export " + p + " missing: run /usr/bin/python3 models/train/torchvision_export.py " + dir + " (Debian python3-torch, python3-torchvision)"
		if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return p
}

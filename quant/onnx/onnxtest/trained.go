package onnxtest

import (
	"os"
	"path/filepath"
	"testing"
)

// TrainedModel returns the path of the zoo's float ONNX model name (e.g. "repvgg_a0") as
// models/train exports it: $EDGEINFER_TRAINED/NAME.onnx, by default ~/.cache/edgeinfer/train. When
// it is absent the test skips, or fails when EDGEINFER_REQUIRE_TRAINED=1 (CI never trains, so
// EDGEINFER_REQUIRE_DATA does not require it).
func TrainedModel(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("EDGEINFER_TRAINED")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "edgeinfer", "train")
	}
	path := filepath.Join(dir, name+".onnx")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("EDGEINFER_REQUIRE_TRAINED") == "1" {
			tb.Fatalf("trained model %s: %v (models/train writes it; EDGEINFER_TRAINED names its directory)", path, err)
		}
		tb.Skipf("skipping: trained model %s not found (models/train writes it; set EDGEINFER_TRAINED to its directory)", path)
	}
	return path
}

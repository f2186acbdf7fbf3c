package onnxtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// TrainedModel returns the path of the zoo's float ONNX model name (e.g. "repvgg_a0"): the copy
// committed in models/zoo/onnx (cifar10_NAME.onnx, float16 initializers, written by
// models/train/fp16.py from train.py's export), or $EDGEINFER_TRAINED/NAME.onnx when that variable
// names a directory of fresh exports (models/train writes ~/.cache/edgeinfer/train). The committed
// copy is part of the repository, so a missing file is a failure, not a skip.
func TrainedModel(tb testing.TB, name string) string {
	tb.Helper()
	var path string
	if dir := os.Getenv("EDGEINFER_TRAINED"); dir != "" {
		path = filepath.Join(dir, name+".onnx")
	} else {
		root, err := shareddata.ModuleRoot()
		if err != nil {
			tb.Fatal(err)
		}
		path = filepath.Join(root, "models", "zoo", "onnx", "cifar10_"+name+".onnx")
	}
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("trained model %s: %v", path, err)
	}
	return path
}

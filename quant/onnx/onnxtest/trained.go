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

// Shipped are the zoo's networks whose int8 models are shipped (models/zoo/*.eim); Families the
// issue-13 architecture families trained by models/train (briefly: see models/zoo/RESULTS.md),
// whose float ONNX copies are committed for the tests but whose int8 models are not shipped.
var (
	Shipped  = []string{"repvgg_a0", "mobilenetv2_0.5"}
	Families = []string{"resnet20", "se_resnet20", "densenet_bc", "mobilenetv3_small", "shufflenetv2_1.0", "vit_tiny"}
)

// Zoo returns the names of every committed trained network: Shipped, then Families.
func Zoo() []string { return append(append([]string(nil), Shipped...), Families...) }

package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// Help exits 0 and prints the usage; a usage error exits 2 with the command's name and a hint.
func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"models", "-h"}, 0, "edgeinfer models pull [--base-url URL|file:///DIR|DIR] NAME..."},
		{[]string{"models", "--help"}, 0, "usage: edgeinfer models [list]"},
		{[]string{"models", "list", "-h"}, 0, "usage: edgeinfer models [list]"},
		{[]string{"models", "pull", "-h"}, 0, "-base-url"},
		{[]string{"models", "list", "extra"}, 2, "edgeinfer models: models list takes no arguments\nRun 'edgeinfer models -h' for usage."},
		{[]string{"models", "pull"}, 2, "no model name given"},
		{[]string{"bench", "--arch", "resnet50"}, 2, `edgeinfer bench: --arch "resnet50": unknown architecture (known: mobilenet_v1_1.0_224, mobilenet_v2_1.0_224, repvgg_a0_224)`},
		{[]string{"bench", "-h"}, 0, "-arch"},
		{[]string{"version", "-h"}, 0, "usage: edgeinfer version"},
		{[]string{"classify", "--nosuchflag", "x.jpg"}, 2, "flag provided but not defined: -nosuchflag"},
	} {
		code, _, errs := cli(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// eval refuses a model whose class count is not the data set's, naming both counts: the embedded
// CIFAR-10 model (10 classes) on a folder of 3 classes, and the ImageNet MobileNetV2 (1001) on
// CIFAR-10's test batch.
func TestEvalClassCount(t *testing.T) {
	data := t.TempDir()
	for _, class := range []string{"ant", "bee", "wasp"} {
		os.MkdirAll(filepath.Join(data, class), 0o755)
		f, err := os.Create(filepath.Join(data, class, "1.png"))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, image.NewRGBA(image.Rect(0, 0, 32, 32)))
		f.Close()
	}
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	code, out, errs := cli(t, nil, "eval", "--model", "cifar10_mobilenetv2_0.5", "--data", data)
	if code != 2 || !strings.Contains(errs, "has 10 classes but the data set "+data+" has 3") || out != "" {
		t.Errorf("3-class folder: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	model := shareddata.Path(t, "imagenet/mobilenet_v2_1.0_224_quant.tflite")
	batch := shareddata.Path(t, "cifar10/test_batch.bin")
	code, _, errs = cli(t, nil, "eval", "--model", model, "--data", batch, "--count", "10")
	if code != 2 || !strings.Contains(errs, "edgeinfer eval: model "+model+" has 1001 classes but the data set "+batch+" has 10") {
		t.Errorf("ImageNet model on CIFAR-10: exit %d, stderr %q", code, errs)
	}
}

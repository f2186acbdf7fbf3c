package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func init() {
	commands["eval"] = command{"measure a model's top-1/top-5 accuracy on labelled images", runEval}
}

func runEval(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "eval", "--model M --data PATH")
	modelPath := fs.String("model", "", "model: float .onnx or .tflite, or an int8 edgeinfer or .tflite model")
	dataPath := fs.String("data", "", "labelled images: a directory with one subdirectory per class, or a CIFAR-10 .bin batch")
	count := fs.Int("count", 0, "number of images, spread over the set (0: all)")
	threads := fs.Int("threads", 1, "worker goroutines per int8 inference")
	jobs := fs.Int("jobs", quantize.Workers(), "images scored at once by a float model (one goroutine each)")
	batch := fs.Int("batch", 16, "images per float inference of a worker (the same scores as one at a time; the weights are read once per batch)")
	ff := addFloatFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *dataPath == "" {
		return usagef("--model and --data are required")
	}
	if *threads < 1 {
		return usagef("--threads must be at least 1")
	}
	if *jobs < 1 {
		return usagef("--jobs must be at least 1")
	}
	if *batch < 1 {
		return usagef("--batch must be at least 1")
	}
	if *count < 0 {
		return usagef("--count must not be negative")
	}
	// A name (an embedded or pulled model) becomes its file.
	path, err := resolveModel(*modelPath)
	if err != nil {
		return err
	}
	*modelPath = path
	set, err := dataset.Open(*dataPath)
	if err != nil {
		return err
	}
	// Int8 models (edgeinfer, TFLite) are loaded once: a float32 TFLite one is then read as a graph.
	var m *models.Model
	if !strings.EqualFold(filepath.Ext(*modelPath), ".onnx") {
		var closer io.Closer
		if m, closer, err = load.Model(*modelPath); err != nil {
			return err
		}
		defer closer.Close()
		if isFloatTFLite(*modelPath, m) {
			m = nil
		}
	}
	// A float classifier per worker (each keeps its own buffers; the graph is shared), one int8
	// classifier (its interpreter has its own --threads).
	var newClassifier func() (quantize.Classifier, error)
	workers := 1
	if m == nil {
		g, err := loadFloat(e, "eval", *modelPath)
		if err != nil {
			return err
		}
		in, err := ff.input(g)
		if err != nil {
			return err
		}
		if len(g.Outputs) > 0 {
			if sh := g.Outputs[0].Shape; len(sh) > 0 {
				if err := checkClasses(*modelPath, sh[len(sh)-1], set); err != nil {
					return err
				}
			}
		}
		if _, err := quantize.NewFloatClassifier(g, in); err != nil {
			return err
		}
		newClassifier = func() (quantize.Classifier, error) { return quantize.NewFloatClassifier(g, in) }
		workers = *jobs
	} else {
		if err := checkClasses(*modelPath, outputClasses(m), set); err != nil {
			return err
		}
		qc, err := quantize.NewInt8Classifier(m, runtime.Options{Threads: *threads})
		if err != nil {
			return err
		}
		defer qc.Close()
		newClassifier = func() (quantize.Classifier, error) { return qc, nil }
	}
	idx := dataset.Spread(set.Len(), *count)
	bar := newProgress(e.stderr, "evaluating")
	acc, unlabelled, err := quantize.Evaluate(ctx, newClassifier, set, idx, quantize.EvalOptions{Workers: workers, Batch: *batch, Progress: bar.update})
	if err != nil {
		return err
	}
	if acc.N == 0 {
		return fmt.Errorf("%s: no labelled images (want CLASS/IMAGE files or a CIFAR-10 batch)", *dataPath)
	}
	fmt.Fprintf(e.stdout, "%s on %s: %s\n", *modelPath, *dataPath, acc)
	if unlabelled > 0 {
		fmt.Fprintf(e.stdout, "(%d unlabelled images skipped)\n", unlabelled)
	}
	return nil
}

// isFloatTFLite tells a float32 TFLite model (m, loaded from path) from an int8 one.
func isFloatTFLite(path string, m *models.Model) bool {
	if f, err := load.Sniff(path); err != nil || f != load.FormatTFLite {
		return false
	}
	return len(m.Inputs) == 1 && m.Tensors[m.Inputs[0]].Type == models.Float32
}

// checkClasses refuses a model whose output has another number of classes than the data set:
// its accuracy would be measured against the wrong labels. Unknown counts (a dynamic dimension, a
// folder of unlabelled images) pass.
func checkClasses(modelPath string, modelClasses int, set dataset.Set) error {
	n := len(set.Classes())
	if _, ok := set.(*dataset.CIFAR10); ok && n == 0 {
		n = 10 // a CIFAR-10 batch without batches.meta.txt beside it
	}
	if modelClasses <= 0 || n == 0 || modelClasses == n {
		return nil
	}
	return usagef("model %s has %d classes but the data set %s has %d: evaluate a model on data with the same classes",
		modelPath, modelClasses, set.Name(), n)
}

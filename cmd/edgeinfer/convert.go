package main

import (
	"context"
	"fmt"
	"os"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func init() {
	commands["convert"] = command{"convert a TensorFlow Lite model to edgeinfer's model file", runConvert}
}

func runConvert(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "convert", "IN.tflite OUT")
	labelsFlag := fs.String("labels", "", "labels file to store in the model (default: NAME.labels.txt or labels.txt beside IN, if any)")
	fp16 := fs.Bool("fp16", false, "store float constants as float16")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want IN and OUT")
	}
	in, out := fs.Arg(0), fs.Arg(1)
	m, closer, err := load.Model(in)
	if err != nil {
		return err
	}
	defer closer.Close()
	// Refuse to write a model the runtime cannot run.
	if _, err := runtime.New(m, runtime.Options{}); err != nil {
		return err
	}
	lpath := *labelsFlag
	if lpath == "" && len(m.Labels) == 0 {
		lpath = sidecarLabels(in)
	}
	if lpath != "" {
		if m.Labels, err = readLabels(lpath); err != nil {
			return err
		}
	}
	if err := m.WriteFile(out, models.WriteOptions{Float16: *fp16}); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d ops, %d tensors, %d labels, %d bytes\n", out, len(m.Ops), len(m.Tensors), len(m.Labels), st.Size())
	return nil
}

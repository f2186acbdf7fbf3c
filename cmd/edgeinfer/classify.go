package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func init() {
	commands["classify"] = command{"classify images with a model and print the top labels", runClassify}
}

func runClassify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "classify", "IMAGE... | --source S")
	modelFlag := fs.String("model", "", "model file (.tflite or edgeinfer), or the name of a pulled model (default: "+defaultModelHint()+")")
	labelsFlag := fs.String("labels", "", "labels file, one per line (default: the model's own, or NAME.labels.txt beside it)")
	top := fs.Int("top", 5, "number of labels to print per image")
	resize := fs.String("resize", "", "resize method: bilinear or nearest (default: the model's, else bilinear)")
	threads := fs.Int("threads", 1, "worker goroutines per inference")
	requant := fs.String("requant", "xnnpack", "requantization: xnnpack (as TensorFlow Lite by default) or reference")
	source := fs.String("source", "", "classify a live stream instead of images: "+sourceHelp)
	frames := fs.Int("frames", 0, "with --source: stop after this many frames (0: until interrupted or the stream ends)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 && *source == "" {
		return usagef("no image given (or --source for a live stream)")
	}
	if fs.NArg() > 0 && *source != "" {
		return usagef("give images or --source, not both")
	}
	if *top < 1 {
		return usagef("--top must be at least 1")
	}
	if *resize != "" && *resize != camera.Bilinear && *resize != camera.Nearest {
		return usagef("--resize %q: want bilinear or nearest", *resize)
	}
	if *threads < 1 {
		return usagef("--threads must be at least 1")
	}
	mode, err := runtime.ParseRequantization(*requant)
	if err != nil {
		return usageError{err.Error()}
	}
	info, warn := oneShotNotes(e, "classify")
	path, err := modelOrDefault(ctx, e, *modelFlag, info, warn)
	if err != nil {
		return err
	}
	m, closer, err := load.Model(path)
	if err != nil {
		return err
	}
	defer closer.Close()
	it, err := runtime.New(m, runtime.Options{Threads: *threads, Requantization: mode})
	if err != nil {
		return err
	}
	defer it.Close()
	labels := m.Labels
	lpath := *labelsFlag
	if lpath == "" && len(labels) == 0 {
		lpath = sidecarLabels(path)
	}
	if lpath != "" {
		if labels, err = readLabels(lpath); err != nil {
			return err
		}
	}
	in := it.Input(0)
	pre, err := camera.NewPreprocessor(in.Type, in.Shape, in.Quant, m.Preprocess, *resize)
	if err != nil {
		return err
	}
	if *source != "" {
		return streamClassify(ctx, e, streamOptions{Source: *source, Top: *top, Frames: *frames}, it, pre, labels)
	}
	out := it.Output(0)
	scores := make([]float64, out.NumElements())
	groups := labelGroups(labels, len(scores))
	var failed int
	for _, imgPath := range fs.Args() {
		img, err := camera.LoadImage(imgPath)
		if err == nil {
			err = pre.Fill(in.Bytes(), img)
		}
		if err == nil {
			err = it.Run(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			msg := errorText(err)
			if !strings.Contains(msg, imgPath) {
				msg = imgPath + ": " + msg
			}
			fmt.Fprintf(e.stderr, "edgeinfer classify: %s\n", msg)
			failed++
			continue
		}
		if err := out.Dequantize(scores); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s:\n", imgPath)
		for _, k := range topK(scores, *top) {
			fmt.Fprintf(e.stdout, "  %.4f  %s\n", scores[k], labelOf(labels, k, len(scores)))
		}
		for _, g := range topGroups(groups, scores) {
			fmt.Fprintf(e.stdout, "  %.4f  %s (group)\n", g.score, g.name)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images failed", failed, fs.NArg())
	}
	return nil
}

func defaultModelHint() string {
	return zoo.Default + ", fetched once into the cache; offline the embedded " + zoo.Fallback
}

// topK returns the indices of the k largest scores, ties in index order.
func topK(scores []float64, k int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx[:min(k, len(idx))]
}

// labelOf names class k. A labels file with one line fewer than the classes is taken to omit the
// "background" class 0 that TensorFlow's classifiers have.
func labelOf(labels []string, k, classes int) string {
	if len(labels) == classes-1 {
		k--
	}
	if k >= 0 && k < len(labels) {
		return fmt.Sprintf("%s (%d)", labels[k], k)
	}
	return fmt.Sprintf("class %d", k)
}

// labelGroups returns the built-in label groups (models/zoo/GROUPS.md) for a model with these
// labels and that many scores, their classes as score indices.
func labelGroups(labels []string, classes int) []zoo.Group {
	gs := zoo.GroupsFor(labels)
	if len(labels) == classes-1 { // labelOf's missing "background": scores are one further on
		for i := range gs {
			for j := range gs[i].Classes {
				gs[i].Classes[j]++
			}
		}
	}
	return gs
}

type groupScore struct {
	name  string
	score float64
}

// Groups printed: the best ones at or above minGroupScore, at most maxGroups.
const (
	maxGroups     = 3
	minGroupScore = 0.05
)

// topGroups returns the best groups by score (the sum of their classes' scores), best first.
func topGroups(groups []zoo.Group, scores []float64) []groupScore {
	var gs []groupScore
	for _, g := range groups {
		var s float64
		for _, k := range g.Classes {
			if k < len(scores) {
				s += scores[k]
			}
		}
		if s >= minGroupScore {
			gs = append(gs, groupScore{g.Name, s})
		}
	}
	sort.SliceStable(gs, func(a, b int) bool { return gs[a].score > gs[b].score })
	return gs[:min(len(gs), maxGroups)]
}

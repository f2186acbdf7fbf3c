package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/report"
	"github.com/edgeinfer/edgeinfer/quant/tflitegraph"
	"github.com/edgeinfer/edgeinfer/quant/transform"
)

func init() {
	commands["quantize"] = command{"quantize a float ONNX or TFLite model to an int8 edgeinfer model, calibrated on images", runQuantize}
}

// Torchvision's ImageNet normalisation, the default for --mean and --std.
const (
	defaultMean = "0.485,0.456,0.406"
	defaultStd  = "0.229,0.224,0.225"
)

// floatFlags are the flags that describe a float model's input (quantize and eval).
type floatFlags struct {
	mean, std, size, resize *string
	crop                    *float64
}

func addFloatFlags(fs interface {
	String(name, value, usage string) *string
	Float64(name string, value float64, usage string) *float64
}) floatFlags {
	return floatFlags{
		mean:   fs.String("mean", defaultMean, "per-channel mean (R,G,B) of pixels scaled to [0, 1], torchvision convention"),
		std:    fs.String("std", defaultStd, "per-channel standard deviation (R,G,B)"),
		size:   fs.String("size", "", "input size HxW (default: the model's)"),
		resize: fs.String("resize", "bilinear", "resize method for images of another size: bilinear or nearest"),
		crop:   fs.Float64("crop", 0, "central fraction of the shorter side kept before resizing (0: none)"),
	}
}

func parseTriple(name, s string) ([3]float32, error) {
	var v [3]float32
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return v, usagef("--%s %q: want three comma-separated numbers (R,G,B)", name, s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return v, usagef("--%s %q: %v", name, s, err)
		}
		v[i] = float32(f)
	}
	return v, nil
}

// input resolves the float model's input description from the flags.
func (f floatFlags) input(g *graph.Graph) (quantize.Input, error) {
	pp := models.Preprocess{Resize: *f.resize, CropFraction: float32(*f.crop)}
	var err error
	if pp.Mean, err = parseTriple("mean", *f.mean); err != nil {
		return quantize.Input{}, err
	}
	if pp.Std, err = parseTriple("std", *f.std); err != nil {
		return quantize.Input{}, err
	}
	if pp.Resize != "bilinear" && pp.Resize != "nearest" {
		return quantize.Input{}, usagef("--resize %q: want bilinear or nearest", pp.Resize)
	}
	var h, w int
	if *f.size != "" {
		if _, err := fmt.Sscanf(*f.size, "%dx%d", &h, &w); err != nil || h <= 0 || w <= 0 {
			return quantize.Input{}, usagef("--size %q: want HxW, e.g. 32x32", *f.size)
		}
	}
	return quantize.ImageInput(g, pp, h, w)
}

// loadFloat reads a float model and simplifies it (BatchNorm folding, RepVGG fusion...), saying so
// on stderr as command cmd.
func loadFloat(e *env, cmd, path string) (*graph.Graph, error) {
	var g *graph.Graph
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		g, err = onnx.ReadFile(path)
	case ".tflite":
		g, err = tflitegraph.ReadFile(path)
	default:
		return nil, usagef("%s: want a float .onnx or .tflite model", path)
	}
	if err != nil {
		return nil, err
	}
	nodes := len(g.Nodes)
	counts, err := transform.Simplify(g)
	if err != nil {
		return nil, err
	}
	var done []string
	for name, n := range counts {
		if n > 0 {
			done = append(done, fmt.Sprintf("%s %d", name, n))
		}
	}
	sort.Strings(done)
	fmt.Fprintf(e.stderr, "edgeinfer %s: %s: %d graph nodes, %d after simplifying (%s)\n", cmd, path, nodes, len(g.Nodes), strings.Join(done, ", "))
	return g, nil
}

// progress draws a bar on w (stderr), redrawn at most every 100 ms on a terminal; elsewhere (a log
// file, CI) it prints a line at each tenth of the work instead of carriage-return redraws.
type progress struct {
	w     io.Writer
	what  string
	tty   bool
	tenth int
	last  time.Time
	start time.Time
}

func newProgress(w io.Writer, what string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, what: what, tty: tty, start: time.Now()}
}

func (p *progress) update(done, total int) {
	if !p.tty {
		t := done * 10 / max(total, 1)
		if t > p.tenth || done == total && p.tenth < 10 {
			p.tenth = t
			fmt.Fprintf(p.w, "%s %d/%d %.0fs\n", p.what, done, total, time.Since(p.start).Seconds())
		}
		return
	}
	if done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	n := done * width / max(total, 1)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %.0fs", p.what, strings.Repeat("#", n), strings.Repeat(".", width-n), done, total, time.Since(p.start).Seconds())
	if done == total {
		fmt.Fprintln(p.w)
	}
}

func runQuantize(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "quantize", "--in M.onnx --calib PATH --out M.eim")
	inPath := fs.String("in", "", "float model (.onnx, or float32 .tflite)")
	calibPath := fs.String("calib", "", "calibration images: a directory with one subdirectory per class, a directory of CIFAR-10 .bin batches (data_batch_*.bin; class names from its batches.meta.txt), or one .bin batch")
	count := fs.Int("calib-count", 500, "number of calibration images, spread over the set (0: all)")
	method := fs.String("method", quantize.Default, "activation ranges: minmax, percentile, kl or eq")
	pct := fs.Float64("percentile", 99.99, "with --method percentile: the percentile of |x| kept")
	bc := fs.Bool("bias-correction", false, "correct the mean error per channel of each convolution")
	perTensor := fs.Bool("per-tensor", false, "one scale per weight tensor instead of per output channel (the naive baseline)")
	ff := addFloatFlags(fs)
	softmax := fs.Bool("softmax", false, "end the model with a Softmax (probabilities, as the camera pipeline's thresholds expect) if it ends with logits")
	labelsPath := fs.String("labels", "", "labels file, one per line (default: the calibration set's class names)")
	reportPath := fs.String("report", "", "write an HTML accuracy report to this file")
	reportCount := fs.Int("report-count", 500, "with --report: images evaluated, float and int8")
	reportData := fs.String("report-data", "", "with --report: labelled images to evaluate on (default: the calibration set, other images of it)")
	out := fs.String("out", "", "output model file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *inPath == "" || *calibPath == "" || *out == "" {
		return usagef("--in, --calib and --out are required")
	}
	if *count < 0 {
		return usagef("--calib-count must not be negative")
	}
	switch *method {
	case quantize.MinMax, quantize.Percentile, quantize.KL, quantize.EQ:
	default:
		return usagef("--method %q: want minmax, percentile, kl or eq", *method)
	}
	g, err := loadFloat(e, "quantize", *inPath)
	if err != nil {
		return err
	}
	if *softmax {
		if _, err := transform.AppendSoftmax(g); err != nil {
			return err
		}
	}
	in, err := ff.input(g)
	if err != nil {
		return err
	}
	set, err := dataset.Open(*calibPath)
	if err != nil {
		return err
	}
	idx := dataset.Spread(set.Len(), *count)
	bar := newProgress(e.stderr, "calibrating")
	cal, err := quantize.Calibrate(ctx, g, in, set, idx, quantize.CalibrateOptions{Progress: bar.update})
	if err != nil {
		return err
	}
	labels := set.Classes()
	if *labelsPath != "" {
		if labels, err = readLabels(*labelsPath); err != nil {
			return err
		}
	}
	opt := quantize.Options{Method: *method, Percentile: *pct, PerTensor: *perTensor, BiasCorrection: *bc, Labels: labels,
		Name: strings.TrimSuffix(filepath.Base(*inPath), filepath.Ext(*inPath))}
	m, err := quantize.Quantize(ctx, cal, opt)
	if err != nil {
		return err
	}
	if classes := outputClasses(m); len(m.Labels) > 0 && classes != len(m.Labels) {
		if *labelsPath != "" {
			return fmt.Errorf("%s has %d labels, the model's output has %d classes", *labelsPath, len(m.Labels), classes)
		}
		// The calibration set's class names belong to another task (ImageNet's 1000 outputs
		// calibrated on CIFAR-10 pictures): keep none rather than wrong ones.
		fmt.Fprintf(e.stderr, "edgeinfer quantize: WARN: %s has %d classes, the model's output %d: no labels stored (give --labels FILE)\n", *calibPath, len(m.Labels), classes)
		m.Labels = nil
	} else if len(m.Labels) == 0 {
		fmt.Fprintf(e.stderr, "edgeinfer quantize: WARN: %s: no class names (no batches.meta.txt beside CIFAR-10 batches, no class folders): %s will print class numbers; give --labels FILE, one name per line\n", *calibPath, *out)
	}
	if err := m.WriteFile(*out, models.WriteOptions{}); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d ops, %d bytes; %s on %d images of %s\n", *out, len(m.Ops), st.Size(), describeMethod(opt), len(idx), *calibPath)
	if *reportPath == "" {
		return nil
	}
	evalSet, heldOut := set, false
	if *reportData != "" && !samePath(*reportData, *calibPath) {
		if evalSet, err = dataset.Open(*reportData); err != nil {
			return err
		}
		heldOut = true
	}
	r, err := report.Build(ctx, report.Input{Graph: g, Calibration: cal, Model: m, Set: evalSet, HeldOut: heldOut, Count: *reportCount,
		Options: opt, Command: "edgeinfer " + strings.Join(append([]string{"quantize"}, args...), " "),
		Progress: newProgress(e.stderr, "evaluating").update})
	if err != nil {
		return err
	}
	if err := r.WriteFile(*reportPath); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "float %s\nint8  %s\nagreement %.2f%%, on %s; report %s\n", r.Float, r.Int8, r.AgreementPercent(), r.Source(), *reportPath)
	return nil
}

// samePath reports whether a and b name the same file or directory.
func samePath(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(sa, sb)
}

func describeMethod(o quantize.Options) string {
	s := o.Method
	if o.Method == quantize.Percentile {
		s += fmt.Sprintf(" %g", o.Percentile)
	}
	if o.PerTensor {
		s += ", per-tensor weights"
	} else {
		s += ", per-channel weights"
	}
	if o.BiasCorrection {
		s += ", bias correction"
	}
	return s
}

// outputClasses is the size of the last dimension of the model's first output.
func outputClasses(m *models.Model) int {
	if len(m.Outputs) == 0 {
		return 0
	}
	s := m.Tensors[m.Outputs[0]].Shape
	if len(s) == 0 {
		return 1
	}
	return s[len(s)-1]
}

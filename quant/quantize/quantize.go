package quantize

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sort"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/calibrate"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// ErrNoCalibration is wrapped by the error for an empty calibration set.
var ErrNoCalibration = errors.New("empty calibration set")

// Input describes the model's image input: its graph input, size and preprocessing.
type Input struct {
	Name       string
	H, W       int
	Preprocess models.Preprocess
}

// ImageInput finds g's single image input [N, 3, H, W]. size overrides unknown H and W; it must
// agree with known ones.
func ImageInput(g *graph.Graph, pp models.Preprocess, h, w int) (Input, error) {
	if len(g.Inputs) != 1 {
		return Input{}, fmt.Errorf("quantize: graph %q has %d inputs, want one image", g.Name, len(g.Inputs))
	}
	t := g.Inputs[0]
	if len(t.Shape) != 4 || (t.Shape[1] != 3 && t.Shape[1] >= 0) || (t.Shape[0] > 1) {
		return Input{}, fmt.Errorf("quantize: graph %q: input %q has shape %v, want an image [1, 3, H, W]", g.Name, t.Name, t.Shape)
	}
	in := Input{Name: t.Name, H: t.Shape[2], W: t.Shape[3], Preprocess: pp}
	if h > 0 {
		if in.H > 0 && (in.H != h || in.W != w) {
			return Input{}, fmt.Errorf("quantize: graph %q: input %q is %dx%d, the requested size is %dx%d", g.Name, t.Name, in.H, in.W, h, w)
		}
		in.H, in.W = h, w
	}
	if in.H <= 0 || in.W <= 0 {
		return Input{}, fmt.Errorf("quantize: graph %q: input %q has shape %v: give the image size (HxW)", g.Name, t.Name, t.Shape)
	}
	if pp.Raw {
		return Input{}, fmt.Errorf("quantize: raw-pixel preprocessing is not supported for float models: give mean and std")
	}
	for c := range 3 {
		if !(pp.Std[c] > 0) {
			return Input{}, fmt.Errorf("quantize: preprocessing std[%d] = %g: want positive", c, pp.Std[c])
		}
	}
	return in, nil
}

// Pixels resizes and crops an image into the input's H x W RGB bytes (HWC), as the camera
// pipeline does for the quantized model.
type Pixels struct {
	in  Input
	pre *camera.Preprocessor
}

// NewPixels prepares for in.
func NewPixels(in Input) (*Pixels, error) {
	raw := models.Preprocess{Raw: true, Resize: in.Preprocess.Resize, CropFraction: in.Preprocess.CropFraction}
	pre, err := camera.NewPreprocessor(models.UInt8, []int{1, in.H, in.W, 3}, nil, &raw, "")
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	return &Pixels{in: in, pre: pre}, nil
}

// Of returns img's pixels.
func (p *Pixels) Of(img image.Image) ([]byte, error) {
	dst := make([]byte, p.in.H*p.in.W*3)
	if err := p.pre.Fill(dst, img); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	return dst, nil
}

// FloatInput turns HWC RGB pixels into the graph's NCHW float input: (v/255 - mean) / std.
func (in Input) FloatInput(px []byte) *graph.Tensor {
	hw := in.H * in.W
	data := make([]float32, 3*hw)
	for c := range 3 {
		m, s := in.Preprocess.Mean[c], in.Preprocess.Std[c]
		for p := range hw {
			data[c*hw+p] = (float32(px[3*p+c])/255 - m) / s
		}
	}
	return &graph.Tensor{Name: in.Name, Shape: []int{1, 3, in.H, in.W}, Data: data}
}

// Int8Input writes pixels into an int8 NHWC input tensor with quantization q, exactly as
// camera.Preprocessor does.
func (in Input) Int8Input(dst []byte, px []byte, q *models.Quant) {
	scale, zero := q.Scale[0], q.ZeroAt(0)
	for i, v := range px {
		c := i % 3
		real := (float32(v)/255 - in.Preprocess.Mean[c]) / in.Preprocess.Std[c]
		qv := int32(math.Round(float64(real/scale))) + zero
		dst[i] = byte(int8(max(-128, min(127, qv))))
	}
}

// Calibration is what Calibrate observed.
type Calibration struct {
	Graph  *graph.Graph
	Input  Input
	Obs    *calibrate.Observer
	Shapes map[string][]int
	// Samples are the full float runs of the first images (for the eq search).
	Samples []map[string]*graph.Tensor
	// Pixels and Labels of every calibration image (bias correction, comparisons).
	Pixels [][]byte
	Labels []int
}

// floatRun returns every tensor of the float graph on calibration image i: the kept sample when
// there is one, else a new run.
func (cal *Calibration) floatRun(i int) (map[string]*graph.Tensor, error) {
	if i < len(cal.Samples) {
		return cal.Samples[i], nil
	}
	return cal.Graph.RunAll(map[string]*graph.Tensor{cal.Input.Name: cal.Input.FloatInput(cal.Pixels[i])})
}

// CalibrateOptions tune Calibrate.
type CalibrateOptions struct {
	// Samples is how many full runs (every tensor of the first images) are kept for the eq search;
	// 0 means 32. Fewer are kept when they would pass SampleBytes (0 means 256 MiB): at least one.
	// With 8, the search over-fitted its clipping to them (the EfficientNet test network's output
	// SQNR on other images: 25.1 dB with 8, 35.8 with 32, 35.5 with 64).
	Samples     int
	SampleBytes int64
	Progress    func(done, total int) // called after each image, if set
	Workers     int                   // images run at once; 0 means Workers() (results do not depend on it)
}

// Calibrate runs g over set's images idx and collects statistics of every tensor.
func Calibrate(ctx context.Context, g *graph.Graph, in Input, set dataset.Set, idx []int, opt CalibrateOptions) (*Calibration, error) {
	if len(idx) == 0 || set == nil || set.Len() == 0 {
		return nil, fmt.Errorf("quantize: %w", ErrNoCalibration)
	}
	if opt.Samples == 0 {
		opt.Samples = 32
	}
	if opt.SampleBytes == 0 {
		opt.SampleBytes = 256 << 20
	}
	var kept int64 // bytes of the samples kept
	names := make([]string, 0, len(g.Initializers))
	for name := range g.Initializers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := checkFinite(g.Initializers[name]); err != nil {
			return nil, fmt.Errorf("quantize: graph %q: %w", g.Name, err)
		}
	}
	if _, err := NewPixels(in); err != nil {
		return nil, err
	}
	if opt.Workers == 0 {
		opt.Workers = Workers()
	}
	cal := &Calibration{Graph: g, Input: in, Obs: calibrate.NewObserver(), Shapes: map[string][]int{}}
	type run struct {
		vals  map[string]*graph.Tensor
		px    []byte
		label int
	}
	// The float runs go on in parallel (one Pixels per worker); the observer sees them in
	// image order, so the statistics do not depend on the worker count.
	err := inOrder(ctx, len(idx), opt.Workers, func() (*Pixels, error) { return NewPixels(in) },
		func(px *Pixels, k int) (run, error) {
			i := idx[k]
			img, label, err := set.Image(i)
			if err != nil {
				return run{}, err
			}
			p, err := px.Of(img)
			if err != nil {
				return run{}, err
			}
			vals, err := g.RunAll(map[string]*graph.Tensor{in.Name: in.FloatInput(p)})
			if err != nil {
				return run{}, fmt.Errorf("quantize: calibration image %d of %s: %w", i, set.Name(), err)
			}
			return run{vals, p, label}, nil
		},
		func(k int, r run) error {
			var size int64 // bytes of the run's activations
			for name, t := range r.vals {
				if g.Const(name) != nil {
					continue
				}
				cal.Obs.Observe(name, t.Data)
				if k == 0 {
					cal.Shapes[name] = slices.Clone(t.Shape)
				}
				size += 4 * int64(len(t.Data))
			}
			if len(cal.Samples) < opt.Samples {
				if len(cal.Samples) == 0 || kept+size <= opt.SampleBytes {
					cal.Samples = append(cal.Samples, r.vals)
					kept += size
				}
			}
			cal.Pixels = append(cal.Pixels, r.px)
			cal.Labels = append(cal.Labels, r.label)
			if opt.Progress != nil {
				opt.Progress(k+1, len(idx))
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, name := range cal.Obs.Names() {
		if s := cal.Obs.Stats[name]; math.IsNaN(float64(s.Min)) || math.IsNaN(float64(s.Max)) || math.IsInf(float64(s.Min), 0) || math.IsInf(float64(s.Max), 0) {
			return nil, fmt.Errorf("quantize: graph %q: tensor %q takes non-finite values on the calibration images (NaN or infinite weights?)", g.Name, name)
		}
	}
	return cal, nil
}

// Method names.
const (
	MinMax     = "minmax"
	Percentile = "percentile"
	KL         = "kl"
	EQ         = "eq"
	// Default is the method an empty Options.Method means, and edgeinfer quantize's default: eq
	// kept every network of the zoo within 0.36 point of float top-1 (models/zoo/RESULTS.md), where
	// minmax lost up to 0.59, kl up to 0.42 and percentile up to 0.34; no method was best on all.
	Default = EQ
)

// Options of Quantize.
type Options struct {
	Method     string  // minmax, percentile, kl or eq; empty means Default (eq)
	Percentile float64 // for percentile; 0 means 99.99
	// PerTensor quantizes each weight tensor with one scale: the naive baseline.
	PerTensor bool
	// BiasCorrection removes the mean output error per channel of each convolution.
	BiasCorrection bool
	Name           string
	Labels         []string
}

// MethodName is the method these options choose: Method, or Default when it is empty.
func (o Options) MethodName() string {
	if o.Method == "" {
		return Default
	}
	return o.Method
}

// Quantize builds the int8 model.
func Quantize(ctx context.Context, cal *Calibration, opt Options) (*models.Model, error) {
	ranges, err := chooseRanges(cal, opt)
	if err != nil {
		return nil, err
	}
	pp := cal.Input.Preprocess
	m := &models.Model{Name: opt.Name, Labels: opt.Labels, Preprocess: &pp}
	l := &lowering{g: cal.Graph, m: m, shapes: cal.Shapes, ranges: ranges, opt: &opt, tensor: map[string]int{}, flat: map[string][3]int{}}
	if err := l.lower(); err != nil {
		return nil, err
	}
	if opt.BiasCorrection {
		if err := correctBiases(ctx, cal, l); err != nil {
			return nil, err
		}
	}
	it, err := runtime.New(m, runtime.Options{})
	if err != nil {
		return nil, fmt.Errorf("quantize: the int8 model does not prepare: %w", err)
	}
	it.Close()
	return m, nil
}

func chooseRanges(cal *Calibration, opt Options) (map[string]Range, error) {
	var cm calibrate.Method
	opt.Method = opt.MethodName()
	switch opt.Method {
	case MinMax:
		cm = calibrate.MinMax
	case Percentile:
		cm = calibrate.Percentile
	case KL:
		cm = calibrate.KL
	case EQ:
		cm = calibrate.Cosine
	default:
		return nil, fmt.Errorf("quantize: unknown method %q (minmax, percentile, kl or eq)", opt.Method)
	}
	ranges := map[string]Range{}
	for _, name := range cal.Obs.Names() {
		m := cm
		if opt.Method == EQ && perImageVector(cal.Shapes[name]) {
			m = calibrate.MinMax
		}
		lo, hi, err := calibrate.Choose(cal.Obs.Stats[name], calibrate.Options{Method: m, Percentile: opt.Percentile})
		if err != nil {
			return nil, fmt.Errorf("quantize: tensor %q: %w", name, err)
		}
		ranges[name] = Range{lo, hi}
	}
	// Graph outputs (logits) keep their whole range: clipping the largest scores would tie the
	// classes that rank first.
	for _, o := range cal.Graph.Outputs {
		name := o.Name
		if p := cal.Graph.Producer(name); p >= 0 && cal.Graph.Nodes[p].Op == "Softmax" {
			name = cal.Graph.Nodes[p].Inputs[0] // the logits
		}
		if st := cal.Obs.Stats[name]; st != nil {
			lo, hi, err := calibrate.Choose(st, calibrate.Options{Method: calibrate.MinMax})
			if err != nil {
				return nil, fmt.Errorf("quantize: output %q: %w", name, err)
			}
			ranges[name] = Range{lo, hi}
		}
	}
	// The model input's range is known exactly: the preprocessing of pixels 0 and 255.
	pp := cal.Input.Preprocess
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for c := range 3 {
		for _, v := range []float32{0, 1} {
			r := (v - pp.Mean[c]) / pp.Std[c]
			lo, hi = min(lo, r), max(hi, r)
		}
	}
	ranges[cal.Input.Name] = Range{lo, hi}
	if opt.Method == EQ {
		if err := eqSearch(cal, ranges, opt); err != nil {
			return nil, err
		}
	}
	return ranges, nil
}

// perImageVector reports whether a tensor of this shape holds one value per channel and image (a
// global pooling's output, the squeeze-excitation and classifier layers after it: N×C or N×C×1×1).
// The eq method keeps such tensors at their min/max: each value scales a whole channel of the
// feature map (or is a class score), and a histogram of a few values per image says little about
// which are outliers. Clipping them cost the EfficientNet test network 10 dB of output SQNR.
func perImageVector(shape []int) bool {
	switch len(shape) {
	case 2:
		return true
	case 4:
		return shape[2] == 1 && shape[3] == 1
	}
	return false
}

// eqSearch refines the range of each tensor read by Conv or Gemm nodes: among clipping thresholds
// from 30% to 100% of its largest magnitude (and the cosine estimate), the one whose fake
// quantization gives the readers' outputs (with quantized weights) the highest cosine similarity
// to their float outputs on the calibration samples.
func eqSearch(cal *Calibration, ranges map[string]Range, opt Options) error {
	g := cal.Graph
	readers := map[string][]*graph.Node{}
	for _, n := range g.Nodes {
		if (n.Op == "Conv" || n.Op == "Gemm") && len(n.Inputs) > 1 && g.Const(n.Inputs[0]) == nil {
			readers[n.Inputs[0]] = append(readers[n.Inputs[0]], n)
		}
	}
	names := make([]string, 0, len(readers))
	for name := range readers {
		if name != cal.Input.Name && !perImageVector(cal.Shapes[name]) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		st := cal.Obs.Stats[name]
		if st == nil {
			continue
		}
		amax := max(-st.Min, st.Max)
		cands := []float32{max(-ranges[name].Lo, ranges[name].Hi)}
		for f := float32(0.3); f <= 1.0001; f += 0.05 {
			cands = append(cands, amax*f)
		}
		// The readers' sub-graphs (with quantized weights) do not depend on the candidate.
		subs := make([]*graph.Graph, len(readers[name]))
		for i, n := range readers[name] {
			subs[i] = nodeSub(g, n, cal.Samples, opt.PerTensor)
		}
		bestCos, best := -2.0, ranges[name]
		for _, t := range cands {
			r := Range{max(st.Min, -t), min(st.Max, t)}
			var cos float64
			for i, n := range readers[name] {
				c, err := nodeCosine(subs[i], n, cal.Samples, r)
				if err != nil {
					return fmt.Errorf("quantize: eq search on %q: %w", name, err)
				}
				cos += c
			}
			if cos > bestCos {
				bestCos, best = cos, r
			}
		}
		ranges[name] = best
	}
	return nil
}

// fakeQuant rounds x to the int8 grid of range r.
func fakeQuant(x []float32, r Range) []float32 {
	q := actQuant(r)
	s, z := q.Scale[0], float32(q.ZeroPoint[0])
	out := make([]float32, len(x))
	for i, v := range x {
		k := float32(math.Round(float64(v/s))) + z
		k = max(-128, min(127, k))
		out[i] = (k - z) * s
	}
	return out
}

// nodeSub returns a graph of node n (a Conv or Gemm) alone, with fake-quantized weights.
func nodeSub(g *graph.Graph, n *graph.Node, samples []map[string]*graph.Tensor, perTensor bool) *graph.Graph {
	w := g.Const(n.Inputs[1])
	rows := w.Shape[0]
	if n.Op == "Gemm" && n.AttrInt("transB", 0) == 0 {
		rows = -1 // columns are channels: quantize per tensor here, close enough for a search
	}
	sub := graph.New(g.Name)
	for _, in := range n.Inputs[1:] {
		if in != "" {
			sub.Initializers[in] = g.Const(in)
		}
	}
	wq := w.Clone()
	if rows > 0 {
		ws := weightScales(w.Data, rows, perTensor)
		per := len(w.Data) / rows
		for i, v := range w.Data {
			wq.Data[i] = float32(quantizeWeight(v, ws[i/per])) * ws[i/per]
		}
	}
	sub.Initializers[n.Inputs[1]] = wq
	sub.Inputs = []*graph.Tensor{{Name: n.Inputs[0], Shape: []int{-1, -1, -1, -1}[:len(samples[0][n.Inputs[0]].Shape)]}}
	sub.Nodes = []*graph.Node{n}
	sub.Outputs = []*graph.Tensor{{Name: n.Outputs[0]}}
	return sub
}

// nodeCosine runs sub (nodeSub of n) on the samples' values of n's input, fake-quantized to r,
// and returns the cosine similarity to n's float outputs.
func nodeCosine(sub *graph.Graph, n *graph.Node, samples []map[string]*graph.Tensor, r Range) (float64, error) {
	var sxy, sxx, syy float64
	for _, s := range samples {
		x := s[n.Inputs[0]]
		out, err := sub.Run(map[string]*graph.Tensor{n.Inputs[0]: {Name: x.Name, Shape: x.Shape, Data: fakeQuant(x.Data, r)}})
		if err != nil {
			return 0, err
		}
		want := s[n.Outputs[0]].Data
		for i, v := range out[n.Outputs[0]].Data {
			a, b := float64(want[i]), float64(v)
			sxy += a * b
			sxx += a * a
			syy += b * b
		}
	}
	if sxx == 0 || syy == 0 {
		return 0, nil
	}
	return sxy / math.Sqrt(sxx*syy), nil
}

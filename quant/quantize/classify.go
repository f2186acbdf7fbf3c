package quantize

import (
	"context"
	"fmt"
	"image"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// Classifier scores an image: one score per class (logits or probabilities).
type Classifier interface {
	Scores(ctx context.Context, img image.Image) ([]float64, error)
}

// BatchClassifier is a Classifier that can also score several images at once, giving each the
// scores Scores gives it alone (Evaluate uses it with EvalOptions.Batch).
type BatchClassifier interface {
	Classifier
	ScoresBatch(ctx context.Context, imgs []image.Image) ([][]float64, error)
}

// FloatClassifier runs a float graph.
type FloatClassifier struct {
	g         *graph.Graph
	in        Input
	px        *Pixels
	batchable bool      // g.Batchable(): ScoresBatch runs one graph.RunBatch
	batch     []float32 // ScoresBatch's input, reused
}

// NewFloatClassifier prepares g (its first output is the scores).
func NewFloatClassifier(g *graph.Graph, in Input) (*FloatClassifier, error) {
	px, err := NewPixels(in)
	if err != nil {
		return nil, err
	}
	return &FloatClassifier{g: g, in: in, px: px, batchable: g.Batchable() == nil}, nil
}

// ScoresBatch implements BatchClassifier: the images in one graph.RunBatch where the graph allows
// it (its weights then stream from memory once for all of them), one by one otherwise; the
// scores are bit for bit those of Scores either way.
func (f *FloatClassifier) ScoresBatch(ctx context.Context, imgs []image.Image) ([][]float64, error) {
	if !f.batchable || len(imgs) < 2 {
		out := make([][]float64, len(imgs))
		for i, img := range imgs {
			s, err := f.Scores(ctx, img)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	per := 3 * f.in.H * f.in.W
	if cap(f.batch) < len(imgs)*per {
		f.batch = make([]float32, len(imgs)*per)
	}
	x := &graph.Tensor{Name: f.in.Name, Shape: []int{len(imgs), 3, f.in.H, f.in.W}, Data: f.batch[:len(imgs)*per]}
	for i, img := range imgs {
		p, err := f.px.Of(img)
		if err != nil {
			return nil, err
		}
		copy(x.Data[i*per:], f.in.FloatInput(p).Data)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := f.g.RunBatch(map[string]*graph.Tensor{f.in.Name: x})
	if err != nil {
		return nil, err
	}
	t := res[f.g.Outputs[0].Name]
	if len(t.Shape) == 0 || t.Shape[0] != len(imgs) {
		return nil, fmt.Errorf("quantize: %q: a batch of %d images gave output %q of shape %v", f.g.Name, len(imgs), t.Name, t.Shape)
	}
	n := len(t.Data) / len(imgs)
	out := make([][]float64, len(imgs))
	for i := range out {
		s := make([]float64, n)
		for j, v := range t.Data[i*n : (i+1)*n] {
			s[j] = float64(v)
		}
		out[i] = s
	}
	return out, nil
}

// Scores implements Classifier.
func (f *FloatClassifier) Scores(ctx context.Context, img image.Image) ([]float64, error) {
	p, err := f.px.Of(img)
	if err != nil {
		return nil, err
	}
	out, err := f.g.Run(map[string]*graph.Tensor{f.in.Name: f.in.FloatInput(p)})
	if err != nil {
		return nil, err
	}
	t := out[f.g.Outputs[0].Name]
	s := make([]float64, len(t.Data))
	for i, v := range t.Data {
		s[i] = float64(v)
	}
	return s, nil
}

// Int8Classifier runs an int8 model with the preprocessing it stores (as classify does).
type Int8Classifier struct {
	it  *runtime.Interpreter
	pre *camera.Preprocessor
	buf []float64
}

// NewInt8Classifier prepares m.
func NewInt8Classifier(m *models.Model, opt runtime.Options) (*Int8Classifier, error) {
	it, err := runtime.New(m, opt)
	if err != nil {
		return nil, err
	}
	in := it.Input(0)
	pre, err := camera.NewPreprocessor(in.Type, in.Shape, in.Quant, m.Preprocess, "")
	if err != nil {
		it.Close()
		return nil, err
	}
	return &Int8Classifier{it: it, pre: pre, buf: make([]float64, it.Output(0).NumElements())}, nil
}

// Scores implements Classifier.
func (c *Int8Classifier) Scores(ctx context.Context, img image.Image) ([]float64, error) {
	if err := c.pre.Fill(c.it.Input(0).Bytes(), img); err != nil {
		return nil, err
	}
	if err := c.it.Run(ctx); err != nil {
		return nil, err
	}
	if err := c.it.Output(0).Dequantize(c.buf); err != nil {
		return nil, err
	}
	return append([]float64(nil), c.buf...), nil
}

// Close releases the interpreter.
func (c *Int8Classifier) Close() { c.it.Close() }

// Rank returns the position of class label among scores sorted descending (0: top-1), ties
// broken by index; -1 for an invalid label.
func Rank(scores []float64, label int) int {
	if label < 0 || label >= len(scores) {
		return -1
	}
	r := 0
	for i, s := range scores {
		if s > scores[label] || (s == scores[label] && i < label) {
			r++
		}
	}
	return r
}

// Argmax returns the index of the largest score (the first one on ties).
func Argmax(scores []float64) int {
	best := 0
	for i, s := range scores {
		if s > scores[best] {
			best = i
		}
	}
	return best
}

// Accuracy counts top-1 and top-5 hits.
type Accuracy struct {
	N, Top1, Top5 int
}

// Add records one prediction.
func (a *Accuracy) Add(scores []float64, label int) {
	a.N++
	r := Rank(scores, label)
	if r == 0 {
		a.Top1++
	}
	if r >= 0 && r < 5 {
		a.Top5++
	}
}

// String prints percentages.
func (a Accuracy) String() string {
	if a.N == 0 {
		return "no images"
	}
	return fmt.Sprintf("top-1 %.2f%%, top-5 %.2f%% (%d images)", 100*float64(a.Top1)/float64(a.N), 100*float64(a.Top5)/float64(a.N), a.N)
}

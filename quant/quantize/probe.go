package quantize

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// probe runs an int8 model whose chosen activation tensors are kept as outputs (the arena
// planner keeps outputs live to the end), so they can be read after a run.
type probe struct {
	it      *runtime.Interpreter
	in      Input
	tensors []int // model tensor indices of the probed outputs, in output order
	nhwc    []float64
}

func newProbe(m *models.Model, in Input, tensors []int) (*probe, error) {
	pm := *m
	pm.Outputs = slices.Clone(m.Outputs)
	var probed []int
	for _, t := range tensors {
		if !slices.Contains(pm.Outputs, t) {
			pm.Outputs = append(pm.Outputs, t)
		}
	}
	for _, t := range tensors {
		probed = append(probed, slices.Index(pm.Outputs, t))
	}
	it, err := runtime.New(&pm, runtime.Options{})
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	return &probe{it: it, in: in, tensors: probed}, nil
}

func (p *probe) run(ctx context.Context, px []byte) error {
	in := p.it.Input(0)
	p.in.Int8Input(in.Bytes(), px, in.Quant)
	return p.it.Run(ctx)
}

// value returns probed tensor k dequantized, in the float graph's layout (NCHW for rank 4).
func (p *probe) value(k int, dst []float64) ([]float64, error) {
	t := p.it.Output(p.tensors[k])
	n := t.NumElements()
	p.nhwc = slices.Grow(p.nhwc[:0], n)[:n]
	nhwcVals := p.nhwc
	if err := t.Dequantize(nhwcVals); err != nil {
		return nil, err
	}
	dst = slices.Grow(dst[:0], n)[:n]
	if len(t.Shape) != 4 {
		copy(dst, nhwcVals)
		return dst, nil
	}
	N, H, W, C := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	for b := range N {
		for y := range H {
			for x := range W {
				for c := range C {
					dst[((b*C+c)*H+y)*W+x] = nhwcVals[((b*H+y)*W+x)*C+c]
				}
			}
		}
	}
	return dst, nil
}

func (p *probe) close() { p.it.Close() }

// correctBiases removes the mean error per output channel of each Conv and FullyConnected
// output over the first calibration images (up to 64): the int8 model's dequantized output
// minus the float graph's.
func correctBiases(ctx context.Context, cal *Calibration, l *lowering) error {
	nImg := min(len(cal.Pixels), 64)
	if nImg == 0 {
		return fmt.Errorf("quantize: bias correction: %w", ErrNoCalibration)
	}
	// Float means per channel of every corrected output.
	floatMean := map[string][]float64{}
	for i := range nImg {
		vals, err := cal.floatRun(i)
		if err != nil {
			return fmt.Errorf("quantize: bias correction: %w", err)
		}
		for _, cr := range l.convs {
			t := vals[cr.output]
			acc := floatMean[cr.output]
			if acc == nil {
				acc = make([]float64, t.Shape[1])
				floatMean[cr.output] = acc
			}
			channelSums(acc, t.Data, t.Shape)
		}
	}
	// Layer by layer in execution order, each measured after the corrections upstream, on the
	// model cut just after the layer.
	for _, cr := range l.convs {
		cut := *l.m
		cut.Ops = l.m.Ops[:cr.op+1]
		cut.Outputs = nil
		p, err := newProbe(&cut, cal.Input, []int{l.tensor[cr.output]})
		if err != nil {
			return err
		}
		qMean := make([]float64, len(cr.wScales))
		var buf []float64
		for i := range nImg {
			if err := p.run(ctx, cal.Pixels[i]); err != nil {
				p.close()
				return err
			}
			if buf, err = p.value(0, buf); err != nil {
				p.close()
				return err
			}
			channelSums(qMean, buf, l.shapes[cr.output])
		}
		p.close()
		op := &l.m.Ops[cr.op]
		bt := &l.m.Tensors[op.Inputs[2]]
		bias := bt.Int32s()
		for c := range bias {
			err := (qMean[c] - floatMean[cr.output][c]) / float64(nImg)
			step := float64(cr.inScale) * float64(cr.wScales[c])
			if v := float64(bias[c]) - math.Round(err/step); v > math.MinInt32 && v < math.MaxInt32 {
				bias[c] = int32(v)
			}
		}
		bt.Data = int32Bytes(bias)
	}
	return nil
}

// channelSums adds each channel's mean over its positions (dimension 1 is the channel) to acc.
func channelSums[T float32 | float64](acc []float64, data []T, shape []int) {
	C := shape[1]
	inner := 1
	for _, d := range shape[2:] {
		inner *= d
	}
	N := shape[0]
	for b := range N {
		for c := range C {
			var s float64
			for _, v := range data[(b*C+c)*inner : (b*C+c+1)*inner] {
				s += float64(v)
			}
			acc[c] += s / float64(inner*N)
		}
	}
}

// LayerStat compares one int8 activation with the float graph's tensor of the same name.
type LayerStat struct {
	Tensor string
	Op     string  // the graph node that computes it
	SQNR   float64 // dB: 10 log10(Σ f² / Σ (f - q)²); +Inf when exact
	Cosine float64
}

// CompareLayers runs the float graph and the int8 model on the first n calibration images and
// compares every activation the model computes, in execution order.
func CompareLayers(ctx context.Context, cal *Calibration, m *models.Model, n int) ([]LayerStat, error) {
	n = min(n, len(cal.Pixels))
	byName := map[string]int{}
	for i := range m.Tensors {
		if !m.Tensors[i].IsConst() {
			byName[m.Tensors[i].Name] = i
		}
	}
	var stats []LayerStat
	var tensors []int
	// A 4-D tensor flattened with H*W > 1 is in HWC order in the model, CHW in the graph.
	flat := map[int][3]int{}
	for _, node := range cal.Graph.Nodes {
		for _, o := range node.Outputs { // every output of a Split
			t, ok := byName[o]
			if !ok {
				continue
			}
			in, out := cal.Shapes[node.Inputs[0]], cal.Shapes[o]
			if (node.Op == "Flatten" || node.Op == "Reshape") && len(in) == 4 && in[2]*in[3] > 1 && len(out) == 2 && out[0] == in[0] {
				flat[len(stats)] = [3]int{in[1], in[2], in[3]}
			}
			stats = append(stats, LayerStat{Tensor: o, Op: node.Op})
			tensors = append(tensors, t)
		}
	}
	p, err := newProbe(m, cal.Input, tensors)
	if err != nil {
		return nil, err
	}
	defer p.close()
	type acc struct{ ff, ee, fq, qq float64 }
	accs := make([]acc, len(stats))
	var buf []float64
	for i := range n {
		vals, err := cal.floatRun(i)
		if err != nil {
			return nil, err
		}
		if err := p.run(ctx, cal.Pixels[i]); err != nil {
			return nil, err
		}
		for k := range stats {
			if buf, err = p.value(k, buf); err != nil {
				return nil, err
			}
			if chw, ok := flat[k]; ok {
				buf = hwcToCHW(buf, chw)
			}
			f := vals[stats[k].Tensor].Data
			if len(f) != len(buf) {
				return nil, fmt.Errorf("quantize: tensor %q: %d float values, %d int8", stats[k].Tensor, len(f), len(buf))
			}
			a := &accs[k]
			for j, q := range buf {
				fv := float64(f[j])
				a.ff += fv * fv
				a.ee += (fv - q) * (fv - q)
				a.fq += fv * q
				a.qq += q * q
			}
		}
	}
	for k := range stats {
		a := accs[k]
		stats[k].SQNR = 10 * math.Log10(a.ff/a.ee)
		if a.ff > 0 && a.qq > 0 {
			stats[k].Cosine = a.fq / math.Sqrt(a.ff*a.qq)
		}
	}
	return stats, nil
}

// hwcToCHW reorders rows of C*H*W values from HWC to CHW.
func hwcToCHW(v []float64, chw [3]int) []float64 {
	C, H, W := chw[0], chw[1], chw[2]
	n := C * H * W
	out := make([]float64, len(v))
	for r := 0; r+n <= len(v); r += n {
		for c := range C {
			for y := range H {
				for x := range W {
					out[r+(c*H+y)*W+x] = v[r+(y*W+x)*C+c]
				}
			}
		}
	}
	return out
}

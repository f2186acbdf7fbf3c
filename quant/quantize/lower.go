package quantize

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// Range is the real interval an activation tensor is quantized to.
type Range struct{ Lo, Hi float32 }

// actQuant is int8 asymmetric quantization of [lo, hi] (which contains 0): 256 levels,
// zero point such that 0 is exact.
func actQuant(r Range) *models.Quant {
	lo, hi := min(r.Lo, 0), max(r.Hi, 0)
	if hi-lo < 1e-8 {
		hi = lo + 1e-8
	}
	scale := (hi - lo) / 255
	zero := int32(math.Round(float64(-128 - lo/scale)))
	zero = max(-128, min(127, zero))
	return &models.Quant{Scale: []float32{scale}, ZeroPoint: []int32{zero}}
}

// lowering builds a models.Model from a simplified graph.
type lowering struct {
	g      *graph.Graph
	m      *models.Model
	shapes map[string][]int // float shapes (NCHW) of every tensor
	ranges map[string]Range
	opt    *Options
	tensor map[string]int // graph tensor name -> model tensor index
	// flat records, for a 2-D tensor made by flattening an NCHW tensor with H*W > 1, the [C, H, W]
	// it came from: its model tensor holds the values in HWC order.
	flat map[string][3]int
	// layout records, for a graph tensor whose model tensor is not in the default layout (NHWC for
	// 4-D, the graph's order otherwise), which graph dimension each model dimension holds (see
	// shuffle.go); input materializes the default layout when another op reads it.
	layout map[string][]int
	// ConvInfo per model op index, for bias correction.
	convs []convRecord
}

// convRecord remembers how a Conv or FullyConnected was quantized, so that bias correction can
// adjust its bias.
type convRecord struct {
	op       int // model op index
	node     string
	output   string // graph tensor
	inScale  float32
	wScales  []float32
	biasData []int32
}

func (l *lowering) fail(i int, format string, args ...any) error {
	return fmt.Errorf("quantize: graph %q: %s: %s", l.g.Name, l.g.Describe(i), fmt.Sprintf(format, args...))
}

// nhwc turns an NCHW shape into NHWC (other ranks unchanged).
func nhwc(s []int) []int {
	if len(s) != 4 {
		return slices.Clone(s)
	}
	return []int{s[0], s[2], s[3], s[1]}
}

// activation adds (or returns) the int8 model tensor of graph tensor name, quantized with its own
// range or with q.
func (l *lowering) activation(name string, q *models.Quant) (int, error) {
	if i, ok := l.tensor[name]; ok {
		return i, nil
	}
	shape, ok := l.shapes[name]
	if !ok {
		return 0, fmt.Errorf("quantize: graph %q: tensor %q has no known shape (not computed by the calibration run)", l.g.Name, name)
	}
	if q == nil {
		r, ok := l.ranges[name]
		if !ok {
			return 0, fmt.Errorf("quantize: graph %q: tensor %q has no calibrated range", l.g.Name, name)
		}
		q = actQuant(r)
	}
	l.m.Tensors = append(l.m.Tensors, models.Tensor{Name: name, Type: models.Int8, Shape: nhwc(shape), Quant: q})
	i := len(l.m.Tensors) - 1
	l.tensor[name] = i
	return i, nil
}

func (l *lowering) constant(name string, typ models.DType, shape []int, q *models.Quant, data []byte) int {
	l.m.Tensors = append(l.m.Tensors, models.Tensor{Name: name, Type: typ, Shape: shape, Quant: q, Data: data})
	return len(l.m.Tensors) - 1
}

func (l *lowering) input(i int, n *graph.Node, k int) (int, error) {
	t, err := l.computed(i, n, k)
	if err != nil {
		return 0, err
	}
	if _, ok := l.layout[n.Inputs[k]]; ok {
		return l.materialize(n.Inputs[k])
	}
	return t, nil
}

// computed returns the model tensor of node input k, which must be a computed tensor quantized
// before the node, in whatever layout it has.
func (l *lowering) computed(i int, n *graph.Node, k int) (int, error) {
	if k >= len(n.Inputs) || n.Inputs[k] == "" {
		return 0, l.fail(i, "input %d missing", k)
	}
	if l.g.Const(n.Inputs[k]) != nil {
		return 0, l.fail(i, "input %d (%q) is a constant: only computed tensors are supported there", k, n.Inputs[k])
	}
	t, ok := l.tensor[n.Inputs[k]]
	if !ok {
		return 0, l.fail(i, "input %q is not quantized before it", n.Inputs[k])
	}
	return t, nil
}

func activationOf(n *graph.Node) (models.Activation, bool) {
	lo, hi, ok := graph.FusedClamp(n)
	if !ok {
		return models.ActNone, true
	}
	switch {
	case lo == 0 && math.IsInf(float64(hi), 1):
		return models.ActReLU, true
	case lo == 0 && hi == 6:
		return models.ActReLU6, true
	case lo == -1 && hi == 1:
		return models.ActReLUN1, true
	}
	return 0, false
}

// window reads strides, pads and dilations of a Conv or pool node.
func (l *lowering) window(i int, n *graph.Node, op *models.Op) error {
	if ap := n.AttrString("auto_pad", "NOTSET"); ap != "NOTSET" && ap != "" && ap != "VALID" {
		return l.fail(i, "auto_pad %s: only explicit pads are supported", ap)
	}
	if s := n.AttrInts("strides"); s != nil {
		op.Stride = [2]int{int(s[0]), int(s[1])}
	}
	if d := n.AttrInts("dilations"); d != nil {
		op.Dilation = [2]int{int(d[0]), int(d[1])}
	}
	if p := n.AttrInts("pads"); p != nil && n.AttrString("auto_pad", "NOTSET") != "VALID" {
		op.Pad = [4]int{int(p[0]), int(p[1]), int(p[2]), int(p[3])}
	}
	return nil
}

// weightScales returns per-channel (or, with perTensor, one shared) symmetric scales for rows of
// w (one row per output channel); a zero row gets a scale that keeps its bias representable.
func weightScales(w []float32, rows int, perTensor bool) []float32 {
	per := len(w) / rows
	s := make([]float32, rows)
	var all float32
	for r := range rows {
		var m float32
		for _, v := range w[r*per : (r+1)*per] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s[r] = m / 127
		all = max(all, m/127)
	}
	if perTensor {
		for r := range s {
			s[r] = all
		}
	}
	for r := range s {
		if s[r] == 0 {
			s[r] = 1e-6
		}
	}
	return s
}

func quantizeWeight(v, scale float32) int8 {
	q := math.RoundToEven(float64(v / scale))
	return int8(max(-127, min(127, q)))
}

func biasInt32(b []float32, inScale float32, wScales []float32) ([]int32, error) {
	out := make([]int32, len(wScales))
	for c := range out {
		var v float32
		if b != nil {
			v = b[c]
		}
		q := math.Round(float64(v) / (float64(inScale) * float64(wScales[c])))
		if q > math.MaxInt32 || q < math.MinInt32 {
			return nil, fmt.Errorf("bias %g of channel %d does not fit int32 at scale %g", v, c, inScale*wScales[c])
		}
		out[c] = int32(q)
	}
	return out, nil
}

func int32Bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// checkFinite reports a constant with a NaN or infinite value.
func checkFinite(t *graph.Tensor) error {
	for i, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("constant %q: element %d is %g", t.Name, i, v)
		}
	}
	return nil
}

func (l *lowering) lower() error {
	for _, in := range l.g.Inputs {
		idx, err := l.activation(in.Name, nil)
		if err != nil {
			return err
		}
		l.m.Inputs = append(l.m.Inputs, idx)
	}
	for i, n := range l.g.Nodes {
		var err error
		if f, ok := lowerers[n.Op]; ok {
			if err := f(l, i, n); err != nil {
				return err
			}
			continue
		}
		if len(n.Outputs) != 1 {
			return l.fail(i, "%d outputs: one is supported", len(n.Outputs))
		}
		switch n.Op {
		case "Conv":
			err = l.conv(i, n)
		case "Gemm":
			err = l.gemm(i, n)
		case "Add":
			err = l.add(i, n)
		case "GlobalAveragePool", "ReduceMean":
			err = l.mean(i, n)
		case "AveragePool", "MaxPool":
			err = l.pool(i, n)
		case "Flatten", "Reshape":
			err = l.reshape(i, n)
		case "Concat":
			err = l.concat(i, n)
		case "Pad":
			err = l.pad(i, n)
		case "Softmax":
			err = l.softmax(i, n)
		default:
			err = l.fail(i, "no int8 form (after the graph transforms, %s is left on its own)", n.Op)
		}
		if err != nil {
			return err
		}
	}
	for _, o := range l.g.Outputs {
		idx, ok := l.tensor[o.Name]
		if !ok {
			return fmt.Errorf("quantize: graph %q: output %q is not computed by a quantized op", l.g.Name, o.Name)
		}
		if _, ok := l.layout[o.Name]; ok {
			var err error
			if idx, err = l.materialize(o.Name); err != nil {
				return err
			}
		}
		l.m.Outputs = append(l.m.Outputs, idx)
	}
	return nil
}

func (l *lowering) conv(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	w := l.g.Const(n.Inputs[1])
	if w == nil || len(w.Shape) != 4 {
		return l.fail(i, "weights must be a 4-D constant")
	}
	if err := checkFinite(w); err != nil {
		return l.fail(i, "%v", err)
	}
	var bias []float32
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		b := l.g.Const(n.Inputs[2])
		if b == nil {
			return l.fail(i, "bias must be a constant")
		}
		if err := checkFinite(b); err != nil {
			return l.fail(i, "%v", err)
		}
		bias = b.Data
	}
	act, ok := activationOf(n)
	if !ok {
		return l.fail(i, "fused clamp is not ReLU, ReLU6 or ReLU-1..1")
	}
	M, CG, KH, KW := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	inShape := l.shapes[n.Inputs[0]]
	C := inShape[1]
	group := int(n.AttrInt("group", 1))
	op := models.Op{Name: n.Name, Activation: act}
	if err := l.window(i, n, &op); err != nil {
		return err
	}
	inQ := l.m.Tensors[x].Quant
	ws := weightScales(w.Data, M, l.opt.PerTensor)
	var wt []int8
	var wShape []int
	var axis int
	switch {
	case group == 1:
		op.Type = models.OpConv2D
		wShape = []int{M, KH, KW, CG}
		wt = make([]int8, len(w.Data))
		for m := range M {
			for c := range CG {
				for ky := range KH {
					for kx := range KW {
						wt[((m*KH+ky)*KW+kx)*CG+c] = quantizeWeight(w.Data[((m*CG+c)*KH+ky)*KW+kx], ws[m])
					}
				}
			}
		}
	case group == C && CG == 1:
		op.Type = models.OpDepthwiseConv2D
		op.DepthMultiplier = M / C
		wShape, axis = []int{1, KH, KW, M}, 3
		wt = make([]int8, len(w.Data))
		for m := range M {
			for ky := range KH {
				for kx := range KW {
					wt[(ky*KW+kx)*M+m] = quantizeWeight(w.Data[(m*KH+ky)*KW+kx], ws[m])
				}
			}
		}
	default:
		return l.fail(i, "grouped convolution (group %d of %d channels) is neither dense nor depthwise", group, C)
	}
	wq := &models.Quant{Scale: ws, ZeroPoint: make([]int32, M), Axis: axis}
	if l.opt.PerTensor {
		wq = &models.Quant{Scale: ws[:1], ZeroPoint: []int32{0}}
	}
	bq, err := biasInt32(bias, inQ.Scale[0], ws)
	if err != nil {
		return l.fail(i, "%v", err)
	}
	bScales := make([]float32, M)
	for c := range bScales {
		bScales[c] = inQ.Scale[0] * ws[c]
	}
	wi := l.constant(n.Inputs[1], models.Int8, wShape, wq, int8Bytes(wt))
	bi := l.constant(n.Name+"/bias", models.Int32, []int{M}, &models.Quant{Scale: bScales, ZeroPoint: make([]int32, M)}, int32Bytes(bq))
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	op.Inputs, op.Outputs = []int{x, wi, bi}, []int{out}
	l.m.Ops = append(l.m.Ops, op)
	l.convs = append(l.convs, convRecord{op: len(l.m.Ops) - 1, node: n.Name, output: n.Outputs[0], inScale: inQ.Scale[0], wScales: ws, biasData: bq})
	return nil
}

func (l *lowering) gemm(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	if n.AttrInt("transA", 0) != 0 {
		return l.fail(i, "transA is not supported")
	}
	b := l.g.Const(n.Inputs[1])
	if b == nil || len(b.Shape) != 2 {
		return l.fail(i, "B must be a 2-D constant")
	}
	if err := checkFinite(b); err != nil {
		return l.fail(i, "%v", err)
	}
	tb := n.AttrInt("transB", 0) != 0
	alpha, beta := n.AttrFloat("alpha", 1), n.AttrFloat("beta", 1)
	K, N := b.Shape[0], b.Shape[1]
	if tb {
		K, N = N, K
	}
	// W [N, K] = alpha * Bᵀ, columns reordered from CHW to HWC when the input was flattened NCHW.
	w := make([]float32, N*K)
	chw, flat := l.flat[n.Inputs[0]]
	for j := range N {
		for k := range K {
			var v float32
			if tb {
				v = b.Data[j*K+k]
			} else {
				v = b.Data[k*N+j]
			}
			dst := k
			if flat {
				c, hw := k/(chw[1]*chw[2]), k%(chw[1]*chw[2])
				dst = hw*chw[0] + c
			}
			w[j*K+dst] = alpha * v
		}
	}
	bias := make([]float32, N)
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		c := l.g.Const(n.Inputs[2])
		if c == nil {
			return l.fail(i, "C must be a constant")
		}
		switch {
		case len(c.Data) == 1:
			for j := range bias {
				bias[j] = beta * c.Data[0]
			}
		case len(c.Data) == N:
			for j := range bias {
				bias[j] = beta * c.Data[j]
			}
		default:
			return l.fail(i, "C of shape %v is not a bias per output", c.Shape)
		}
	}
	act, ok := activationOf(n)
	if !ok {
		return l.fail(i, "fused clamp is not ReLU, ReLU6 or ReLU-1..1")
	}
	inQ := l.m.Tensors[x].Quant
	ws := weightScales(w, N, l.opt.PerTensor)
	wt := make([]int8, len(w))
	for j := range N {
		for k := range K {
			wt[j*K+k] = quantizeWeight(w[j*K+k], ws[j])
		}
	}
	wq := &models.Quant{Scale: ws, ZeroPoint: make([]int32, N)}
	if l.opt.PerTensor {
		wq = &models.Quant{Scale: ws[:1], ZeroPoint: []int32{0}}
	}
	bq, err := biasInt32(bias, inQ.Scale[0], ws)
	if err != nil {
		return l.fail(i, "%v", err)
	}
	bScales := make([]float32, N)
	for c := range bScales {
		bScales[c] = inQ.Scale[0] * ws[c]
	}
	wi := l.constant(n.Inputs[1], models.Int8, []int{N, K}, wq, int8Bytes(wt))
	bi := l.constant(n.Name+"/bias", models.Int32, []int{N}, &models.Quant{Scale: bScales, ZeroPoint: make([]int32, N)}, int32Bytes(bq))
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpFullyConnected, Name: n.Name, Activation: act, Inputs: []int{x, wi, bi}, Outputs: []int{out}})
	l.convs = append(l.convs, convRecord{op: len(l.m.Ops) - 1, node: n.Name, output: n.Outputs[0], inScale: inQ.Scale[0], wScales: ws, biasData: bq})
	return nil
}

func (l *lowering) add(i int, n *graph.Node) error {
	if len(n.Inputs) != 2 {
		return l.fail(i, "want 2 inputs")
	}
	a, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	b, err := l.input(i, n, 1)
	if err != nil {
		return err
	}
	if !slices.Equal(l.shapes[n.Inputs[0]], l.shapes[n.Inputs[1]]) {
		return l.fail(i, "broadcasting Add (%v + %v) is not supported", l.shapes[n.Inputs[0]], l.shapes[n.Inputs[1]])
	}
	act, ok := activationOf(n)
	if !ok {
		return l.fail(i, "fused clamp is not ReLU, ReLU6 or ReLU-1..1")
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpAdd, Name: n.Name, Activation: act, Inputs: []int{a, b}, Outputs: []int{out}})
	return nil
}

func (l *lowering) mean(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	in := l.shapes[n.Inputs[0]]
	if len(in) != 4 {
		return l.fail(i, "input of rank %d: only 4-D (NCHW) is supported", len(in))
	}
	keep := true
	if n.Op == "ReduceMean" {
		axes := n.AttrInts("axes")
		ok := len(axes) == 2
		for _, a := range axes {
			if a < 0 {
				a += 4
			}
			ok = ok && (a == 2 || a == 3)
		}
		if !ok || axes[0] == axes[1] {
			return l.fail(i, "axes %v: only the spatial axes (2, 3) are supported", axes)
		}
		keep = n.AttrInt("keepdims", 1) != 0
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpMean, Name: n.Name, Axes: []int{1, 2}, KeepDims: keep, Inputs: []int{x}, Outputs: []int{out}})
	return nil
}

func (l *lowering) pool(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	op := models.Op{Type: models.OpMaxPool2D, Name: n.Name, Inputs: []int{x}}
	if n.Op == "AveragePool" {
		op.Type = models.OpAveragePool2D
		if n.AttrInt("count_include_pad", 0) != 0 && slices.ContainsFunc(n.AttrInts("pads"), func(v int64) bool { return v != 0 }) {
			return l.fail(i, "count_include_pad with padding is not supported (TensorFlow Lite averages the valid pixels only)")
		}
	}
	k := n.AttrInts("kernel_shape")
	if len(k) != 2 {
		return l.fail(i, "kernel_shape %v: want 2 values", k)
	}
	op.Kernel = [2]int{int(k[0]), int(k[1])}
	if err := l.window(i, n, &op); err != nil {
		return err
	}
	if op.Dilation != [2]int{} && op.Dilation != [2]int{1, 1} {
		return l.fail(i, "dilated pooling is not supported")
	}
	op.Dilation = [2]int{}
	if n.AttrInt("ceil_mode", 0) != 0 {
		if err := l.ceilPads(i, n, &op); err != nil {
			return err
		}
	}
	// Pools keep their input's quantization (TensorFlow Lite requires it).
	out, err := l.activation(n.Outputs[0], l.m.Tensors[x].Quant)
	if err != nil {
		return err
	}
	op.Outputs = []int{out}
	l.m.Ops = append(l.m.Ops, op)
	return nil
}

func (l *lowering) reshape(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	in, out := l.shapes[n.Inputs[0]], l.shapes[n.Outputs[0]]
	switch {
	case len(in) == 4 && len(out) == 2 && out[0] == in[0]:
		if in[2]*in[3] > 1 {
			l.flat[n.Outputs[0]] = [3]int{in[1], in[2], in[3]}
		}
	case len(in) == 4 && (in[2]*in[3] > 1 || len(out) == 4):
		return l.fail(i, "reshaping %v to %v across the channel layout is not supported", in, out)
	case len(in) != 4 && len(out) == 4:
		return l.fail(i, "reshaping %v to a 4-D %v is not supported", in, out)
	}
	o, err := l.activation(n.Outputs[0], l.m.Tensors[x].Quant)
	if err != nil {
		return err
	}
	if f, ok := l.flat[n.Inputs[0]]; ok {
		l.flat[n.Outputs[0]] = f
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpReshape, Name: n.Name, Inputs: []int{x}, Outputs: []int{o}})
	return nil
}

func (l *lowering) concat(i int, n *graph.Node) error {
	shape := l.shapes[n.Outputs[0]]
	ax := int(n.AttrInt("axis", 0))
	if ax < 0 {
		ax += len(shape)
	}
	if len(shape) == 4 {
		ax = []int{0, 3, 1, 2}[ax]
	}
	op := models.Op{Type: models.OpConcatenation, Name: n.Name, Axis: ax}
	for k := range n.Inputs {
		x, err := l.input(i, n, k)
		if err != nil {
			return err
		}
		op.Inputs = append(op.Inputs, x)
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	op.Outputs = []int{out}
	l.m.Ops = append(l.m.Ops, op)
	return nil
}

func (l *lowering) pad(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	if n.AttrString("mode", "constant") != "constant" || n.AttrFloat("value", 0) != 0 {
		return l.fail(i, "only zero constant padding is supported")
	}
	p := n.AttrInts("pads")
	r := len(p) / 2
	if r != 4 {
		return l.fail(i, "pads %v: only 4-D tensors are supported", p)
	}
	perm := []int{0, 2, 3, 1} // NHWC dimension d is NCHW dimension perm[d]
	var pads []int
	for _, d := range perm {
		if p[d] < 0 || p[d+r] < 0 {
			return l.fail(i, "negative pads %v are not supported", p)
		}
		pads = append(pads, int(p[d]), int(p[d+r]))
	}
	out, err := l.activation(n.Outputs[0], l.m.Tensors[x].Quant)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpPad, Name: n.Name, Paddings: pads, Inputs: []int{x}, Outputs: []int{out}})
	return nil
}

// softmax lowers a Softmax over the last axis; its output has TensorFlow Lite's fixed
// quantization for probabilities (scale 1/256, zero point -128).
func (l *lowering) softmax(i int, n *graph.Node) error {
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	r := len(l.shapes[n.Inputs[0]])
	if ax := n.AttrInt("axis", -1); ax != -1 && ax != int64(r-1) {
		return l.fail(i, "softmax over axis %d: only the last axis is supported", ax)
	}
	if r == 4 {
		return l.fail(i, "softmax of a 4-D tensor (channel axis moves in NHWC) is not supported")
	}
	out, err := l.activation(n.Outputs[0], &models.Quant{Scale: []float32{1.0 / 256}, ZeroPoint: []int32{-128}})
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpSoftmax, Name: n.Name, Beta: 1, Inputs: []int{x}, Outputs: []int{out}})
	return nil
}

package tflite

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeinfer/edgeinfer/models"
	mtflite "github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// ErrUnsupported is wrapped by errors about models the graph cannot express.
var ErrUnsupported = errors.New("unsupported")

// ReadFile reads a float32 TensorFlow Lite model and converts it to a graph.
func ReadFile(path string) (*graph.Graph, error) {
	m, err := mtflite.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

// Read converts the float32 TensorFlow Lite flatbuffer b; name (the file's base name) prefixes errors.
func Read(b []byte, name string) (*graph.Graph, error) {
	m, err := mtflite.Read(b, name)
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

// layout is how a graph tensor's elements relate to the TensorFlow Lite tensor it stands for.
type layout struct {
	nchw bool // rank 4: the graph holds N, C, H, W of TensorFlow Lite's N, H, W, C
	// hwc is set on a rank-2 tensor made by flattening an N, H, W, C tensor of these H, W, C with
	// H*W > 1: the graph's row is in C, H, W order.
	hwc [3]int
}

type converter struct {
	m      *models.Model
	g      *graph.Graph
	lay    map[int]layout
	names  map[int]string
	used   map[string]bool
	nNodes int
}

// FromModel converts a float32 model read by models/tflite into a graph.
func FromModel(m *models.Model) (*graph.Graph, error) {
	c := &converter{m: m, g: graph.New(m.Name), lay: map[int]layout{}, names: map[int]string{}, used: map[string]bool{}}
	if err := c.convert(); err != nil {
		return nil, fmt.Errorf("tflite: model %q: %w", m.Name, err)
	}
	if err := c.g.Validate(); err != nil {
		return nil, fmt.Errorf("tflite: model %q: %w", m.Name, err)
	}
	return c.g, nil
}

func (c *converter) convert() error {
	for _, id := range c.m.Inputs {
		t := &c.m.Tensors[id]
		if t.Type != models.Float32 {
			return fmt.Errorf("input %q is %s: only float32 models are imported into the float graph (quantized models run as they are): %w", t.Name, t.Type, ErrUnsupported)
		}
		shape := slices.Clone(t.Shape)
		if len(shape) == 4 {
			shape = []int{shape[0], shape[3], shape[1], shape[2]}
			c.lay[id] = layout{nchw: true}
		}
		c.g.Inputs = append(c.g.Inputs, &graph.Tensor{Name: c.name(id), Shape: shape})
	}
	for i := range c.m.Ops {
		if err := c.op(i, &c.m.Ops[i]); err != nil {
			return fmt.Errorf("op %d (%s %q): %w", i, c.m.Ops[i].Type, c.m.Ops[i].Name, err)
		}
	}
	for _, id := range c.m.Outputs {
		t := &c.m.Tensors[id]
		if l := c.lay[id]; l.hwc != [3]int{} {
			return fmt.Errorf("output %q is a flattened H, W, C tensor in another order: %w", t.Name, ErrUnsupported)
		}
		shape := slices.Clone(t.Shape)
		if c.lay[id].nchw {
			shape = []int{shape[0], shape[3], shape[1], shape[2]}
		}
		c.g.Outputs = append(c.g.Outputs, &graph.Tensor{Name: c.name(id), Shape: shape})
	}
	return nil
}

// name returns the graph name of model tensor id (its own name, made unique).
func (c *converter) name(id int) string {
	if n, ok := c.names[id]; ok {
		return n
	}
	n := c.m.Tensors[id].Name
	if n == "" {
		n = fmt.Sprintf("t%d", id)
	}
	for base, k := n, 1; c.used[n]; k++ {
		n = fmt.Sprintf("%s_%d", base, k)
	}
	c.used[n] = true
	c.names[id] = n
	return n
}

// fresh returns a new unique tensor name derived from base.
func (c *converter) fresh(base string) string {
	n := base
	for k := 1; c.used[n]; k++ {
		n = fmt.Sprintf("%s_%d", base, k)
	}
	c.used[n] = true
	return n
}

func (c *converter) node(op, name string, ins []string, out string, attrs map[string]graph.Attr) {
	c.nNodes++
	c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: name, Op: op, Inputs: ins, Outputs: []string{out}, Attrs: attrs})
}

// constant adds an initializer and returns its name.
func (c *converter) constant(base string, shape []int, data []float32) string {
	n := c.fresh(base)
	c.g.Initializers[n] = &graph.Tensor{Name: n, Shape: shape, Data: data}
	return n
}

// activation input: a graph tensor; returns the tensor holding the activation's result, which is the
// op's output name when out is set (the last node writes it).
func (c *converter) withActivation(op *models.Op, raw, out string) {
	switch op.Activation {
	case models.ActReLU:
		c.node("Relu", op.Name+"/relu", []string{raw}, out, nil)
	case models.ActReLU6:
		c.node("Clip", op.Name+"/relu6", []string{raw}, out, map[string]graph.Attr{"min": graph.Float(0), "max": graph.Float(6)})
	case models.ActReLUN1:
		c.node("Clip", op.Name+"/relu_n1", []string{raw}, out, map[string]graph.Attr{"min": graph.Float(-1), "max": graph.Float(1)})
	}
}

// emit adds the op's main node writing its output, followed by its fused activation if any.
func (c *converter) emit(op *models.Op, typ string, ins []string, attrs map[string]graph.Attr) {
	out := c.name(op.Outputs[0])
	if op.Activation == models.ActNone {
		c.node(typ, op.Name, ins, out, attrs)
		return
	}
	raw := c.fresh(out + "/preact")
	c.node(typ, op.Name, ins, raw, attrs)
	c.withActivation(op, raw, out)
}

// act returns the graph name of an activation input, which must be a computed float32 tensor.
func (c *converter) act(op *models.Op, j int) (string, *models.Tensor, error) {
	if j >= len(op.Inputs) || op.Inputs[j] < 0 {
		return "", nil, fmt.Errorf("input %d is absent", j)
	}
	t := &c.m.Tensors[op.Inputs[j]]
	if t.Type != models.Float32 {
		return "", nil, fmt.Errorf("input %q is %s, want float32: %w", t.Name, t.Type, ErrUnsupported)
	}
	if t.IsConst() {
		return "", nil, fmt.Errorf("input %q is a constant: %w", t.Name, ErrUnsupported)
	}
	return c.name(op.Inputs[j]), t, nil
}

func (c *converter) op(i int, op *models.Op) error {
	if len(op.Outputs) != 1 {
		return fmt.Errorf("%d outputs, want 1", len(op.Outputs))
	}
	if out := &c.m.Tensors[op.Outputs[0]]; out.Type != models.Float32 {
		return fmt.Errorf("output %q is %s, want float32: %w", out.Name, out.Type, ErrUnsupported)
	}
	if op.Name == "" {
		op.Name = fmt.Sprintf("op%d", i)
	}
	switch op.Type {
	case models.OpConv2D, models.OpDepthwiseConv2D:
		return c.conv(op)
	case models.OpFullyConnected:
		return c.fullyConnected(op)
	case models.OpAveragePool2D, models.OpMaxPool2D:
		return c.pool(op)
	case models.OpMean:
		return c.mean(op)
	case models.OpAdd:
		return c.add(op)
	case models.OpConcatenation:
		return c.concat(op)
	case models.OpReshape:
		return c.reshape(op)
	case models.OpPad:
		return c.pad(op)
	case models.OpSoftmax:
		return c.softmax(op)
	}
	return fmt.Errorf("no float graph equivalent: %w", ErrUnsupported)
}

// nhwcInput returns a rank-4 activation input in NCHW layout.
func (c *converter) nhwcInput(op *models.Op, j int) (string, []int, error) {
	name, t, err := c.act(op, j)
	if err != nil {
		return "", nil, err
	}
	if len(t.Shape) != 4 || !c.lay[op.Inputs[j]].nchw {
		return "", nil, fmt.Errorf("input %q has shape %v, want N, H, W, C", t.Name, t.Shape)
	}
	return name, t.Shape, nil
}

func (c *converter) setOut(op *models.Op, l layout) { c.lay[op.Outputs[0]] = l }

func one(v int) int64 {
	if v == 0 {
		return 1
	}
	return int64(v)
}

func spatialAttrs(op *models.Op) map[string]graph.Attr {
	return map[string]graph.Attr{
		"strides": graph.Ints(one(op.Stride[0]), one(op.Stride[1])),
		"pads":    graph.Ints(int64(op.Pad[0]), int64(op.Pad[1]), int64(op.Pad[2]), int64(op.Pad[3])),
	}
}

func (c *converter) conv(op *models.Op) error {
	in, is, err := c.nhwcInput(op, 0)
	if err != nil {
		return err
	}
	ft := &c.m.Tensors[op.Inputs[1]]
	if ft.Type != models.Float32 && ft.Type != models.Float16 {
		return fmt.Errorf("filter %q is %s, want float: %w", ft.Name, ft.Type, ErrUnsupported)
	}
	f := ft.Float32s()
	fs := ft.Shape
	kh, kw := fs[1], fs[2]
	var w []float32
	var wshape []int
	group := int64(1)
	if op.Type == models.OpConv2D {
		o, ci := fs[0], fs[3]
		w = make([]float32, len(f))
		wshape = []int{o, ci, kh, kw}
		for oc := range o {
			for y := range kh {
				for x := range kw {
					for ic := range ci {
						w[((oc*ci+ic)*kh+y)*kw+x] = f[((oc*kh+y)*kw+x)*ci+ic]
					}
				}
			}
		}
	} else {
		cm := fs[3]
		group = int64(is[3])
		w = make([]float32, len(f))
		wshape = []int{cm, 1, kh, kw}
		for oc := range cm {
			for y := range kh {
				for x := range kw {
					w[(oc*kh+y)*kw+x] = f[(y*kw+x)*cm+oc]
				}
			}
		}
	}
	if err := finite(ft.Name, w); err != nil {
		return err
	}
	ins := []string{in, c.constant(op.Name+"/weights", wshape, w)}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		bt := &c.m.Tensors[op.Inputs[2]]
		if bt.Type != models.Float32 && bt.Type != models.Float16 {
			return fmt.Errorf("bias %q is %s, want float: %w", bt.Name, bt.Type, ErrUnsupported)
		}
		b := bt.Float32s()
		if err := finite(bt.Name, b); err != nil {
			return err
		}
		ins = append(ins, c.constant(op.Name+"/bias", []int{len(b)}, b))
	}
	attrs := spatialAttrs(op)
	attrs["dilations"] = graph.Ints(one(op.Dilation[0]), one(op.Dilation[1]))
	attrs["group"] = graph.Int(group)
	attrs["kernel_shape"] = graph.Ints(int64(kh), int64(kw))
	c.emit(op, "Conv", ins, attrs)
	c.setOut(op, layout{nchw: true})
	return nil
}

func finite(name string, v []float32) error {
	for i, x := range v {
		if x != x || x > 3.4e38 || x < -3.4e38 {
			return fmt.Errorf("constant %q has a non-finite value %v at element %d", name, x, i)
		}
	}
	return nil
}

func (c *converter) fullyConnected(op *models.Op) error {
	in, it, err := c.act(op, 0)
	if err != nil {
		return err
	}
	wt := &c.m.Tensors[op.Inputs[1]]
	if wt.Type != models.Float32 && wt.Type != models.Float16 {
		return fmt.Errorf("weights %q are %s, want float: %w", wt.Name, wt.Type, ErrUnsupported)
	}
	w := wt.Float32s()
	if err := finite(wt.Name, w); err != nil {
		return err
	}
	nOut, nIn := wt.Shape[0], wt.Shape[1]
	l := c.lay[op.Inputs[0]]
	hwc := l.hwc
	switch {
	case len(it.Shape) == 2 && hwc == [3]int{}:
	case len(it.Shape) == 4 && l.nchw && it.Shape[1]*it.Shape[2]*it.Shape[3] == nIn:
		flat := c.fresh(in + "/flat")
		c.node("Flatten", op.Name+"/flatten", []string{in}, flat, map[string]graph.Attr{"axis": graph.Int(1)})
		in = flat
		if it.Shape[1]*it.Shape[2] > 1 {
			hwc = [3]int{it.Shape[1], it.Shape[2], it.Shape[3]}
		}
	case len(it.Shape) == 2:
	default:
		return fmt.Errorf("input %q of shape %v does not flatten into rows of %d: %w", it.Name, it.Shape, nIn, ErrUnsupported)
	}
	if hwc != [3]int{} {
		// Column j of the graph's row is C, H, W element j; TensorFlow Lite's weights are in H, W, C order.
		H, W, C := hwc[0], hwc[1], hwc[2]
		p := make([]float32, len(w))
		for o := range nOut {
			for ch := range C {
				for y := range H {
					for x := range W {
						p[o*nIn+(ch*H+y)*W+x] = w[o*nIn+(y*W+x)*C+ch]
					}
				}
			}
		}
		w = p
	}
	ins := []string{in, c.constant(op.Name+"/weights", []int{nOut, nIn}, w)}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		bt := &c.m.Tensors[op.Inputs[2]]
		if bt.Type != models.Float32 && bt.Type != models.Float16 {
			return fmt.Errorf("bias %q is %s, want float: %w", bt.Name, bt.Type, ErrUnsupported)
		}
		b := bt.Float32s()
		if err := finite(bt.Name, b); err != nil {
			return err
		}
		ins = append(ins, c.constant(op.Name+"/bias", []int{nOut}, b))
	}
	c.emit(op, "Gemm", ins, map[string]graph.Attr{"transB": graph.Int(1)})
	c.setOut(op, layout{})
	return nil
}

func (c *converter) pool(op *models.Op) error {
	in, _, err := c.nhwcInput(op, 0)
	if err != nil {
		return err
	}
	attrs := spatialAttrs(op)
	attrs["kernel_shape"] = graph.Ints(int64(op.Kernel[0]), int64(op.Kernel[1]))
	typ := "MaxPool"
	if op.Type == models.OpAveragePool2D {
		typ = "AveragePool" // count_include_pad 0: TensorFlow Lite averages over the window inside the input
	}
	c.emit(op, typ, []string{in}, attrs)
	c.setOut(op, layout{nchw: true})
	return nil
}

// nchwAxis maps an N, H, W, C axis to N, C, H, W.
func nchwAxis(a int) int64 { return [4]int64{0, 2, 3, 1}[a] }

func (c *converter) mean(op *models.Op) error {
	in, is, err := c.nhwcInput(op, 0)
	if err != nil {
		return err
	}
	axes := make([]int64, len(op.Axes))
	spatial := map[int]bool{}
	for k, a := range op.Axes {
		if a < 0 {
			a += len(is)
		}
		if a < 0 || a >= 4 {
			return fmt.Errorf("axis %d out of range for %v", op.Axes[k], is)
		}
		axes[k] = nchwAxis(a)
		spatial[a] = true
	}
	slices.Sort(axes)
	keep := int64(0)
	if op.KeepDims {
		keep = 1
	}
	switch {
	case op.KeepDims:
		c.emit(op, "ReduceMean", []string{in}, map[string]graph.Attr{"axes": graph.Ints(axes...), "keepdims": graph.Int(keep)})
		c.setOut(op, layout{nchw: true})
	case len(spatial) == 2 && spatial[1] && spatial[2]:
		// N, H, W, C -> N, C: the graph's N, C, H, W reduced over H and W is N, C as well.
		c.emit(op, "ReduceMean", []string{in}, map[string]graph.Attr{"axes": graph.Ints(axes...), "keepdims": graph.Int(0)})
		c.setOut(op, layout{})
	default:
		return fmt.Errorf("mean over axes %v without keep_dims: %w", op.Axes, ErrUnsupported)
	}
	return nil
}

func (c *converter) add(op *models.Op) error {
	a, at, err := c.act(op, 0)
	if err != nil {
		return err
	}
	b, bt, err := c.act(op, 1)
	if err != nil {
		return err
	}
	la, lb := c.lay[op.Inputs[0]], c.lay[op.Inputs[1]]
	if !slices.Equal(at.Shape, bt.Shape) || la != lb {
		return fmt.Errorf("inputs of shapes %v and %v (broadcasting): %w", at.Shape, bt.Shape, ErrUnsupported)
	}
	c.emit(op, "Add", []string{a, b}, nil)
	c.setOut(op, la)
	return nil
}

func (c *converter) concat(op *models.Op) error {
	var ins []string
	var l layout
	rank := 0
	for j := range op.Inputs {
		n, t, err := c.act(op, j)
		if err != nil {
			return err
		}
		lj := c.lay[op.Inputs[j]]
		if j == 0 {
			l, rank = lj, len(t.Shape)
		} else if lj != l {
			return fmt.Errorf("inputs in different layouts: %w", ErrUnsupported)
		}
		ins = append(ins, n)
	}
	if l.hwc != [3]int{} {
		return fmt.Errorf("concatenation of flattened H, W, C tensors: %w", ErrUnsupported)
	}
	a := op.Axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return fmt.Errorf("axis %d out of range for rank %d", op.Axis, rank)
	}
	ax := int64(a)
	if l.nchw {
		ax = nchwAxis(a)
	}
	c.emit(op, "Concat", ins, map[string]graph.Attr{"axis": graph.Int(ax)})
	c.setOut(op, l)
	return nil
}

func (c *converter) reshape(op *models.Op) error {
	in, it, err := c.act(op, 0)
	if err != nil {
		return err
	}
	out := &c.m.Tensors[op.Outputs[0]]
	l := c.lay[op.Inputs[0]]
	name := c.name(op.Outputs[0])
	switch {
	case len(it.Shape) == 4 && l.nchw && len(out.Shape) == 2 && out.Shape[0] == it.Shape[0]:
		c.node("Flatten", op.Name, []string{in}, name, map[string]graph.Attr{"axis": graph.Int(1)})
		if it.Shape[1]*it.Shape[2] > 1 && it.Shape[3] > 1 {
			c.setOut(op, layout{hwc: [3]int{it.Shape[1], it.Shape[2], it.Shape[3]}})
		}
	case len(it.Shape) == 2 && len(out.Shape) == 2 && l.hwc == [3]int{}:
		c.node("Reshape", op.Name, []string{in}, name, map[string]graph.Attr{"shape": graph.Ints(int64(out.Shape[0]), int64(out.Shape[1]))})
	case len(it.Shape) == 4 && l.nchw && len(out.Shape) == 4 && it.Shape[1]*it.Shape[2] == 1 && out.Shape[1]*out.Shape[2] == 1:
		c.node("Identity", op.Name, []string{in}, name, nil)
		c.setOut(op, l)
	case len(it.Shape) == 2 && l.hwc == [3]int{} && len(out.Shape) == 4 && out.Shape[1]*out.Shape[2] == 1:
		c.node("Reshape", op.Name, []string{in}, name, map[string]graph.Attr{"shape": graph.Ints(int64(out.Shape[0]), int64(out.Shape[3]), 1, 1)})
		c.setOut(op, layout{nchw: true})
	default:
		return fmt.Errorf("reshape from %v to %v: %w", it.Shape, out.Shape, ErrUnsupported)
	}
	return nil
}

func (c *converter) pad(op *models.Op) error {
	in, is, err := c.nhwcInput(op, 0)
	if err != nil {
		return err
	}
	if len(op.Paddings) != 8 {
		return fmt.Errorf("%d paddings for a rank-4 input", len(op.Paddings))
	}
	pads := make([]int64, 8)
	for d := range 4 {
		nd := nchwAxis(d)
		pads[nd] = int64(op.Paddings[2*d])
		pads[4+nd] = int64(op.Paddings[2*d+1])
	}
	_ = is
	c.emit(op, "Pad", []string{in}, map[string]graph.Attr{"pads": graph.Ints(pads...), "mode": graph.String("constant"), "value": graph.Float(0)})
	c.setOut(op, layout{nchw: true})
	return nil
}

func (c *converter) softmax(op *models.Op) error {
	in, it, err := c.act(op, 0)
	if err != nil {
		return err
	}
	if op.Beta != 0 && op.Beta != 1 {
		return fmt.Errorf("beta %v: %w", op.Beta, ErrUnsupported)
	}
	if len(it.Shape) != 2 || c.lay[op.Inputs[0]].hwc != [3]int{} {
		return fmt.Errorf("input %q of shape %v, want N, classes: %w", it.Name, it.Shape, ErrUnsupported)
	}
	c.emit(op, "Softmax", []string{in}, map[string]graph.Attr{"axis": graph.Int(1)})
	c.setOut(op, layout{})
	return nil
}

package tflitegraph

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// ReadFile reads a float .tflite file.
func ReadFile(path string) (*graph.Graph, error) {
	m, err := tflite.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

type converter struct {
	m     *models.Model
	g     *graph.Graph
	names []string          // graph name of each model tensor
	flat  map[string][3]int // 2-D tensors flattened from NCHW [C, H, W] with H*W > 1
}

func (c *converter) fail(i int, format string, args ...any) error {
	op := &c.m.Ops[i]
	return fmt.Errorf("tflitegraph: model %q: op %d (%s %q): %s", c.m.Name, i, op.Type, op.Name, fmt.Sprintf(format, args...))
}

// FromModel converts a float32 model.
func FromModel(m *models.Model) (*graph.Graph, error) {
	c := &converter{m: m, g: graph.New(m.Name), names: make([]string, len(m.Tensors)), flat: map[string][3]int{}}
	seen := map[string]bool{}
	for i := range m.Tensors {
		name := m.Tensors[i].Name
		if name == "" || seen[name] {
			name = fmt.Sprintf("%s#%d", name, i)
		}
		seen[name] = true
		c.names[i] = name
	}
	for _, t := range m.Inputs {
		tt := &m.Tensors[t]
		if tt.Type != models.Float32 {
			return nil, fmt.Errorf("tflitegraph: model %q: input %q is %s: not a float model (use 'edgeinfer convert' for quantized models)", m.Name, tt.Name, tt.Type)
		}
		c.g.Inputs = append(c.g.Inputs, &graph.Tensor{Name: c.names[t], Shape: nchw(tt.Shape)})
	}
	for i := range m.Ops {
		if err := c.op(i); err != nil {
			return nil, err
		}
	}
	for _, t := range m.Outputs {
		c.g.Outputs = append(c.g.Outputs, &graph.Tensor{Name: c.names[t], Shape: nchw(m.Tensors[t].Shape)})
	}
	if err := c.g.Validate(); err != nil {
		return nil, fmt.Errorf("tflitegraph: %w", err)
	}
	return c.g, nil
}

func nchw(s []int) []int {
	if len(s) != 4 {
		return append([]int(nil), s...)
	}
	return []int{s[0], s[3], s[1], s[2]}
}

// constant adds model tensor t's float data as an initializer, transformed by f (nil: as is).
func (c *converter) constant(i, t int, name string, shape []int, f func(src []float32) []float32) (string, error) {
	tt := &c.m.Tensors[t]
	if tt.Type != models.Float32 && tt.Type != models.Float16 {
		return "", c.fail(i, "constant %q is %s: not a float model", tt.Name, tt.Type)
	}
	data := tt.Float32s()
	for k, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return "", c.fail(i, "constant %q: element %d is %g", tt.Name, k, v)
		}
	}
	if f != nil {
		data = f(data)
	}
	c.g.Initializers[name] = &graph.Tensor{Name: name, Shape: shape, Data: data}
	return name, nil
}

func (c *converter) activation(i int, attrs map[string]graph.Attr) error {
	inf := float32(math.Inf(1))
	switch c.m.Ops[i].Activation {
	case models.ActNone:
		return nil
	case models.ActReLU:
		attrs[graph.ActMin], attrs[graph.ActMax] = graph.Float(0), graph.Float(inf)
	case models.ActReLU6:
		attrs[graph.ActMin], attrs[graph.ActMax] = graph.Float(0), graph.Float(6)
	case models.ActReLUN1:
		attrs[graph.ActMin], attrs[graph.ActMax] = graph.Float(-1), graph.Float(1)
	default:
		return c.fail(i, "activation %s not supported", c.m.Ops[i].Activation)
	}
	return nil
}

func stride(v int) int64 { return int64(max(v, 1)) }

func (c *converter) window(op *models.Op, attrs map[string]graph.Attr) {
	attrs["strides"] = graph.Ints(stride(op.Stride[0]), stride(op.Stride[1]))
	attrs["pads"] = graph.Ints(int64(op.Pad[0]), int64(op.Pad[1]), int64(op.Pad[2]), int64(op.Pad[3]))
}

func (c *converter) activationIn(i, k int) (string, *models.Tensor, error) {
	op := &c.m.Ops[i]
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return "", nil, c.fail(i, "input %d missing", k)
	}
	t := &c.m.Tensors[op.Inputs[k]]
	if t.IsConst() {
		return "", nil, c.fail(i, "input %d (%q) is a constant: only computed tensors are supported there", k, t.Name)
	}
	if t.Type != models.Float32 {
		return "", nil, c.fail(i, "input %q is %s: not a float model (use 'edgeinfer convert' for quantized models)", t.Name, t.Type)
	}
	return c.names[op.Inputs[k]], t, nil
}

func (c *converter) add(op *models.Op, typ string, inputs []string, attrs map[string]graph.Attr) {
	c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: op.Name, Op: typ, Inputs: inputs, Outputs: []string{c.names[op.Outputs[0]]}, Attrs: attrs})
}

func (c *converter) op(i int) error {
	op := &c.m.Ops[i]
	if len(op.Outputs) != 1 {
		return c.fail(i, "%d outputs", len(op.Outputs))
	}
	attrs := map[string]graph.Attr{}
	if err := c.activation(i, attrs); err != nil {
		return err
	}
	switch op.Type {
	case models.OpConv2D, models.OpDepthwiseConv2D:
		x, xt, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		if len(op.Inputs) < 2 || op.Inputs[1] < 0 {
			return c.fail(i, "no filter")
		}
		w := &c.m.Tensors[op.Inputs[1]]
		if len(w.Shape) != 4 || len(xt.Shape) != 4 {
			return c.fail(i, "filter %v, input %v: want 4-D", w.Shape, xt.Shape)
		}
		O, KH, KW, I := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
		var shape []int
		var f func([]float32) []float32
		if op.Type == models.OpConv2D {
			shape = []int{O, I, KH, KW}
			f = func(src []float32) []float32 {
				dst := make([]float32, len(src))
				for o := range O {
					for y := range KH {
						for x := range KW {
							for ci := range I {
								dst[((o*I+ci)*KH+y)*KW+x] = src[((o*KH+y)*KW+x)*I+ci]
							}
						}
					}
				}
				return dst
			}
		} else {
			M := I // [1, KH, KW, C*mult]
			shape = []int{M, 1, KH, KW}
			attrs["group"] = graph.Int(int64(xt.Shape[3]))
			f = func(src []float32) []float32 {
				dst := make([]float32, len(src))
				for y := range KH {
					for x := range KW {
						for m := range M {
							dst[(m*KH+y)*KW+x] = src[(y*KW+x)*M+m]
						}
					}
				}
				return dst
			}
		}
		wn, err := c.constant(i, op.Inputs[1], c.names[op.Inputs[1]], shape, f)
		if err != nil {
			return err
		}
		ins := []string{x, wn}
		if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
			bt := &c.m.Tensors[op.Inputs[2]]
			bn, err := c.constant(i, op.Inputs[2], c.names[op.Inputs[2]], []int{bt.NumElements()}, nil)
			if err != nil {
				return err
			}
			ins = append(ins, bn)
		}
		attrs["kernel_shape"] = graph.Ints(int64(KH), int64(KW))
		if d := op.Dilation; d[0] > 1 || d[1] > 1 {
			attrs["dilations"] = graph.Ints(stride(d[0]), stride(d[1]))
		}
		c.window(op, attrs)
		c.add(op, "Conv", ins, attrs)
	case models.OpFullyConnected:
		x, xt, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		if len(op.Inputs) < 2 || op.Inputs[1] < 0 {
			return c.fail(i, "no weights")
		}
		w := &c.m.Tensors[op.Inputs[1]]
		if len(w.Shape) != 2 {
			return c.fail(i, "weights %v: want 2-D", w.Shape)
		}
		O, I := w.Shape[0], w.Shape[1]
		chw, flat := c.flat[x]
		if len(xt.Shape) == 4 {
			// An implicit flatten of an NHWC tensor: flatten the NCHW one, reorder the columns.
			fl := x + "/flatten"
			c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: fl, Op: "Flatten", Inputs: []string{x}, Outputs: []string{fl}, Attrs: map[string]graph.Attr{"axis": graph.Int(1)}})
			x = fl
			if xt.Shape[1]*xt.Shape[2] > 1 {
				chw, flat = [3]int{xt.Shape[3], xt.Shape[1], xt.Shape[2]}, true
			}
		}
		f := func(src []float32) []float32 {
			if !flat {
				return src
			}
			C, H, W := chw[0], chw[1], chw[2]
			if C*H*W != I {
				return src
			}
			dst := make([]float32, len(src))
			for o := range O {
				for ch := range C {
					for y := range H {
						for xx := range W {
							dst[o*I+(ch*H+y)*W+xx] = src[o*I+(y*W+xx)*C+ch]
						}
					}
				}
			}
			return dst
		}
		wn, err := c.constant(i, op.Inputs[1], c.names[op.Inputs[1]], []int{O, I}, f)
		if err != nil {
			return err
		}
		ins := []string{x, wn}
		if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
			bn, err := c.constant(i, op.Inputs[2], c.names[op.Inputs[2]], []int{O}, nil)
			if err != nil {
				return err
			}
			ins = append(ins, bn)
		}
		attrs["transB"] = graph.Int(1)
		c.add(op, "Gemm", ins, attrs)
	case models.OpAdd:
		a, _, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		b, _, err := c.activationIn(i, 1)
		if err != nil {
			return err
		}
		c.add(op, "Add", []string{a, b}, attrs)
	case models.OpAveragePool2D, models.OpMaxPool2D:
		x, _, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		attrs["kernel_shape"] = graph.Ints(int64(op.Kernel[0]), int64(op.Kernel[1]))
		c.window(op, attrs)
		typ := "MaxPool"
		if op.Type == models.OpAveragePool2D {
			typ = "AveragePool"
		}
		if op.Activation != models.ActNone {
			return c.fail(i, "fused activation on a pool is not supported")
		}
		c.add(op, typ, []string{x}, attrs)
	case models.OpMean:
		x, xt, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		if len(xt.Shape) != 4 || len(op.Axes) != 2 || !((op.Axes[0] == 1 && op.Axes[1] == 2) || (op.Axes[0] == 2 && op.Axes[1] == 1)) {
			return c.fail(i, "mean over axes %v of %v: only H and W of a 4-D tensor are supported", op.Axes, xt.Shape)
		}
		attrs["axes"] = graph.Ints(2, 3)
		attrs["keepdims"] = graph.Int(btoi(op.KeepDims))
		c.add(op, "ReduceMean", []string{x}, attrs)
	case models.OpReshape:
		x, xt, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		out := c.m.Tensors[op.Outputs[0]].Shape
		switch {
		case len(xt.Shape) == 4 && len(out) == 2 && out[0] == xt.Shape[0]:
			if xt.Shape[1]*xt.Shape[2] > 1 {
				c.flat[c.names[op.Outputs[0]]] = [3]int{xt.Shape[3], xt.Shape[1], xt.Shape[2]}
			}
			attrs["axis"] = graph.Int(1)
			c.add(op, "Flatten", []string{x}, attrs)
		case len(xt.Shape) != 4 && len(out) != 4:
			s := make([]int64, len(out))
			for k, d := range out {
				s[k] = int64(d)
			}
			attrs["shape"] = graph.Ints(s...)
			c.add(op, "Reshape", []string{x}, attrs)
		default:
			return c.reshapeAny(i, op, x, xt, attrs)
		}
	case models.OpSoftmax:
		x, xt, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		if len(xt.Shape) == 4 || (op.Beta != 0 && op.Beta != 1) {
			return c.fail(i, "softmax of %v with beta %g is not supported", xt.Shape, op.Beta)
		}
		attrs["axis"] = graph.Int(-1)
		c.add(op, "Softmax", []string{x}, attrs)
	case models.OpConcatenation:
		var ins []string
		var r int
		for k := range op.Inputs {
			x, xt, err := c.activationIn(i, k)
			if err != nil {
				return err
			}
			ins = append(ins, x)
			r = len(xt.Shape)
		}
		ax := op.Axis
		if r == 4 {
			ax = []int{0, 2, 3, 1}[ax]
		}
		attrs["axis"] = graph.Int(int64(ax))
		c.add(op, "Concat", ins, attrs)
	case models.OpPad:
		x, xt, err := c.activationIn(i, 0)
		if err != nil {
			return err
		}
		if len(xt.Shape) != 4 || len(op.Paddings) != 8 {
			return c.fail(i, "padding %v of %v: only 4-D tensors are supported", op.Paddings, xt.Shape)
		}
		p := op.Paddings // NHWC before/after pairs
		perm := []int{0, 3, 1, 2}
		pads := make([]int64, 8)
		for d, src := range perm {
			pads[d], pads[d+4] = int64(p[2*src]), int64(p[2*src+1])
		}
		attrs["pads"] = graph.Ints(pads...)
		attrs["mode"] = graph.String("constant")
		c.add(op, "Pad", []string{x}, attrs)
	default:
		f, ok := converters[op.Type]
		if !ok {
			return c.fail(i, "no float graph form (a quantized model? use 'edgeinfer convert')")
		}
		return f(c, i, op, attrs)
	}
	return nil
}

// converters hold the op families converted in files of their own (one per family), registered
// from init functions; attrs is the node's attribute map, empty.
var converters = map[models.OpType]func(c *converter, i int, op *models.Op, attrs map[string]graph.Attr) error{}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

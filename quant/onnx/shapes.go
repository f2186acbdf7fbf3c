package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	pb "github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
)

// Shape arithmetic. PyTorch's exporter writes sizes read from tensors (x.shape, x.size(1),
// chunk's split points, view(b, g, c // g, h, w)) as integer subgraphs: Shape, Gather, Unsqueeze,
// Concat and integer Add/Sub/Mul/Div feeding a Reshape or a Slice. The graph inputs' shapes are
// static here, so each of these is a constant: Read computes them while it imports, and the graph
// gets the constant (like an exporter's constant folding would have written it).

// maxShapeRunElements bounds the float run a Shape of a computed tensor needs (the graph so far, on
// zeros), so that a hostile model cannot make the import compute for long.
const maxShapeRunElements = 1 << 26

// intNode folds node n when it is integer shape arithmetic on constants; done reports whether it
// was (n is then fully handled).
func (imp *importer) intNode(n *pb.NodeProto) (done bool, err error) {
	op := n.GetOpType()
	ins, outs := n.GetInput(), n.GetOutput()
	if len(outs) != 1 || outs[0] == "" {
		return false, nil
	}
	for len(ins) > 0 && ins[len(ins)-1] == "" { // absent optional inputs
		ins = ins[:len(ins)-1]
	}
	allInts, empty := len(ins) > 0, -1
	for i, in := range ins {
		switch {
		case in == "" && empty < 0 && (op != "Slice" || i < 3): // only Slice's axes may be absent before its steps
			empty = i
		case in != "" && imp.ints[in] == nil:
			allInts = false
		}
	}
	var t *intTensor
	switch {
	case op == "Shape" && len(ins) == 1:
		t, err = imp.shapeOf(ins[0], n)
	case op == "Expand" && len(ins) == 2 && imp.floats[ins[0]] != nil && imp.ints[ins[1]] != nil:
		// A constant broadcast to a folded shape (a ViT's class token, cls.expand(b, -1, -1)).
		if imp.isConst(outs[0]) {
			return true, fmt.Errorf("output %q redefines a constant", outs[0])
		}
		c, err := expandFloats(imp.floats[ins[0]], imp.ints[ins[1]])
		if err != nil {
			return true, err
		}
		c.Name = outs[0]
		imp.floats[outs[0]] = c
		return true, nil
	case !allInts:
		return false, nil
	case empty >= 0:
		return true, fmt.Errorf("input %d is empty", empty)
	case op == "Gather" && len(ins) == 2:
		t, err = gatherInts(imp.ints[ins[0]], imp.ints[ins[1]], attrInt(n, "axis", 0))
	case op == "Unsqueeze" || op == "Squeeze":
		axes := attrInts(n, "axes")
		if len(ins) > 1 {
			axes = imp.ints[ins[1]].data
		}
		t, err = squeezeInts(imp.ints[ins[0]], axes, op == "Unsqueeze")
	case op == "Concat":
		t, err = concatInts(imp.ints, ins)
	case op == "Add" || op == "Sub" || op == "Mul" || op == "Div":
		if len(ins) != 2 {
			return true, fmt.Errorf("%d inputs, want 2", len(ins))
		}
		t, err = arithInts(op, imp.ints[ins[0]], imp.ints[ins[1]])
	case op == "Cast":
		to := attrInt(n, "to", 0)
		if to != int64(pb.TensorProto_INT64) && to != int64(pb.TensorProto_INT32) {
			return true, fmt.Errorf("cast of an integer shape to type %d: %w", to, ErrUnsupported)
		}
		t = imp.ints[ins[0]]
	case op == "Identity":
		t = imp.ints[ins[0]]
	case op == "Slice":
		t, err = sliceInts(imp.ints, n)
	case op == "Reshape" && len(ins) == 2:
		t, err = reshapeInts(imp.ints[ins[0]], imp.ints[ins[1]])
	case op == "ConstantOfShape" && len(ins) == 1:
		return true, imp.constantOfShape(n, imp.ints[ins[0]])
	case op == "Equal" && len(ins) == 2:
		t, err = arithInts(op, imp.ints[ins[0]], imp.ints[ins[1]])
	case op == "Where" && len(ins) == 3:
		t, err = whereInts(imp.ints[ins[0]], imp.ints[ins[1]], imp.ints[ins[2]])
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if imp.isConst(outs[0]) {
		return true, fmt.Errorf("output %q redefines a constant", outs[0])
	}
	imp.ints[outs[0]] = t
	return true, nil
}

func attrInt(n *pb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

func attrInts(n *pb.NodeProto, name string) []int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetInts()
		}
	}
	return nil
}

// shapeOf is Shape: of a constant directly, of a computed tensor by running the graph imported so
// far on zeros of the inputs' static shapes.
func (imp *importer) shapeOf(name string, n *pb.NodeProto) (*intTensor, error) {
	var shape []int
	switch {
	case imp.floats[name] != nil:
		shape = imp.floats[name].Shape
	case imp.ints[name] != nil:
		shape = imp.ints[name].shape
	default:
		s, err := imp.computedShape(name)
		if err != nil {
			return nil, err
		}
		shape = s
	}
	r := int64(len(shape))
	start, end := attrInt(n, "start", 0), attrInt(n, "end", r)
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start, end = max(0, min(start, r)), max(0, min(end, r))
	t := &intTensor{shape: []int{0}}
	for _, d := range shape[start:max(start, end)] {
		t.data = append(t.data, int64(d))
	}
	t.shape[0] = len(t.data)
	return t, nil
}

// computedShape runs the nodes imported so far on zeros and returns the shape of tensor name.
func (imp *importer) computedShape(name string) ([]int, error) {
	if s, ok := imp.shapes[name]; ok {
		return s, nil
	}
	g := *imp.g
	g.Outputs = nil
	in := map[string]*graph.Tensor{}
	for _, t := range g.Inputs {
		n := graph.ShapeLen(t.Shape)
		if n < 0 {
			return nil, fmt.Errorf("Shape of %q: graph input %q has unknown dimensions %v: computed shapes need static input shapes (%w)", name, t.Name, t.Shape, ErrUnsupported)
		}
		if n > maxShapeRunElements {
			return nil, fmt.Errorf("Shape of %q: graph input %q of shape %v is too large to run at import", name, t.Name, t.Shape)
		}
		in[t.Name] = &graph.Tensor{Name: t.Name, Shape: t.Shape, Data: make([]float32, n)}
	}
	vals, err := g.RunAll(in)
	if err != nil {
		return nil, fmt.Errorf("Shape of %q: running the graph so far: %w", name, err)
	}
	if imp.shapes == nil {
		imp.shapes = map[string][]int{}
	}
	for k, v := range vals {
		imp.shapes[k] = v.Shape
	}
	s, ok := imp.shapes[name]
	if !ok {
		return nil, fmt.Errorf("Shape of %q: not a tensor of the graph", name)
	}
	return s, nil
}

func gatherInts(data, idx *intTensor, axis int64) (*intTensor, error) {
	if len(data.shape) != 1 || (axis != 0 && axis != -1) {
		return nil, fmt.Errorf("Gather of integers of shape %v on axis %d: only 1-D is %w", data.shape, axis, ErrUnsupported)
	}
	out := &intTensor{shape: slices.Clone(idx.shape)}
	for _, i := range idx.data {
		if i < 0 {
			i += int64(len(data.data))
		}
		if i < 0 || i >= int64(len(data.data)) {
			return nil, fmt.Errorf("Gather index %d out of range [0, %d)", i, len(data.data))
		}
		out.data = append(out.data, data.data[i])
	}
	return out, nil
}

func squeezeInts(x *intTensor, axes []int64, unsqueeze bool) (*intTensor, error) {
	r := int64(len(x.shape))
	if unsqueeze {
		r += int64(len(axes))
	}
	shape := slices.Clone(x.shape)
	norm := make([]int64, len(axes))
	for k, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return nil, fmt.Errorf("axis %d out of range for rank %d", axes[k], r)
		}
		norm[k] = a
	}
	slices.Sort(norm)
	if len(slices.Compact(slices.Clone(norm))) != len(norm) {
		return nil, fmt.Errorf("axes %v repeated", axes)
	}
	if unsqueeze {
		for _, a := range norm {
			if int(a) > len(shape) {
				return nil, fmt.Errorf("axes %v out of range", axes)
			}
			shape = slices.Insert(shape, int(a), 1)
		}
	} else {
		if len(axes) == 0 {
			shape = slices.DeleteFunc(shape, func(d int) bool { return d == 1 })
		}
		for k := len(norm) - 1; k >= 0; k-- {
			if shape[norm[k]] != 1 {
				return nil, fmt.Errorf("Squeeze of axis %d of size %d", norm[k], shape[norm[k]])
			}
			shape = slices.Delete(shape, int(norm[k]), int(norm[k])+1)
		}
	}
	return &intTensor{shape: shape, data: x.data}, nil
}

func concatInts(ints map[string]*intTensor, ins []string) (*intTensor, error) {
	out := &intTensor{shape: []int{0}}
	for _, in := range ins {
		t := ints[in]
		if len(t.shape) > 1 {
			return nil, fmt.Errorf("Concat of integers of shape %v: only 1-D is %w", t.shape, ErrUnsupported)
		}
		out.data = append(out.data, t.data...)
	}
	out.shape[0] = len(out.data)
	return out, nil
}

// arithInts is integer Add, Sub, Mul, Div or Equal (1 for true) with a scalar broadcast.
func arithInts(op string, a, b *intTensor) (*intTensor, error) {
	n := max(len(a.data), len(b.data))
	if (len(a.data) != n && len(a.data) != 1) || (len(b.data) != n && len(b.data) != 1) {
		return nil, fmt.Errorf("integer %s of shapes %v and %v: %w", op, a.shape, b.shape, ErrUnsupported)
	}
	shape := a.shape
	if len(b.data) == n && len(b.shape) >= len(a.shape) {
		shape = b.shape
	}
	out := &intTensor{shape: slices.Clone(shape), data: make([]int64, n)}
	for i := range n {
		x, y := a.data[min(i, len(a.data)-1)], b.data[min(i, len(b.data)-1)]
		switch op {
		case "Add":
			out.data[i] = x + y
		case "Sub":
			out.data[i] = x - y
		case "Mul":
			out.data[i] = x * y
		case "Equal": // 1 for true
			if x == y {
				out.data[i] = 1
			}
		case "Div":
			if y == 0 {
				return nil, fmt.Errorf("integer division by zero")
			}
			q := x / y // ONNX integer Div truncates, as C does
			out.data[i] = q
		}
		if out.data[i] > math.MaxInt32 || out.data[i] < math.MinInt32 {
			return nil, fmt.Errorf("integer %s gives %d: out of range for a shape", op, out.data[i])
		}
	}
	return out, nil
}

// sliceInts is Slice of a 1-D integer tensor (x.shape[1:], x.shape[-2:]): starts, ends, axes and
// steps from the inputs (opset 10 and later) or the attributes (before).
func sliceInts(ints map[string]*intTensor, n *pb.NodeProto) (*intTensor, error) {
	ins := n.GetInput()
	x := ints[ins[0]]
	if len(x.shape) != 1 {
		return nil, fmt.Errorf("Slice of integers of shape %v: only 1-D is %w", x.shape, ErrUnsupported)
	}
	arg := func(i int, attr string) []int64 {
		if i < len(ins) && ins[i] != "" {
			return ints[ins[i]].data
		}
		return attrInts(n, attr)
	}
	starts, ends, axes, steps := arg(1, "starts"), arg(2, "ends"), arg(3, "axes"), arg(4, "")
	if len(starts) != 1 || len(ends) != 1 || len(axes) > 1 || len(steps) > 1 {
		return nil, fmt.Errorf("Slice of a 1-D integer tensor with starts %v, ends %v, axes %v: %w", starts, ends, axes, ErrUnsupported)
	}
	if len(axes) == 1 && axes[0] != 0 && axes[0] != -1 {
		return nil, fmt.Errorf("Slice of a 1-D integer tensor on axis %d", axes[0])
	}
	step := int64(1)
	if len(steps) == 1 {
		step = steps[0]
	}
	if step == 0 {
		return nil, fmt.Errorf("Slice with step 0")
	}
	size := int64(len(x.data))
	step = min(max(step, -size), size) // a longer step takes one element as well, without overflow
	clamp := func(v, lo, hi int64) int64 {
		if v < 0 {
			v += size
		}
		return min(max(v, lo), hi)
	}
	out := &intTensor{}
	if step > 0 {
		for i := clamp(starts[0], 0, size); i < clamp(ends[0], 0, size); i += step {
			out.data = append(out.data, x.data[i])
		}
	} else {
		for i := clamp(starts[0], -1, size-1); i > clamp(ends[0], -1, size-1); i += step {
			out.data = append(out.data, x.data[i])
		}
	}
	out.shape = []int{len(out.data)}
	return out, nil
}

// reshapeInts is Reshape of an integer tensor (0 keeps a dimension, -1 takes the rest).
func reshapeInts(x, shape *intTensor) (*intTensor, error) {
	if len(shape.shape) != 1 {
		return nil, fmt.Errorf("Reshape to a shape of shape %v", shape.shape)
	}
	out, infer, known := make([]int, len(shape.data)), -1, 1
	for i, d := range shape.data {
		switch {
		case d == -1 && infer < 0:
			infer = i
			continue
		case d == 0 && i < len(x.shape):
			d = int64(x.shape[i])
		case d <= 0 || d > maxShapeRunElements:
			return nil, fmt.Errorf("Reshape of integers to %v", shape.data)
		}
		out[i] = int(d)
		known *= int(d)
	}
	if infer >= 0 {
		if known == 0 || len(x.data)%known != 0 {
			return nil, fmt.Errorf("Reshape of %d integers to %v", len(x.data), shape.data)
		}
		out[infer] = len(x.data) / known
		known *= out[infer]
	}
	if known != len(x.data) {
		return nil, fmt.Errorf("Reshape of %d integers to %v", len(x.data), shape.data)
	}
	return &intTensor{shape: out, data: x.data}, nil
}

// constantOfShape is ConstantOfShape of a folded shape: an integer constant, or a float one when
// its value attribute is a float (the default is float 0).
func (imp *importer) constantOfShape(n *pb.NodeProto, shape *intTensor) error {
	if len(shape.shape) != 1 {
		return fmt.Errorf("ConstantOfShape of a shape of shape %v", shape.shape)
	}
	dims, size := make([]int, len(shape.data)), 1
	for i, d := range shape.data {
		if d < 0 || d > maxShapeRunElements {
			return fmt.Errorf("ConstantOfShape of shape %v", shape.data)
		}
		dims[i] = int(d)
		size *= int(d)
		if size > maxShapeRunElements {
			return fmt.Errorf("ConstantOfShape of shape %v: too large", shape.data)
		}
	}
	out := n.GetOutput()[0]
	if imp.isConst(out) {
		return fmt.Errorf("output %q redefines a constant", out)
	}
	var value *pb.TensorProto
	for _, a := range n.GetAttribute() {
		if a.GetName() == "value" {
			value = a.GetT()
		}
	}
	var iv int64
	var fv float32
	isInt := false
	if value != nil {
		const tmp = "\x00ConstantOfShape value"
		if err := imp.constant(value, tmp); err != nil {
			return fmt.Errorf("ConstantOfShape value: %w", err)
		}
		switch it, ft := imp.ints[tmp], imp.floats[tmp]; {
		case it != nil && len(it.data) == 1:
			iv, isInt = it.data[0], true
		case ft != nil && len(ft.Data) == 1:
			fv = ft.Data[0]
		default:
			return fmt.Errorf("ConstantOfShape value: want one number")
		}
		delete(imp.ints, tmp)
		delete(imp.floats, tmp)
	}
	if isInt {
		data := make([]int64, size)
		for i := range data {
			data[i] = iv
		}
		imp.ints[out] = &intTensor{shape: dims, data: data}
		return nil
	}
	data := make([]float32, size)
	for i := range data {
		data[i] = fv
	}
	imp.floats[out] = &graph.Tensor{Name: out, Shape: dims, Data: data}
	return nil
}

// whereInts is Where on integer tensors of one shape (or scalars).
func whereInts(c, a, b *intTensor) (*intTensor, error) {
	n := max(len(c.data), len(a.data), len(b.data))
	for _, t := range []*intTensor{c, a, b} {
		if len(t.data) != n && len(t.data) != 1 {
			return nil, fmt.Errorf("integer Where of shapes %v, %v and %v: %w", c.shape, a.shape, b.shape, ErrUnsupported)
		}
	}
	shape := c.shape
	for _, t := range []*intTensor{a, b} {
		if len(t.data) == n && len(t.shape) > len(shape) {
			shape = t.shape
		}
	}
	out := &intTensor{shape: slices.Clone(shape), data: make([]int64, n)}
	for i := range n {
		if c.data[min(i, len(c.data)-1)] != 0 {
			out.data[i] = a.data[min(i, len(a.data)-1)]
		} else {
			out.data[i] = b.data[min(i, len(b.data)-1)]
		}
	}
	return out, nil
}

// expandFloats is Expand of a float constant to shape (NumPy broadcasting both ways).
func expandFloats(x *graph.Tensor, shape *intTensor) (*graph.Tensor, error) {
	if len(shape.shape) != 1 {
		return nil, fmt.Errorf("Expand to a shape of shape %v", shape.shape)
	}
	r := max(len(x.Shape), len(shape.data))
	out := make([]int, r)
	size := 1
	for i := range r {
		a, b := 1, int64(1)
		if j := i - (r - len(x.Shape)); j >= 0 {
			a = x.Shape[j]
		}
		if j := i - (r - len(shape.data)); j >= 0 {
			b = shape.data[j]
		}
		switch {
		case int64(a) == b || b == 1:
			out[i] = a
		case a == 1 && b > maxShapeRunElements:
			return nil, fmt.Errorf("Expand of shape %v to %v: too large", x.Shape, shape.data)
		case a == 1 && b > 0:
			out[i] = int(b)
		default:
			return nil, fmt.Errorf("Expand of shape %v to %v", x.Shape, shape.data)
		}
		size *= out[i]
		if size > maxShapeRunElements {
			return nil, fmt.Errorf("Expand of shape %v to %v: too large", x.Shape, shape.data)
		}
	}
	data := make([]float32, size)
	idx := make([]int, r)
	for k := range data {
		// k's index in out, mapped to x's (size-1 dimensions of x stay at 0)
		src, stride := 0, 1
		for i := r - 1; i >= 0; i-- {
			if j := i - (r - len(x.Shape)); j >= 0 {
				if x.Shape[j] != 1 {
					src += idx[i] * stride
				}
				stride *= x.Shape[j]
			}
		}
		data[k] = x.Data[src]
		for i := r - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return &graph.Tensor{Shape: out, Data: data}, nil
}

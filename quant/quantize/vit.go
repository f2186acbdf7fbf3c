package quantize

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// The transformer family's lowerings (the nodes quant/transform makes of a ViT): Linear on
// tokens, BatchMatMul, Gelu, LayerNormalization, ToTokens; and the forms of Add, Concat and
// ReduceMean that ViTs add: a constant operand (positional embedding, class token) and a mean over
// the tokens. All int8; LayerNorm keeps float32 gamma and beta (see runtime/layernorm.go).
func init() {
	lowerers["Linear"] = (*lowering).linear
	lowerers["BatchMatMul"] = (*lowering).batchMatMul
	lowerers["Gelu"] = (*lowering).gelu
	lowerers["LayerNormalization"] = (*lowering).layerNorm
	lowerers["ToTokens"] = (*lowering).toTokens
	if lowerers["Gather"] == nil {
		lowerers["Gather"] = (*lowering).gather
	}
	wrap := func(op string, mine func(l *lowering, i int, n *graph.Node) (bool, error), historical func(l *lowering, i int, n *graph.Node) error) {
		prev := lowerers[op] // another family's form of the op, if registered first
		lowerers[op] = func(l *lowering, i int, n *graph.Node) error {
			if done, err := mine(l, i, n); done || err != nil {
				return err
			}
			if prev != nil {
				return prev(l, i, n)
			}
			return historical(l, i, n)
		}
	}
	wrap("Add", (*lowering).addConst, (*lowering).add)
	wrap("Concat", (*lowering).concatConst, (*lowering).concat)
	wrap("ReduceMean", (*lowering).meanTokens, (*lowering).mean)
}

// one checks that n has one output.
func (l *lowering) one(i int, n *graph.Node) error {
	if len(n.Outputs) != 1 {
		return l.fail(i, "%d outputs: one is supported", len(n.Outputs))
	}
	return nil
}

// linear lowers a Linear (x [..., K] × W [K, N] + bias) as a FullyConnected that keeps the
// leading dimensions. Bias correction, which measures per channel along dimension 1, leaves
// these layers alone.
func (l *lowering) linear(i int, n *graph.Node) error {
	if err := l.one(i, n); err != nil {
		return err
	}
	if w := l.g.Const(n.Inputs[1]); w == nil || len(w.Shape) != 2 {
		return l.fail(i, "weights must be a 2-D constant")
	}
	before := len(l.convs)
	if err := l.gemm(i, n); err != nil {
		return err
	}
	if len(l.shapes[n.Outputs[0]]) != 2 {
		l.convs = l.convs[:before]
	}
	return nil
}

func (l *lowering) batchMatMul(i int, n *graph.Node) error {
	if err := l.one(i, n); err != nil {
		return err
	}
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
	for k := range 2 {
		if r := len(l.shapes[n.Inputs[k]]); r == 4 {
			return l.fail(i, "input %d is 4-D: its int8 layout (NHWC) is not the graph's", k)
		}
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpBatchMatMul, Name: n.Name, Inputs: []int{a, b}, Outputs: []int{out},
		AdjX: n.AttrInt("adj_x", 0) != 0, AdjY: n.AttrInt("adj_y", 0) != 0})
	return nil
}

func (l *lowering) gelu(i int, n *graph.Node) error {
	if err := l.one(i, n); err != nil {
		return err
	}
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpGelu, Name: n.Name, Inputs: []int{x}, Outputs: []int{out},
		Approximate: n.AttrString("approximate", "none") == "tanh"})
	return nil
}

// floatBytes is the little-endian encoding of v.
func floatBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// layerNorm lowers LayerNormalization over the last axis to the int8 LayerNorm op, gamma and beta
// as float32 constants [D].
func (l *lowering) layerNorm(i int, n *graph.Node) error {
	if err := l.one(i, n); err != nil {
		return err
	}
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	shape := l.shapes[n.Inputs[0]]
	if len(shape) == 0 || len(shape) == 4 {
		return l.fail(i, "input of shape %v: rank 1 to 3 (tokens) are supported", shape)
	}
	if ax := n.AttrInt("axis", -1); ax != -1 && ax != int64(len(shape)-1) {
		return l.fail(i, "axis %d: only the last axis is supported", ax)
	}
	D := shape[len(shape)-1]
	param := func(k int, def float32) ([]float32, error) {
		v := make([]float32, D)
		if k >= len(n.Inputs) || n.Inputs[k] == "" {
			for j := range v {
				v[j] = def
			}
			return v, nil
		}
		c := l.g.Const(n.Inputs[k])
		if c == nil {
			return nil, l.fail(i, "input %d must be a constant", k)
		}
		if err := checkFinite(c); err != nil {
			return nil, l.fail(i, "%v", err)
		}
		switch len(c.Data) {
		case 1:
			for j := range v {
				v[j] = c.Data[0]
			}
		case D:
			copy(v, c.Data)
		default:
			return nil, l.fail(i, "input %d of shape %v: want [%d]", k, c.Shape, D)
		}
		return v, nil
	}
	g, err := param(1, 1)
	if err != nil {
		return err
	}
	b, err := param(2, 0)
	if err != nil {
		return err
	}
	gi := l.constant(n.Name+"/gamma", models.Float32, []int{D}, nil, floatBytes(g))
	bi := l.constant(n.Name+"/beta", models.Float32, []int{D}, nil, floatBytes(b))
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpLayerNorm, Name: n.Name, Inputs: []int{x, gi, bi}, Outputs: []int{out},
		Beta: n.AttrFloat("epsilon", 1e-5)})
	return nil
}

// toTokens lowers NCHW → [N, H·W, C] tokens: in the int8 model's NHWC layout, a Reshape.
func (l *lowering) toTokens(i int, n *graph.Node) error {
	if err := l.one(i, n); err != nil {
		return err
	}
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	out, err := l.activation(n.Outputs[0], l.m.Tensors[x].Quant)
	if err != nil {
		return err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpReshape, Name: n.Name, Inputs: []int{x}, Outputs: []int{out}})
	return nil
}

// constInt8 quantizes the constant called name, broadcast to shape (not 4-D), with q.
func (l *lowering) constInt8(i int, name string, shape []int, q *models.Quant) (int, error) {
	c := l.g.Const(name)
	if err := checkFinite(c); err != nil {
		return 0, l.fail(i, "%v", err)
	}
	if len(shape) == 4 {
		return 0, l.fail(i, "a 4-D constant operand is not supported")
	}
	if len(c.Shape) > len(shape) {
		return 0, l.fail(i, "constant %q of shape %v does not broadcast to %v", name, c.Shape, shape)
	}
	n := graph.ShapeLen(shape)
	data := make([]int8, n)
	// Strides of c seen as the trailing part of shape, 0 along broadcast dimensions.
	r := len(shape)
	st := make([]int, r)
	s := 1
	for d := len(c.Shape) - 1; d >= 0; d-- {
		j := d + r - len(c.Shape)
		switch c.Shape[d] {
		case shape[j]:
			st[j] = s
		case 1:
		default:
			return 0, l.fail(i, "constant %q of shape %v does not broadcast to %v", name, c.Shape, shape)
		}
		s *= c.Shape[d]
	}
	idx := make([]int, r)
	off := 0
	scale, zero := q.Scale[0], q.ZeroAt(0)
	for k := range data {
		v := math.Round(float64(c.Data[off]/scale)) + float64(zero)
		data[k] = int8(min(max(v, -128), 127))
		for d := r - 1; d >= 0; d-- {
			off += st[d]
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			off -= st[d] * shape[d]
			idx[d] = 0
		}
	}
	return l.constant(name+"/int8", models.Int8, slices.Clone(shape), q, int8Bytes(data)), nil
}

// constRange is the range of a constant's values.
func constRange(t *graph.Tensor) Range {
	r := Range{}
	for _, v := range t.Data {
		r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
	}
	return r
}

// addConst lowers Add(x, c) with a constant c (a positional embedding, a bias that is not fused):
// c, broadcast to the output's shape and quantized with its own range, becomes the second operand
// of an ordinary same-shape Add.
func (l *lowering) addConst(i int, n *graph.Node) (bool, error) {
	if len(n.Inputs) != 2 {
		return false, nil
	}
	k := slices.IndexFunc(n.Inputs, func(s string) bool { return l.g.Const(s) != nil })
	if k < 0 {
		return false, nil
	}
	if err := l.one(i, n); err != nil {
		return true, err
	}
	x, err := l.input(i, n, 1-k)
	if err != nil {
		return true, err
	}
	shape := l.shapes[n.Outputs[0]]
	if !slices.Equal(shape, l.shapes[n.Inputs[1-k]]) {
		return true, l.fail(i, "the constant operand broadcasts the other one (%v to %v)", l.shapes[n.Inputs[1-k]], shape)
	}
	c, err := l.constInt8(i, n.Inputs[k], shape, actQuant(constRange(l.g.Const(n.Inputs[k]))))
	if err != nil {
		return true, err
	}
	act, ok := activationOf(n)
	if !ok {
		return true, l.fail(i, "fused clamp is not ReLU, ReLU6 or ReLU-1..1")
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return true, err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpAdd, Name: n.Name, Activation: act, Inputs: []int{x, c}, Outputs: []int{out}})
	return true, nil
}

// concatConst lowers a Concat with constant inputs (the class token): each constant becomes an
// int8 constant quantized as the output, and the runtime's Concatenation rescales the others.
func (l *lowering) concatConst(i int, n *graph.Node) (bool, error) {
	if !slices.ContainsFunc(n.Inputs, func(s string) bool { return l.g.Const(s) != nil }) {
		return false, nil
	}
	if err := l.one(i, n); err != nil {
		return true, err
	}
	shape := l.shapes[n.Outputs[0]]
	if len(shape) == 4 {
		return true, l.fail(i, "constant inputs of a 4-D Concat are not supported")
	}
	ax := int(n.AttrInt("axis", 0))
	if ax < 0 {
		ax += len(shape)
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return true, err
	}
	op := models.Op{Type: models.OpConcatenation, Name: n.Name, Axis: ax, Outputs: []int{out}}
	for k, name := range n.Inputs {
		if c := l.g.Const(name); c != nil {
			ci, err := l.constInt8(i, name, c.Shape, l.m.Tensors[out].Quant)
			if err != nil {
				return true, err
			}
			op.Inputs = append(op.Inputs, ci)
			continue
		}
		x, err := l.input(i, n, k)
		if err != nil {
			return true, err
		}
		op.Inputs = append(op.Inputs, x)
	}
	l.m.Ops = append(l.m.Ops, op)
	return true, nil
}

// meanTokens lowers ReduceMean over axes of a tensor that is not 4-D (mean pooling of tokens).
func (l *lowering) meanTokens(i int, n *graph.Node) (bool, error) {
	in := l.shapes[n.Inputs[0]]
	if len(in) == 4 {
		return false, nil
	}
	if err := l.one(i, n); err != nil {
		return true, err
	}
	x, err := l.input(i, n, 0)
	if err != nil {
		return true, err
	}
	var axes []int
	for _, a := range n.AttrInts("axes") {
		if a < 0 {
			a += int64(len(in))
		}
		if a < 0 || a >= int64(len(in)) {
			return true, l.fail(i, "axis %d out of range for rank %d", a, len(in))
		}
		axes = append(axes, int(a))
	}
	if len(axes) == 0 {
		for d := range in {
			axes = append(axes, d)
		}
	}
	out, err := l.activation(n.Outputs[0], nil)
	if err != nil {
		return true, err
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpMean, Name: n.Name, Axes: axes, KeepDims: n.AttrInt("keepdims", 1) != 0,
		Inputs: []int{x}, Outputs: []int{out}})
	return true, nil
}

// gather lowers Gather with constant indices along the token axis of a rank-3 tensor (the class
// token pick x[:, 0]) as an exact BatchMatMul by a one-hot constant: rows of 127 at the picked
// indices, scale 1/127, so that each output equals its input element (the accumulator is
// 127·(q − zero), the multiplier 1/127), then a Reshape when the index is a scalar.
func (l *lowering) gather(i int, n *graph.Node) error {
	if err := l.one(i, n); err != nil {
		return err
	}
	x, err := l.input(i, n, 0)
	if err != nil {
		return err
	}
	in := l.shapes[n.Inputs[0]]
	ax := n.AttrInt("axis", 0)
	if ax < 0 {
		ax += int64(len(in))
	}
	if len(in) != 3 || ax != 1 {
		return l.fail(i, "Gather along axis %d of %v: only the token axis (1) of a rank-3 tensor has an int8 form", n.AttrInt("axis", 0), in)
	}
	T := in[1]
	idx := n.AttrInts("indices")
	if len(idx) == 0 || len(n.AttrInts("indices_shape")) > 1 {
		return l.fail(i, "indices of shape %v: a scalar or a list is supported", n.AttrInts("indices_shape"))
	}
	hot := make([]int8, len(idx)*T)
	for r, v := range idx {
		if v < 0 {
			v += int64(T)
		}
		if v < 0 || v >= int64(T) {
			return l.fail(i, "index %d out of range for %d tokens", idx[r], T)
		}
		hot[r*T+int(v)] = 127
	}
	q := l.m.Tensors[x].Quant
	h := l.constant(n.Name+"/onehot", models.Int8, []int{1, len(idx), T}, &models.Quant{Scale: []float32{1.0 / 127}, ZeroPoint: []int32{0}}, int8Bytes(hot))
	out, err := l.activation(n.Outputs[0], q)
	if err != nil {
		return err
	}
	rowsShape := []int{in[0], len(idx), in[2]}
	if slices.Equal(l.m.Tensors[out].Shape, rowsShape) {
		l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpBatchMatMul, Name: n.Name, Inputs: []int{h, x}, Outputs: []int{out}})
		return nil
	}
	l.m.Tensors = append(l.m.Tensors, models.Tensor{Name: n.Outputs[0] + "/rows", Type: models.Int8, Shape: rowsShape, Quant: q})
	rows := len(l.m.Tensors) - 1
	l.m.Ops = append(l.m.Ops,
		models.Op{Type: models.OpBatchMatMul, Name: n.Name, Inputs: []int{h, x}, Outputs: []int{rows}},
		models.Op{Type: models.OpReshape, Name: n.Name + "/reshape", Inputs: []int{rows}, Outputs: []int{out}})
	return nil
}

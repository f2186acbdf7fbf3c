package graph

import (
	"fmt"
	"math"
	"slices"
)

// MaxElements bounds every tensor Run allocates, so that a graph with absurd attributes fails
// with an error instead of exhausting memory.
const MaxElements = 1 << 28

// Run executes the graph on inputs (keyed by graph input name, shapes fully known) and returns the
// graph outputs by name. Identity, Reshape and Flatten outputs share their input's Data: treat the
// results (and the inputs) as read-only, or Clone them.
func (g *Graph) Run(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	vals, err := g.RunAll(inputs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Tensor, len(g.Outputs))
	for _, o := range g.Outputs {
		out[o.Name] = vals[o.Name]
	}
	return out, nil
}

// RunAll is Run returning every tensor: graph inputs, initializers and each node's outputs (what
// calibration observes).
func (g *Graph) RunAll(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	return g.runAll(inputs, false)
}

// runAll is RunAll; with batch, the inputs' first dimension may be any B ≥ 1 (the same for all)
// where the graph declares 1 (RunBatch).
func (g *Graph) runAll(inputs map[string]*Tensor, batch bool) (map[string]*Tensor, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	vals := make(map[string]*Tensor, len(g.Initializers)+len(g.Nodes)+len(inputs))
	for name, t := range g.Initializers {
		vals[name] = t
	}
	batchN := 0
	for _, in := range g.Inputs {
		t := inputs[in.Name]
		if t == nil {
			return nil, fmt.Errorf("graph: %q: input %q not given", g.Name, in.Name)
		}
		if len(t.Shape) != len(in.Shape) {
			return nil, fmt.Errorf("graph: %q: input %q: shape %v, graph expects rank %d (%v)", g.Name, in.Name, t.Shape, len(in.Shape), in.Shape)
		}
		for i, d := range in.Shape {
			if batch && i == 0 {
				if d > 1 || t.Shape[0] < 1 || (batchN > 0 && t.Shape[0] != batchN) {
					return nil, fmt.Errorf("graph: %q: input %q: shape %v, graph expects %v with one batch of at least 1 for all inputs", g.Name, in.Name, t.Shape, in.Shape)
				}
				batchN = t.Shape[0]
				continue
			}
			if t.Shape[i] < 0 || (d >= 0 && t.Shape[i] != d) {
				return nil, fmt.Errorf("graph: %q: input %q: shape %v, graph expects %v", g.Name, in.Name, t.Shape, in.Shape)
			}
		}
		if ShapeLen(t.Shape) != len(t.Data) {
			return nil, fmt.Errorf("graph: %q: input %q: shape %v holds %d values, data has %d", g.Name, in.Name, t.Shape, ShapeLen(t.Shape), len(t.Data))
		}
		vals[in.Name] = &Tensor{Name: in.Name, Shape: t.Shape, Data: t.Data}
	}
	for i, n := range g.Nodes {
		ins := make([]*Tensor, len(n.Inputs))
		for j, name := range n.Inputs {
			if name != "" {
				ins[j] = vals[name]
			}
		}
		outs, err := runNodeOf(g, n, ins)
		if err != nil {
			return nil, fmt.Errorf("graph: %q: %s: %w", g.Name, g.Describe(i), err)
		}
		if len(outs) > len(n.Outputs) {
			return nil, fmt.Errorf("graph: %q: %s: %d outputs, node names %d", g.Name, g.Describe(i), len(outs), len(n.Outputs))
		}
		for j, t := range outs {
			if n.Outputs[j] == "" {
				continue
			}
			t.Name = n.Outputs[j]
			vals[t.Name] = t
		}
		for j := len(outs); j < len(n.Outputs); j++ {
			if n.Outputs[j] != "" {
				return nil, fmt.Errorf("graph: %q: %s: output %d (%q) is not computed by this implementation", g.Name, g.Describe(i), j, n.Outputs[j])
			}
		}
	}
	return vals, nil
}

func alloc(shape []int) (*Tensor, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in output shape %v", shape)
		}
		if d > 0 && n > MaxElements/d {
			return nil, fmt.Errorf("output shape %v exceeds %d elements", shape, MaxElements)
		}
		n *= d
	}
	return &Tensor{Shape: shape, Data: make([]float32, n)}, nil
}

// in returns input i, which must be present.
func in(ins []*Tensor, i int) (*Tensor, error) {
	if i >= len(ins) || ins[i] == nil {
		return nil, fmt.Errorf("input %d missing", i)
	}
	return ins[i], nil
}

// axis normalises a possibly negative axis for a tensor of rank r; hi is r for Concat-like
// axes, r+1 for Flatten.
func axis(a int64, r, hi int) (int, error) {
	if a < 0 {
		a += int64(r)
	}
	if a < 0 || a >= int64(hi) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, r)
	}
	return int(a), nil
}

// runNodeOf runs node n of g (nil: a node alone) on ins.
func runNodeOf(g *Graph, n *Node, ins []*Tensor) ([]*Tensor, error) {
	var out *Tensor
	var err error
	switch n.Op {
	case "Identity":
		var x *Tensor
		if x, err = in(ins, 0); err == nil {
			out = &Tensor{Shape: slices.Clone(x.Shape), Data: x.Data}
		}
	case "Relu":
		out, err = unary(ins, func(v float32) float32 { return max(v, 0) })
	case "Clip":
		lo := n.AttrFloat("min", float32(math.Inf(-1)))
		hi := n.AttrFloat("max", float32(math.Inf(1)))
		out, err = unary(ins, func(v float32) float32 { return min(max(v, lo), hi) })
	case "Add":
		out, err = binary(ins, func(a, b float32) float32 { return a + b })
	case "Mul":
		out, err = binary(ins, func(a, b float32) float32 { return a * b })
	case "Conv":
		out, err = conv(n, ins)
	case "BatchNormalization":
		out, err = batchNorm(n, ins)
	case "GlobalAveragePool":
		out, err = globalAvgPool(ins)
	case "AveragePool", "MaxPool":
		out, err = pool(n, ins)
	case "Flatten":
		out, err = flatten(n, ins)
	case "Reshape":
		out, err = reshape(n, ins)
	case "Gemm":
		out, err = gemm(n, ins, g == nil || len(n.Inputs) > 1 && g.Const(n.Inputs[1]) != nil)
	case "MatMul":
		out, err = matmul(ins)
	case "Concat":
		out, err = concat(n, ins)
	case "Pad":
		out, err = pad(n, ins)
	case "ReduceMean":
		out, err = reduceMean(n, ins)
	case "Softmax":
		out, err = softmax(n, ins)
	default:
		f, ok := floatOps[n.Op]
		if !ok {
			err = fmt.Errorf("op %s not implemented", n.Op)
			break
		}
		outs, err := f(n, ins)
		if err != nil {
			return nil, err
		}
		if len(outs) != len(n.Outputs) {
			return nil, fmt.Errorf("op %s computed %d outputs, the node has %d", n.Op, len(outs), len(n.Outputs))
		}
		if lo, hi, ok := FusedClamp(n); ok {
			for _, o := range outs {
				for i, v := range o.Data {
					o.Data[i] = min(max(v, lo), hi)
				}
			}
		}
		return outs, nil
	}
	if err != nil {
		return nil, err
	}
	if lo, hi, ok := FusedClamp(n); ok {
		for i, v := range out.Data {
			out.Data[i] = min(max(v, lo), hi)
		}
	}
	return []*Tensor{out}, nil
}

// Fused activations: quant/transform merges a Relu or Clip into the node before it (Conv, Gemm,
// Add) by giving that node the float attributes ActMin and ActMax, which Run applies as a clamp
// of the node's output. They are not ONNX attributes.
const (
	ActMin = "act_min"
	ActMax = "act_max"
)

// FusedClamp returns the bounds of a node's fused activation (ActMin, ActMax), if it has one.
func FusedClamp(n *Node) (lo, hi float32, ok bool) {
	a, okA := n.Attrs[ActMin]
	b, okB := n.Attrs[ActMax]
	if !okA && !okB {
		return 0, 0, false
	}
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if okA && a.Kind == AttrFloat {
		lo = a.Float
	}
	if okB && b.Kind == AttrFloat {
		hi = b.Float
	}
	return lo, hi, true
}

func unary(ins []*Tensor, f func(float32) float32) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	out, err := alloc(slices.Clone(x.Shape))
	if err != nil {
		return nil, err
	}
	for i, v := range x.Data {
		out.Data[i] = f(v)
	}
	return out, nil
}

// broadcastShape is numpy's multidirectional broadcast of a and b.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range r {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastStrides returns the element strides of shape seen as the trailing part of out, with 0
// for broadcast dimensions.
func broadcastStrides(shape, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		j := i + len(out) - len(shape)
		if shape[i] != 1 {
			st[j] = s
		}
		s *= shape[i]
	}
	return st
}

func binary(ins []*Tensor, f func(a, b float32) float32) (*Tensor, error) {
	a, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	b, err := in(ins, 1)
	if err != nil {
		return nil, err
	}
	shape, err := broadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	sa, sb := broadcastStrides(a.Shape, shape), broadcastStrides(b.Shape, shape)
	idx := make([]int, len(shape))
	ia, ib := 0, 0
	for k := range out.Data {
		out.Data[k] = f(a.Data[ia], b.Data[ib])
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < shape[d] {
				break
			}
			ia -= sa[d] * shape[d]
			ib -= sb[d] * shape[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// window is the geometry of a 2-D sliding window (Conv, pools) along one spatial axis.
type window struct {
	in, k, stride, dil, padBegin, padEnd, out int
}

// maxWindow bounds kernel sizes, strides and dilations so that every product of them stays below
// 2^31 (GOARCH=arm has a 32-bit int).
const maxWindow = 1 << 14

func windowRange(v []int64) bool {
	for _, x := range v {
		if x < 1 || x > maxWindow {
			return false
		}
	}
	return true
}

// windows resolves kernel, strides, dilations, pads, auto_pad and ceil_mode for the two spatial
// axes of an NCHW input.
func windows(n *Node, h, w, kh, kw int, ceil bool) ([2]window, error) {
	var ws [2]window
	ws[0] = window{in: h, k: kh, stride: 1, dil: 1}
	ws[1] = window{in: w, k: kw, stride: 1, dil: 1}
	if s := n.AttrInts("strides"); s != nil {
		if len(s) != 2 || !windowRange(s) {
			return ws, fmt.Errorf("strides %v: want 2 values from 1 to %d", s, maxWindow)
		}
		ws[0].stride, ws[1].stride = int(s[0]), int(s[1])
	}
	if d := n.AttrInts("dilations"); d != nil {
		if len(d) != 2 || !windowRange(d) {
			return ws, fmt.Errorf("dilations %v: want 2 values from 1 to %d", d, maxWindow)
		}
		ws[0].dil, ws[1].dil = int(d[0]), int(d[1])
	}
	var pads [4]int
	if p := n.AttrInts("pads"); p != nil {
		if len(p) != 4 {
			return ws, fmt.Errorf("pads %v: want 4 values", p)
		}
		for i, v := range p {
			if v < 0 || v > 1<<20 {
				return ws, fmt.Errorf("pads %v out of range", p)
			}
			pads[i] = int(v)
		}
	}
	autoPad := n.AttrString("auto_pad", "NOTSET")
	for i := range ws {
		wd := &ws[i]
		if wd.k < 1 || wd.k > maxWindow {
			return ws, fmt.Errorf("kernel %d: want 1 to %d", wd.k, maxWindow)
		}
		span := (wd.k-1)*wd.dil + 1
		switch autoPad {
		case "NOTSET", "":
			wd.padBegin, wd.padEnd = pads[i], pads[i+2]
		case "VALID":
		case "SAME_UPPER", "SAME_LOWER":
			o := (wd.in + wd.stride - 1) / wd.stride
			total := max(0, (o-1)*wd.stride+span-wd.in)
			wd.padBegin = total / 2
			if autoPad == "SAME_LOWER" {
				wd.padBegin = total - total/2
			}
			wd.padEnd = total - wd.padBegin
		default:
			return ws, fmt.Errorf("auto_pad %q not supported", autoPad)
		}
		num := wd.in + wd.padBegin + wd.padEnd - span
		if num < 0 {
			return ws, fmt.Errorf("kernel span %d larger than padded input %d", span, wd.in+wd.padBegin+wd.padEnd)
		}
		wd.out = num/wd.stride + 1
		if ceil && num%wd.stride != 0 {
			wd.out++
			// A window may not start in the end padding (ONNX's rule for ceil_mode).
			if (wd.out-1)*wd.stride >= wd.in+wd.padBegin {
				wd.out--
			}
		}
	}
	return ws, nil
}

func conv(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	wt, err := in(ins, 1)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 4 || len(wt.Shape) != 4 {
		return nil, fmt.Errorf("input %v, weights %v: only 2-D convolution (rank 4) is implemented", x.Shape, wt.Shape)
	}
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	M, CG, KH, KW := wt.Shape[0], wt.Shape[1], wt.Shape[2], wt.Shape[3]
	group64 := n.AttrInt("group", 1)
	if group64 < 1 || group64 > int64(C) {
		return nil, fmt.Errorf("group %d: input has %d channels", group64, C)
	}
	group := int(group64)
	if C%group != 0 || M%group != 0 || C/group != CG {
		return nil, fmt.Errorf("group %d: input channels %d, weights %v do not match", group, C, wt.Shape)
	}
	if ks := n.AttrInts("kernel_shape"); ks != nil && (len(ks) != 2 || ks[0] != int64(KH) || ks[1] != int64(KW)) {
		return nil, fmt.Errorf("kernel_shape %v does not match weights %v", ks, wt.Shape)
	}
	var bias []float32
	if len(ins) > 2 && ins[2] != nil {
		if len(ins[2].Shape) != 1 || ins[2].Shape[0] != M {
			return nil, fmt.Errorf("bias shape %v, want [%d]", ins[2].Shape, M)
		}
		bias = ins[2].Data
	}
	ws, err := windows(n, H, W, KH, KW, false)
	if err != nil {
		return nil, err
	}
	OH, OW := ws[0].out, ws[1].out
	out, err := alloc([]int{N, M, OH, OW})
	if err != nil {
		return nil, err
	}
	s := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(s)
	convInto(n, x, wt, bias, out, ws, group, s)
	return out, nil
}

func batchNorm(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 2 {
		return nil, fmt.Errorf("input shape %v: want rank >= 2", x.Shape)
	}
	C := x.Shape[1]
	var p [4][]float32 // scale, B, mean, var
	for i := range p {
		t, err := in(ins, i+1)
		if err != nil {
			return nil, err
		}
		if len(t.Shape) != 1 || t.Shape[0] != C {
			return nil, fmt.Errorf("input %d shape %v, want [%d]", i+1, t.Shape, C)
		}
		p[i] = t.Data
	}
	eps := n.AttrFloat("epsilon", 1e-5)
	out, err := alloc(slices.Clone(x.Shape))
	if err != nil {
		return nil, err
	}
	inner := ShapeLen(x.Shape[2:])
	for b := range x.Shape[0] {
		for c := range C {
			s := p[0][c] / float32(math.Sqrt(float64(p[3][c]+eps)))
			base := (b*C + c) * inner
			for i := range inner {
				out.Data[base+i] = (x.Data[base+i]-p[2][c])*s + p[1][c]
			}
		}
	}
	return out, nil
}

func globalAvgPool(ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 3 {
		return nil, fmt.Errorf("input shape %v: want rank >= 3", x.Shape)
	}
	shape := slices.Clone(x.Shape)
	inner := ShapeLen(shape[2:])
	for i := 2; i < len(shape); i++ {
		shape[i] = 1
	}
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	for i := range out.Data {
		var s float32
		for _, v := range x.Data[i*inner : (i+1)*inner] {
			s += v
		}
		out.Data[i] = s / float32(inner)
	}
	return out, nil
}

func pool(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("input shape %v: only 2-D pooling (rank 4) is implemented", x.Shape)
	}
	ks := n.AttrInts("kernel_shape")
	if len(ks) != 2 || !windowRange(ks) {
		return nil, fmt.Errorf("kernel_shape %v: want 2 values from 1 to %d", ks, maxWindow)
	}
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	ws, err := windows(n, H, W, int(ks[0]), int(ks[1]), n.AttrInt("ceil_mode", 0) != 0)
	if err != nil {
		return nil, err
	}
	isMax := n.Op == "MaxPool"
	includePad := n.AttrInt("count_include_pad", 0) != 0
	OH, OW := ws[0].out, ws[1].out
	out, err := alloc([]int{N, C, OH, OW})
	if err != nil {
		return nil, err
	}
	for p := range N * C {
		plane := x.Data[p*H*W : (p+1)*H*W]
		for oh := range OH {
			for ow := range OW {
				acc := float32(0)
				if isMax {
					acc = float32(math.Inf(-1))
				}
				cnt := 0
				for kh := range ws[0].k {
					ih := oh*ws[0].stride - ws[0].padBegin + kh*ws[0].dil
					if ih < 0 || ih >= H {
						continue
					}
					for kw := range ws[1].k {
						iw := ow*ws[1].stride - ws[1].padBegin + kw*ws[1].dil
						if iw < 0 || iw >= W {
							continue
						}
						v := plane[ih*W+iw]
						if isMax {
							acc = max(acc, v)
						} else {
							acc += v
						}
						cnt++
					}
				}
				if !isMax {
					if includePad {
						// The window clipped to the padded input, padding included (as ONNX
						// Runtime counts: not the part past the end padding that ceil_mode adds).
						h0 := oh*ws[0].stride - ws[0].padBegin
						w0 := ow*ws[1].stride - ws[1].padBegin
						h1 := min(h0+ws[0].k, H+ws[0].padEnd)
						w1 := min(w0+ws[1].k, W+ws[1].padEnd)
						cnt = (h1 - h0) * (w1 - w0)
					}
					if cnt > 0 {
						acc /= float32(cnt)
					}
				}
				out.Data[(p*OH+oh)*OW+ow] = acc
			}
		}
	}
	return out, nil
}

func flatten(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	a, err := axis(n.AttrInt("axis", 1), len(x.Shape), len(x.Shape)+1)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: []int{ShapeLen(x.Shape[:a]), ShapeLen(x.Shape[a:])}, Data: x.Data}, nil
}

func reshape(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	spec := n.AttrInts("shape")
	allowZero := n.AttrInt("allowzero", 0) != 0
	shape := make([]int, len(spec))
	infer, known := -1, 1
	for i, d := range spec {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v: more than one -1", spec)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(x.Shape) {
				return nil, fmt.Errorf("shape %v: 0 at %d copies a dimension input %v lacks", spec, i, x.Shape)
			}
			shape[i] = x.Shape[i]
		case d < 0 || d > MaxElements:
			return nil, fmt.Errorf("shape %v: bad dimension %d", spec, d)
		default:
			shape[i] = int(d)
		}
		if shape[i] != 0 && known > MaxElements/shape[i] {
			return nil, fmt.Errorf("shape %v too large", spec)
		}
		known *= shape[i]
	}
	if infer >= 0 {
		if known == 0 || len(x.Data)%known != 0 {
			return nil, fmt.Errorf("shape %v: cannot infer -1 for %d elements", spec, len(x.Data))
		}
		shape[infer] = len(x.Data) / known
	}
	if ShapeLen(shape) != len(x.Data) {
		return nil, fmt.Errorf("shape %v (%v) holds %d elements, input %v has %d", spec, shape, ShapeLen(shape), x.Shape, len(x.Data))
	}
	return &Tensor{Shape: shape, Data: x.Data}, nil
}

// gemm runs a Gemm node; constB says whether B is one of the graph's initializers, whose packed
// copy is kept across runs (a computed B is packed anew on every run, by sgemm).
func gemm(n *Node, ins []*Tensor, constB bool) (*Tensor, error) {
	a, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	b, err := in(ins, 1)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, fmt.Errorf("A %v, B %v: want rank 2", a.Shape, b.Shape)
	}
	ta, tb := n.AttrInt("transA", 0) != 0, n.AttrInt("transB", 0) != 0
	alpha, beta := n.AttrFloat("alpha", 1), n.AttrFloat("beta", 1)
	M, K := a.Shape[0], a.Shape[1]
	if ta {
		M, K = K, M
	}
	K2, N := b.Shape[0], b.Shape[1]
	if tb {
		K2, N = N, K2
	}
	if K != K2 {
		return nil, fmt.Errorf("A %v (transA %v) and B %v (transB %v) do not multiply", a.Shape, ta, b.Shape, tb)
	}
	out, err := alloc([]int{M, N})
	if err != nil {
		return nil, err
	}
	var c *Tensor
	var cs []int
	if len(ins) > 2 && ins[2] != nil {
		c = ins[2]
		bs, err := broadcastShape(c.Shape, out.Shape)
		if err != nil || !slices.Equal(bs, out.Shape) {
			return nil, fmt.Errorf("C %v does not broadcast to [%d %d]", c.Shape, M, N)
		}
		cs = broadcastStrides(c.Shape, out.Shape)
	}
	am, bm := mat{a.Data, a.Shape[1], 1}, mat{b.Data, b.Shape[1], 1}
	if ta {
		am = am.t()
	}
	if tb {
		bm = bm.t()
	}
	s := gemmPool.Get().(*gemmScratch)
	if cm := (mat{out.Data, N, 1}); constB && tb && len(b.Data) > 0 {
		// B is the weights (N×K, PyTorch's layout): packed once and kept, as Conv's are. A B that
		// is not an initializer (a graph input, or computed) may change from run to run in the
		// same buffer, so it goes through sgemm, packed anew. The product is sgemm's, in its
		// orientation: the same sums. The weights are the left operand of Cᵀ = Bᵀ·Aᵀ, so sgemm's
		// transposed choice is their plain one.
		tr := !gemmTransposed(M, N)
		sgemmWeights(N, M, K, bm.t(), am.t(), cm.t(), n.weightsPacked(b.Data, N, K, 1, tr)[0], tr, s)
	} else {
		sgemm(M, N, K, am, bm, cm, s)
	}
	gemmPool.Put(s)
	for i := range M {
		for j := range N {
			acc := out.Data[i*N+j] * alpha
			if c != nil {
				acc += beta * c.Data[i*cs[0]+j*cs[1]]
			}
			out.Data[i*N+j] = acc
		}
	}
	return out, nil
}

func matmul(ins []*Tensor) (*Tensor, error) {
	a, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	b, err := in(ins, 1)
	if err != nil {
		return nil, err
	}
	as, bs := slices.Clone(a.Shape), slices.Clone(b.Shape)
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("A %v, B %v: scalars do not multiply", a.Shape, b.Shape)
	}
	vecA, vecB := len(as) == 1, len(bs) == 1
	if vecA {
		as = []int{1, as[0]}
	}
	if vecB {
		bs = []int{bs[0], 1}
	}
	M, K := as[len(as)-2], as[len(as)-1]
	K2, N := bs[len(bs)-2], bs[len(bs)-1]
	if K != K2 {
		return nil, fmt.Errorf("A %v and B %v do not multiply", a.Shape, b.Shape)
	}
	batch, err := broadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return nil, err
	}
	shape := append(slices.Clone(batch), M, N)
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	sa := broadcastStrides(as[:len(as)-2], batch)
	sb := broadcastStrides(bs[:len(bs)-2], batch)
	idx := make([]int, len(batch))
	s := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(s)
	for p := range ShapeLen(batch) {
		oa, ob := 0, 0
		for d := range batch {
			oa += idx[d] * sa[d]
			ob += idx[d] * sb[d]
		}
		A := a.Data[oa*M*K : (oa+1)*M*K]
		B := b.Data[ob*K*N : (ob+1)*K*N]
		O := out.Data[p*M*N : (p+1)*M*N]
		sgemm(M, N, K, mat{A, K, 1}, mat{B, N, 1}, mat{O, N, 1}, s)
		for d := len(batch) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	switch {
	case vecA && vecB:
		out.Shape = shape[:len(shape)-2]
	case vecA:
		out.Shape = append(shape[:len(shape)-2], N)
	case vecB:
		out.Shape = shape[:len(shape)-1]
	}
	return out, nil
}

func concat(n *Node, ins []*Tensor) (*Tensor, error) {
	if len(ins) == 0 || ins[0] == nil {
		return nil, fmt.Errorf("no inputs")
	}
	r := len(ins[0].Shape)
	a, err := axis(n.AttrInt("axis", 0), r, r)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(ins[0].Shape)
	shape[a] = 0
	for i, t := range ins {
		if t == nil || len(t.Shape) != r {
			return nil, fmt.Errorf("input %d missing or of another rank", i)
		}
		for d := range r {
			if d != a && t.Shape[d] != shape[d] {
				return nil, fmt.Errorf("input %d shape %v does not match %v outside axis %d", i, t.Shape, ins[0].Shape, a)
			}
		}
		shape[a] += t.Shape[a]
	}
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	outer, inner := ShapeLen(shape[:a]), ShapeLen(shape[a+1:])
	off := 0
	for o := range outer {
		for _, t := range ins {
			n := t.Shape[a] * inner
			off += copy(out.Data[off:], t.Data[o*n:(o+1)*n])
		}
	}
	return out, nil
}

func pad(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	pads := n.AttrInts("pads")
	if len(pads) != 2*r {
		return nil, fmt.Errorf("pads %v: want %d values for input %v", pads, 2*r, x.Shape)
	}
	mode := n.AttrString("mode", "constant")
	value := n.AttrFloat("value", 0)
	shape := make([]int, r)
	for d := range r {
		if pads[d] < -MaxElements || pads[d] > MaxElements || pads[d+r] < -MaxElements || pads[d+r] > MaxElements {
			return nil, fmt.Errorf("pads %v out of range", pads)
		}
		shape[d] = x.Shape[d] + int(pads[d]) + int(pads[d+r])
		if shape[d] < 0 {
			return nil, fmt.Errorf("pads %v crop input %v below zero", pads, x.Shape)
		}
		if mode != "constant" && shape[d] > 0 && x.Shape[d] == 0 {
			return nil, fmt.Errorf("mode %s pads an empty dimension", mode)
		}
		if mode == "reflect" && x.Shape[d] == 1 && shape[d] > 1 {
			return nil, fmt.Errorf("mode reflect pads dimension %d of size 1", d)
		}
	}
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	strides := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		strides[d] = s
		s *= x.Shape[d]
	}
	idx := make([]int, r)
	for k := range out.Data {
		off, inside := 0, true
		for d := range r {
			i := idx[d] - int(pads[d])
			size := x.Shape[d]
			if i < 0 || i >= size {
				switch mode {
				case "edge":
					i = min(max(i, 0), size-1)
				case "reflect":
					if size == 1 {
						i = 0
						break
					}
					period := 2 * (size - 1)
					i = ((i % period) + period) % period
					if i >= size {
						i = period - i
					}
				default:
					inside = false
				}
			}
			off += i * strides[d]
		}
		if inside {
			out.Data[k] = x.Data[off]
		} else {
			out.Data[k] = value
		}
		for d := r - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

func reduceMean(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	reduce := make([]bool, r)
	axes := n.AttrInts("axes")
	if axes == nil {
		for d := range reduce {
			reduce[d] = true
		}
	}
	for _, a := range axes {
		d, err := axis(a, r, r)
		if err != nil {
			return nil, err
		}
		reduce[d] = true
	}
	keep := n.AttrInt("keepdims", 1) != 0
	full := make([]int, r) // output shape with kept dimensions of size 1
	var shape []int
	count := 1
	for d := range r {
		if reduce[d] {
			full[d] = 1
			count *= x.Shape[d]
			if keep {
				shape = append(shape, 1)
			}
		} else {
			full[d] = x.Shape[d]
			shape = append(shape, x.Shape[d])
		}
	}
	if shape == nil {
		shape = []int{}
	}
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	st := broadcastStrides(full, x.Shape)
	idx := make([]int, r)
	o := 0
	for _, v := range x.Data {
		out.Data[o] += v
		for d := r - 1; d >= 0; d-- {
			o += st[d]
			if idx[d]++; idx[d] < x.Shape[d] {
				break
			}
			o -= st[d] * x.Shape[d]
			idx[d] = 0
		}
	}
	for i := range out.Data {
		out.Data[i] /= float32(count)
	}
	return out, nil
}

// softmax is ONNX's Softmax (opset 13: over one axis, default the last), computed in float64.
func softmax(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r == 0 {
		return nil, fmt.Errorf("input is a scalar")
	}
	ax, err := axis(n.AttrInt("axis", -1), r, r)
	if err != nil {
		return nil, err
	}
	out, err := alloc(slices.Clone(x.Shape))
	if err != nil {
		return nil, err
	}
	outer, inner := ShapeLen(x.Shape[:ax]), ShapeLen(x.Shape[ax+1:])
	d := x.Shape[ax]
	for o := range outer {
		for i := range inner {
			at := func(k int) int { return (o*d+k)*inner + i }
			m := math.Inf(-1)
			for k := range d {
				m = max(m, float64(x.Data[at(k)]))
			}
			var sum float64
			for k := range d {
				sum += math.Exp(float64(x.Data[at(k)]) - m)
			}
			for k := range d {
				out.Data[at(k)] = float32(math.Exp(float64(x.Data[at(k)])-m) / sum)
			}
		}
	}
	return out, nil
}

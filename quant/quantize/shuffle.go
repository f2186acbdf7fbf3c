package quantize

import (
	"fmt"
	"slices"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// The channel-shuffle family: Transpose, Reshape at any rank, Slice and Split, lowered onto the
// int8 model's layout. The graph is NCHW and the model NHWC, so a 4-D graph tensor's model tensor
// holds its dimensions in the order 0, 2, 3, 1. A graph tensor may also have a model tensor in
// another order, recorded in lowering.layout as a permutation L: model dimension d holds graph
// dimension L[d]. Transpose only relabels (no op); Slice and Split slice the model tensor along the
// model dimensions holding the graph's; Reshape keeps whatever order needs no data movement, and
// otherwise transposes once into the order that makes it a plain reshape. An op that needs the
// default order (Conv, Concat, ...) gets it through lowering.input, which adds the one Transpose
// that remains. torchvision's channel shuffle, Reshape [N, g, C/g, H, W] → Transpose(1, 2) →
// Reshape [N, C, H, W], so becomes Reshape [N, H, W, g, C/g] → Transpose to [N, H, W, C/g, g] →
// Reshape [N, H, W, C]. These ops keep their input's quantization (TensorFlow Lite requires it).

func init() {
	lowerers["Transpose"] = (*lowering).transpose
	lowerers["Reshape"] = (*lowering).reshapeAny
	lowerers["Flatten"] = (*lowering).reshapeAny
	lowerers["Slice"] = (*lowering).slice
	lowerers["Split"] = (*lowering).split
}

// defaultLayout is the model order of a graph tensor of rank r.
func defaultLayout(r int) []int {
	if r == 4 {
		return []int{0, 2, 3, 1}
	}
	return identity(r)
}

func identity(r int) []int {
	p := make([]int, r)
	for d := range p {
		p[d] = d
	}
	return p
}

func inverse(p []int) []int {
	inv := make([]int, len(p))
	for d, a := range p {
		inv[a] = d
	}
	return inv
}

// layoutOf returns the layout of graph tensor name.
func (l *lowering) layoutOf(name string) []int {
	if p, ok := l.layout[name]; ok {
		return p
	}
	return defaultLayout(len(l.shapes[name]))
}

func permute(shape, p []int) []int {
	out := make([]int, len(p))
	for d, a := range p {
		out[d] = shape[a]
	}
	return out
}

// rawInput returns the model tensor of input k as it is (any layout).
func (l *lowering) rawInput(i int, n *graph.Node, k int) (int, error) {
	t, err := l.computed(i, n, k)
	if err != nil {
		return 0, err
	}
	if chw, ok := l.flat[n.Inputs[k]]; ok {
		return 0, l.fail(i, "input %q flattens a [C, H, W] = %v map, which the model holds in HWC order: %s of it is not supported", n.Inputs[k], chw, n.Op)
	}
	return t, nil
}

// laidOut adds the model tensor of graph tensor name in layout p, quantized with q.
func (l *lowering) laidOut(name string, p []int, q *models.Quant) int {
	if slices.Equal(p, defaultLayout(len(p))) {
		delete(l.layout, name)
		delete(l.tensor, name)
		idx, _ := l.activation(name, q) // the shape is known: the callers checked it
		return idx
	}
	if l.layout == nil {
		l.layout = map[string][]int{}
	}
	l.m.Tensors = append(l.m.Tensors, models.Tensor{Name: fmt.Sprintf("%s%v", name, p), Type: models.Int8,
		Shape: permute(l.shapes[name], p), Quant: q})
	idx := len(l.m.Tensors) - 1
	l.tensor[name], l.layout[name] = idx, p
	return idx
}

// transposeTo adds a Transpose of model tensor x (graph tensor name, layout from) into layout to,
// as a tensor of its own, and returns it; x when the layouts are the same.
func (l *lowering) transposeTo(opName string, x int, name string, from, to []int) int {
	if slices.Equal(from, to) {
		return x
	}
	inv := inverse(from)
	perm := make([]int, len(to))
	for d, a := range to {
		perm[d] = inv[a]
	}
	t := &l.m.Tensors[x]
	l.m.Tensors = append(l.m.Tensors, models.Tensor{Name: fmt.Sprintf("%s%v", name, to), Type: models.Int8,
		Shape: permute(l.shapes[name], to), Quant: t.Quant})
	out := len(l.m.Tensors) - 1
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpTranspose, Name: opName, Axes: perm, Inputs: []int{x}, Outputs: []int{out}})
	return out
}

// materialize gives graph tensor name a model tensor in the default layout (a Transpose of the one
// it has) and returns it.
func (l *lowering) materialize(name string) (int, error) {
	x := l.tensor[name]
	from := l.layout[name]
	to := defaultLayout(len(from))
	q := l.m.Tensors[x].Quant
	delete(l.layout, name)
	delete(l.tensor, name)
	out, err := l.activation(name, q)
	if err != nil {
		return 0, err
	}
	inv := inverse(from)
	perm := make([]int, len(to))
	for d, a := range to {
		perm[d] = inv[a]
	}
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpTranspose, Name: name + "/to_default_layout", Axes: perm, Inputs: []int{x}, Outputs: []int{out}})
	return out, nil
}

// transpose relabels: the output shares the input's model tensor, in the layout that makes the
// permutation free. A graph output gets a copy in the default layout.
func (l *lowering) transpose(i int, n *graph.Node) error {
	if len(n.Outputs) != 1 {
		return l.fail(i, "%d outputs, want 1", len(n.Outputs))
	}
	x, err := l.rawInput(i, n, 0)
	if err != nil {
		return err
	}
	in := n.Inputs[0]
	perm, err := graph.Perm(n, len(l.shapes[in]))
	if err != nil {
		return l.fail(i, "%v", err)
	}
	from := l.layoutOf(in)
	invP := inverse(perm)
	to := make([]int, len(from))
	for d, a := range from {
		to[d] = invP[a]
	}
	out := n.Outputs[0]
	if !slices.Equal(permute(l.shapes[in], perm), l.shapes[out]) {
		return l.fail(i, "output shape %v, the permutation %v of %v gives %v", l.shapes[out], perm, l.shapes[in], permute(l.shapes[in], perm))
	}
	if l.g.IsOutput(out) {
		y := l.laidOut(out, defaultLayout(len(to)), l.m.Tensors[x].Quant)
		inv := inverse(to)
		p := make([]int, len(to))
		for d, a := range defaultLayout(len(to)) {
			p[d] = inv[a]
		}
		l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpTranspose, Name: n.Name, Axes: p, Inputs: []int{x}, Outputs: []int{y}})
		return nil
	}
	if l.layout == nil {
		l.layout = map[string][]int{}
	}
	l.tensor[out] = x
	if slices.Equal(to, defaultLayout(len(to))) {
		delete(l.layout, out)
	} else {
		l.layout[out] = to
	}
	return nil
}

// reshapeGroups pairs runs of input and output dimensions with equal products (size-1 dimensions
// join a neighbouring run): a reshape moves no data within each pair.
func reshapeGroups(in, out []int) ([][2][]int, error) {
	if slices.Contains(in, 0) || slices.Contains(out, 0) || len(in) == 0 || len(out) == 0 {
		return nil, fmt.Errorf("empty or scalar shapes %v, %v", in, out)
	}
	var groups [][2][]int
	i, j := 0, 0
	for i < len(in) && j < len(out) {
		g := [2][]int{{i}, {j}}
		pi, po := in[i], out[j]
		i++
		j++
		for pi != po {
			if (pi < po && i >= len(in)) || (pi > po && j >= len(out)) {
				return nil, fmt.Errorf("shapes %v and %v hold different numbers of elements", in, out)
			}
			if pi < po {
				pi *= in[i]
				g[0] = append(g[0], i)
				i++
			} else {
				po *= out[j]
				g[1] = append(g[1], j)
				j++
			}
		}
		groups = append(groups, g)
	}
	for ; i < len(in); i++ { // trailing size-1 dimensions
		groups[len(groups)-1][0] = append(groups[len(groups)-1][0], i)
	}
	for ; j < len(out); j++ {
		groups[len(groups)-1][1] = append(groups[len(groups)-1][1], j)
	}
	return groups, nil
}

// through maps a layout of one side of the groups (side 0: input, 1: output) to the other side,
// if every group's dimensions are consecutive and in order in it.
func through(groups [][2][]int, layout []int, side int) ([]int, bool) {
	which := make(map[int]int)
	for k, g := range groups {
		for _, a := range g[side] {
			which[a] = k
		}
	}
	var out []int
	for d := 0; d < len(layout); {
		g := groups[which[layout[d]]]
		for _, a := range g[side] {
			if d >= len(layout) || layout[d] != a {
				return nil, false
			}
			d++
		}
		out = append(out, g[1-side]...)
	}
	return out, true
}

// reshapeAny lowers Reshape and Flatten at any rank and layout (the historical reshape keeps the
// flattening of a 4-D tensor into a classifier's input, which moves no data either).
func (l *lowering) reshapeAny(i int, n *graph.Node) error {
	if len(n.Outputs) != 1 {
		return l.fail(i, "%d outputs, want 1", len(n.Outputs))
	}
	in, out := n.Inputs[0], n.Outputs[0]
	is, os := l.shapes[in], l.shapes[out]
	_, laid := l.layout[in]
	if (len(is) == 4 && len(os) == 2 && os[0] == is[0]) || (!laid && len(is) != 4 && len(os) != 4) {
		return l.reshape(i, n) // (input gives a flattened tensor the default layout first)
	}
	if _, ok := l.flat[in]; ok {
		return l.fail(i, "reshaping the flattened %v to %v is not supported", is, os)
	}
	x, err := l.rawInput(i, n, 0)
	if err != nil {
		return err
	}
	q := l.m.Tensors[x].Quant
	groups, err := reshapeGroups(is, os)
	if err != nil {
		return l.fail(i, "%v", err)
	}
	from := l.layoutOf(in)
	// Candidate output layouts, each costing a Transpose before the Reshape when the input is not
	// in the order it needs, and one after when the layout the readers see is not the default:
	// the default, the input's order kept, the order a sole Transpose reader turns into the
	// default, and the graph's order (always possible).
	def := defaultLayout(len(os))
	cands := [][]int{def}
	if keep, ok := through(groups, from, 0); ok {
		cands = append(cands, keep)
	}
	next := l.soleTranspose(out, len(os))
	if next != nil {
		want := make([]int, len(os))
		for d, a := range def {
			want[d] = next[a]
		}
		cands = append(cands, want)
	}
	cands = append(cands, identity(len(os)))
	best := -1
	var src, to []int
	for _, c := range cands {
		need, ok := through(groups, c, 1)
		if !ok {
			continue
		}
		cost := 0
		if !slices.Equal(need, from) {
			cost++
		}
		seen := c
		if next != nil {
			inv := inverse(next)
			seen = make([]int, len(c))
			for d, a := range c {
				seen[d] = inv[a]
			}
		}
		if !slices.Equal(seen, defaultLayout(len(seen))) {
			cost++
		}
		if best < 0 || cost < best {
			best, src, to = cost, need, c
		}
	}
	x = l.transposeTo(n.Name+"/layout", x, in, from, src)
	y := l.laidOut(out, to, q)
	l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpReshape, Name: n.Name, Inputs: []int{x}, Outputs: []int{y}})
	return nil
}

// soleTranspose returns the permutation of the Transpose that alone reads graph tensor name (of
// rank r), nil if there is none or name is a graph output.
func (l *lowering) soleTranspose(name string, r int) []int {
	if l.g.IsOutput(name) {
		return nil
	}
	var reader *graph.Node
	for _, n := range l.g.Nodes {
		for _, in := range n.Inputs {
			if in == name {
				if reader != nil {
					return nil
				}
				reader = n
			}
		}
	}
	if reader == nil || reader.Op != "Transpose" {
		return nil
	}
	p, err := graph.Perm(reader, r)
	if err != nil {
		return nil
	}
	return p
}

// sliceOp adds the Slice of model tensor x (graph tensor in) to graph tensor out, given the graph
// window begin/step/size.
func (l *lowering) sliceOp(i int, n *graph.Node, x int, in, out string, begin, step, size []int) error {
	if !slices.Equal(size, l.shapes[out]) {
		return l.fail(i, "output %q has shape %v, the slice computes %v", out, l.shapes[out], size)
	}
	lay := l.layoutOf(in)
	op := models.Op{Type: models.OpSlice, Name: n.Name, Inputs: []int{x}}
	strided := false
	for _, a := range lay {
		if step[a] < 1 {
			return l.fail(i, "step %d on dimension %d: only positive steps are supported", step[a], a)
		}
		if size[a] == 0 {
			return l.fail(i, "dimension %d of the slice is empty", a)
		}
		op.Paddings = append(op.Paddings, begin[a], begin[a]+(size[a]-1)*step[a]+1)
		op.Axes = append(op.Axes, step[a])
		strided = strided || step[a] != 1
	}
	if !strided {
		op.Axes = nil
	}
	if out != n.Outputs[0] || len(n.Outputs) > 1 {
		op.Name = fmt.Sprintf("%s/%s", n.Name, out)
	}
	if l.g.IsOutput(out) && !slices.Equal(lay, defaultLayout(len(lay))) {
		// A graph output is in the default layout: slice, then transpose.
		tmp := l.m.Tensors[x]
		l.m.Tensors = append(l.m.Tensors, models.Tensor{Name: fmt.Sprintf("%s%v", out, lay), Type: models.Int8, Shape: permute(size, lay), Quant: tmp.Quant})
		t := len(l.m.Tensors) - 1
		op.Outputs = []int{t}
		l.m.Ops = append(l.m.Ops, op)
		y := l.laidOut(out, defaultLayout(len(lay)), tmp.Quant)
		l.tensor[out] = y
		inv := inverse(lay)
		p := make([]int, len(lay))
		for d, a := range defaultLayout(len(lay)) {
			p[d] = inv[a]
		}
		l.m.Ops = append(l.m.Ops, models.Op{Type: models.OpTranspose, Name: op.Name + "/to_default_layout", Axes: p, Inputs: []int{t}, Outputs: []int{y}})
		return nil
	}
	op.Outputs = []int{l.laidOut(out, lay, l.m.Tensors[x].Quant)}
	l.m.Ops = append(l.m.Ops, op)
	return nil
}

func (l *lowering) slice(i int, n *graph.Node) error {
	if len(n.Outputs) != 1 {
		return l.fail(i, "%d outputs, want 1", len(n.Outputs))
	}
	x, err := l.rawInput(i, n, 0)
	if err != nil {
		return err
	}
	begin, step, size, err := graph.SliceWindow(n, l.shapes[n.Inputs[0]])
	if err != nil {
		return l.fail(i, "%v", err)
	}
	return l.sliceOp(i, n, x, n.Inputs[0], n.Outputs[0], begin, step, size)
}

// split lowers each output of a Split as a Slice of the input.
func (l *lowering) split(i int, n *graph.Node) error {
	x, err := l.rawInput(i, n, 0)
	if err != nil {
		return err
	}
	in := n.Inputs[0]
	shape := l.shapes[in]
	axis, sizes, err := graph.SplitSizes(n, shape)
	if err != nil {
		return l.fail(i, "%v", err)
	}
	b := 0
	for k, o := range n.Outputs {
		begin, step, size := make([]int, len(shape)), make([]int, len(shape)), slices.Clone(shape)
		for d := range step {
			step[d] = 1
		}
		begin[axis], size[axis] = b, sizes[k]
		b += sizes[k]
		if o == "" {
			continue
		}
		if err := l.sliceOp(i, n, x, in, o, begin, step, size); err != nil {
			return err
		}
	}
	return nil
}

// ceilPads turns a pool's ceil_mode into extra bottom and right padding: enough that the floor
// rule gives the output size ceil_mode does (the graph's, from the calibration run). The int8 pools
// leave padding out of every window (TensorFlow Lite's explicit padding), so the extra windows see
// the input only, as ONNX's do.
func (l *lowering) ceilPads(i int, n *graph.Node, op *models.Op) error {
	in, out := l.shapes[n.Inputs[0]], l.shapes[n.Outputs[0]]
	if len(in) != 4 || len(out) != 4 {
		return l.fail(i, "ceil_mode pooling of %v to %v: want 4-D", in, out)
	}
	for k := range 2 {
		s := max(op.Stride[k], 1)
		need := (out[2+k]-1)*s + op.Kernel[k] - in[2+k] - op.Pad[k]
		op.Pad[2+k] = max(op.Pad[2+k], need)
		if (out[2+k]-1)*s >= in[2+k]+op.Pad[k] {
			return l.fail(i, "ceil_mode: a window would start in the padding")
		}
	}
	return nil
}

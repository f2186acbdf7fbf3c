package transform

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// Simplify runs every pass until none changes the graph, and returns how many rewrites each made.
func Simplify(g *graph.Graph) (map[string]int, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	passes := []struct {
		name string
		run  func(*graph.Graph) (int, error)
	}{
		{"fold constants", FoldConstants},
		{"remove identity", RemoveIdentity},
		{"matmul to gemm", MatMulToGemm},
		{"fold batchnorm", FoldBatchNorm},
		{"fold channel affine", FoldChannelAffine},
		{"fuse swish", FuseSwish},
		{"fold pad", FoldPad},
		{"fuse branches", FuseBranches},
		{"fuse activations", FuseActivations},
		{"fuse gelu", FuseGelu},
		{"fuse layernorm", FuseLayerNorm},
		{"fuse linear", FuseLinear},
		{"fuse tokens", FuseTokens},
		{"split heads", SplitHeads},
		{"remove dead nodes", RemoveDead},
	}
	counts := map[string]int{}
	for round := 0; ; round++ {
		if round > 100 {
			return counts, fmt.Errorf("transform: graph %q: passes do not converge", g.Name)
		}
		changed := 0
		for _, p := range passes {
			n, err := p.run(g)
			if err != nil {
				return counts, err
			}
			if err := g.Validate(); err != nil {
				return counts, fmt.Errorf("transform: after %s: %w", p.name, err)
			}
			counts[p.name] += n
			changed += n
		}
		if changed == 0 {
			break
		}
	}
	PruneInitializers(g)
	return counts, nil
}

// PruneInitializers deletes the initializers no node reads.
func PruneInitializers(g *graph.Graph) {
	used := map[string]bool{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			used[in] = true
		}
	}
	for _, o := range g.Outputs {
		used[o.Name] = true
	}
	for name := range g.Initializers {
		if !used[name] {
			delete(g.Initializers, name)
		}
	}
}

// uses counts the nodes that read each tensor (a node reading it twice counts twice) plus one for
// a graph output.
func uses(g *graph.Graph) map[string]int {
	u := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			u[in]++
		}
	}
	for _, o := range g.Outputs {
		u[o.Name]++
	}
	return u
}

// producers maps each node output to its node.
func producers(g *graph.Graph) map[string]*graph.Node {
	p := map[string]*graph.Node{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			p[o] = n
		}
	}
	return p
}

// absorb removes node n, whose output equals the output of node prev (computed from n's input,
// which only n reads): prev now writes n's output name, so that graph outputs keep their names.
func absorb(g *graph.Graph, prev, n *graph.Node) {
	prev.Outputs[0] = n.Outputs[0]
	g.Nodes = slices.DeleteFunc(g.Nodes, func(x *graph.Node) bool { return x == n })
}

// uniqueName returns base, or base with a numeric suffix, unused by any tensor of g.
func uniqueName(g *graph.Graph, base string) string {
	taken := func(s string) bool {
		if g.Initializers[s] != nil {
			return true
		}
		for _, t := range g.Inputs {
			if t.Name == s {
				return true
			}
		}
		for _, n := range g.Nodes {
			if slices.Contains(n.Outputs, s) {
				return true
			}
		}
		return false
	}
	name := base
	for i := 1; taken(name); i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return name
}

// addConst adds an initializer named after base and returns its name.
func addConst(g *graph.Graph, base string, shape []int, data []float32) string {
	name := uniqueName(g, base)
	g.Initializers[name] = &graph.Tensor{Name: name, Shape: shape, Data: data}
	return name
}

// RemoveDead deletes the nodes whose outputs nothing reads and that are no graph outputs.
func RemoveDead(g *graph.Graph) (int, error) {
	count := 0
	for {
		u := uses(g)
		n0 := len(g.Nodes)
		g.Nodes = slices.DeleteFunc(g.Nodes, func(n *graph.Node) bool {
			for _, o := range n.Outputs {
				if o != "" && u[o] > 0 {
					return false
				}
			}
			return true
		})
		if len(g.Nodes) == n0 {
			return count, nil
		}
		count += n0 - len(g.Nodes)
	}
}

// FoldConstants replaces each node whose inputs are all initializers by its outputs, computed.
func FoldConstants(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		if len(n.Inputs) == 0 || len(n.Outputs) != 1 || slices.ContainsFunc(g.Outputs, func(t *graph.Tensor) bool { return t.Name == n.Outputs[0] }) {
			continue
		}
		sub := graph.New(g.Name)
		all := true
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			c := g.Const(in)
			if c == nil {
				all = false
				break
			}
			sub.Initializers[in] = c
		}
		if !all {
			continue
		}
		sub.Nodes = []*graph.Node{n}
		sub.Outputs = []*graph.Tensor{{Name: n.Outputs[0]}}
		out, err := sub.Run(nil)
		if err != nil {
			return count, fmt.Errorf("transform: folding constant %s: %w", g.Describe(i), err)
		}
		t := out[n.Outputs[0]].Clone()
		t.Name = n.Outputs[0]
		g.Initializers[t.Name] = t
		g.Nodes = slices.Delete(g.Nodes, i, i+1)
		i--
		count++
	}
	return count, nil
}

// RemoveIdentity drops Identity nodes (and so Dropout, which the importer makes Identity).
func RemoveIdentity(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		if n.Op != "Identity" || len(n.Inputs) != 1 || len(n.Outputs) != 1 {
			continue
		}
		in, out := n.Inputs[0], n.Outputs[0]
		if !g.IsOutput(out) {
			// Readers of out read in.
			for _, m := range g.Nodes {
				for j := range m.Inputs {
					if m.Inputs[j] == out {
						m.Inputs[j] = in
					}
				}
			}
			g.Nodes = slices.Delete(g.Nodes, i, i+1)
			i--
			count++
			continue
		}
		// out is a graph output: let in's producer write it, if in is nobody else's.
		prev := producers(g)[in]
		if prev == nil || len(prev.Outputs) != 1 || uses(g)[in] != 1 {
			continue
		}
		for _, m := range g.Nodes {
			for j := range m.Inputs {
				if m.Inputs[j] == in && m != n {
					m.Inputs[j] = out
				}
			}
		}
		absorb(g, prev, n)
		i--
		count++
	}
	return count, nil
}

// bnParams returns BatchNormalization node n's per-channel scale s = gamma/sqrt(var+eps) and shift
// t = beta - mean*s (y = x*s + t), or ok false when its parameters are not constants.
func bnParams(g *graph.Graph, n *graph.Node) (s, t []float32, ok bool, err error) {
	if len(n.Inputs) != 5 {
		return nil, nil, false, nil
	}
	var p [4]*graph.Tensor
	for i := range p {
		if p[i] = g.Const(n.Inputs[i+1]); p[i] == nil {
			return nil, nil, false, nil
		}
	}
	c := len(p[0].Data)
	for i := range p {
		if len(p[i].Shape) != 1 || len(p[i].Data) != c {
			return nil, nil, false, fmt.Errorf("transform: BatchNormalization %q: parameter %q has shape %v, want [%d]", n.Name, n.Inputs[i+1], p[i].Shape, c)
		}
	}
	eps := n.AttrFloat("epsilon", 1e-5)
	s, t = make([]float32, c), make([]float32, c)
	for i := range c {
		// As graph.Run computes it, in float32 after a float64 square root.
		s[i] = p[0].Data[i] / float32(math.Sqrt(float64(p[3].Data[i]+eps)))
		t[i] = p[1].Data[i] - p[2].Data[i]*s[i]
		if isBad(s[i]) || isBad(t[i]) {
			return nil, nil, false, fmt.Errorf("transform: BatchNormalization %q: channel %d has a non-finite scale or shift (variance %g, epsilon %g)", n.Name, i, p[3].Data[i], eps)
		}
	}
	return s, t, true, nil
}

func isBad(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }

// FoldBatchNorm folds each BatchNormalization into the Conv or Gemm that alone feeds it, and
// rewrites any other BatchNormalization of a tensor known to be 4-D as a 1x1 depthwise Conv.
func FoldBatchNorm(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		if n.Op != "BatchNormalization" || len(n.Outputs) < 1 {
			continue
		}
		s, t, ok, err := bnParams(g, n)
		if err != nil {
			return count, err
		}
		if !ok {
			continue
		}
		changed, removed, err := applyAffine(g, n, s, t)
		if err != nil {
			return count, err
		}
		if removed {
			i--
		}
		if changed {
			count++
		}
	}
	return count, nil
}

// applyAffine replaces node n, which computes s[c]*x + t[c] per channel c of its input x, by folding
// the affine map into the Conv or Gemm that alone feeds it (removed: n is gone from g.Nodes), or, for
// a 4-D input, by a 1x1 depthwise Conv in n's place. changed is false when neither applies.
func applyAffine(g *graph.Graph, n *graph.Node, s, t []float32) (changed, removed bool, err error) {
	prev := producers(g)[n.Inputs[0]]
	if prev != nil && len(prev.Outputs) == 1 && uses(g)[n.Inputs[0]] == 1 {
		if _, _, fused := graph.FusedClamp(prev); !fused {
			done, err := foldInto(g, prev, s, t)
			if err != nil {
				return false, false, err
			}
			if done {
				absorb(g, prev, n)
				return true, true, nil
			}
		}
	}
	// An affine map of its own: a 1x1 depthwise Conv, for a 4-D input (Run checks that the channel
	// count is len(s)).
	if staticRanks(g)[n.Inputs[0]] != 4 {
		return false, false, nil
	}
	c := len(s)
	w := addConst(g, n.Name+"_w", []int{c, 1, 1, 1}, s)
	b := addConst(g, n.Name+"_b", []int{c}, t)
	*n = graph.Node{Name: n.Name, Op: "Conv", Inputs: []string{n.Inputs[0], w, b}, Outputs: n.Outputs[:1],
		Attrs: map[string]graph.Attr{"group": graph.Int(int64(c)), "kernel_shape": graph.Ints(1, 1)}}
	return true, false, nil
}

// foldInto scales node prev's output channels by s and adds t, if prev is a Conv or a Gemm with
// constant weights (and bias). It reports whether it did.
func foldInto(g *graph.Graph, prev *graph.Node, s, t []float32) (bool, error) {
	c := len(s)
	switch prev.Op {
	case "Conv":
		w := g.Const(prev.Inputs[1])
		if w == nil || len(w.Shape) != 4 || w.Shape[0] != c {
			return false, nil
		}
		var bias []float32
		if len(prev.Inputs) > 2 && prev.Inputs[2] != "" {
			bt := g.Const(prev.Inputs[2])
			if bt == nil || len(bt.Data) != c {
				return false, nil
			}
			bias = bt.Data
		}
		per := len(w.Data) / c
		nw := make([]float32, len(w.Data))
		nb := make([]float32, c)
		for m := range c {
			for k := range per {
				nw[m*per+k] = w.Data[m*per+k] * s[m]
			}
			var b float32
			if bias != nil {
				b = bias[m]
			}
			nb[m] = b*s[m] + t[m]
		}
		wn := addConst(g, prev.Name+"_wfold", slices.Clone(w.Shape), nw)
		bn := addConst(g, prev.Name+"_bfold", []int{c}, nb)
		prev.Inputs = []string{prev.Inputs[0], wn, bn}
		return true, nil
	case "Gemm":
		if prev.AttrInt("transA", 0) != 0 {
			return false, nil
		}
		b := g.Const(prev.Inputs[1])
		if b == nil || len(b.Shape) != 2 {
			return false, nil
		}
		tb := prev.AttrInt("transB", 0) != 0
		K, N := b.Shape[0], b.Shape[1]
		if tb {
			K, N = N, K
		}
		if N != c {
			return false, nil
		}
		alpha, beta := prev.AttrFloat("alpha", 1), prev.AttrFloat("beta", 1)
		bias := make([]float32, N)
		if len(prev.Inputs) > 2 && prev.Inputs[2] != "" {
			ct := g.Const(prev.Inputs[2])
			if ct == nil {
				return false, nil
			}
			switch {
			case len(ct.Data) == 1:
				for j := range bias {
					bias[j] = beta * ct.Data[0]
				}
			case len(ct.Data) == N && ct.Shape[len(ct.Shape)-1] == N:
				for j := range bias {
					bias[j] = beta * ct.Data[j]
				}
			default:
				return false, nil // C varies by row: not a per-channel bias
			}
		}
		// New B in transB form [N, K]: alpha*s[j]*B[k, j].
		nw := make([]float32, N*K)
		for j := range N {
			for k := range K {
				var v float32
				if tb {
					v = b.Data[j*b.Shape[1]+k]
				} else {
					v = b.Data[k*b.Shape[1]+j]
				}
				nw[j*K+k] = alpha * v * s[j]
			}
			bias[j] = bias[j]*s[j] + t[j]
		}
		wn := addConst(g, prev.Name+"_wfold", []int{N, K}, nw)
		bn := addConst(g, prev.Name+"_bfold", []int{N}, bias)
		prev.Inputs = []string{prev.Inputs[0], wn, bn}
		prev.Attrs = map[string]graph.Attr{"transB": graph.Int(1)}
		return true, nil
	}
	return false, nil
}

// MatMulToGemm rewrites MatMul(A, B) with a constant 2-D B and a 2-D A as Gemm(A, Bᵀ) with
// transB, so that BatchNorm folding and quantization see one form of fully connected layer.
// A's rank is known only at run time: MatMul on rank-2 tensors is the only form Gemm accepts,
// which graph.Run checks, so a MatMul on a rank-3 input is left alone when the graph input shapes
// say so.
func MatMulToGemm(g *graph.Graph) (int, error) {
	count := 0
	shapes := staticRanks(g)
	for _, n := range g.Nodes {
		if n.Op != "MatMul" || len(n.Inputs) != 2 {
			continue
		}
		b := g.Const(n.Inputs[1])
		if b == nil || len(b.Shape) != 2 || shapes[n.Inputs[0]] != 2 {
			continue
		}
		K, N := b.Shape[0], b.Shape[1]
		nw := make([]float32, N*K)
		for k := range K {
			for j := range N {
				nw[j*K+k] = b.Data[k*N+j]
			}
		}
		w := addConst(g, n.Name+"_wt", []int{N, K}, nw)
		n.Op = "Gemm"
		n.Inputs = []string{n.Inputs[0], w}
		n.Attrs = map[string]graph.Attr{"transB": graph.Int(1)}
		count++
	}
	return count, nil
}

// staticRanks infers the rank of the tensors it can from the graph inputs' ranks: enough to
// recognise fully connected layers.
func staticRanks(g *graph.Graph) map[string]int {
	r := map[string]int{}
	for _, t := range g.Inputs {
		r[t.Name] = len(t.Shape)
	}
	for name, t := range g.Initializers {
		r[name] = len(t.Shape)
	}
	for _, n := range g.Nodes {
		if len(n.Outputs) != 1 || len(n.Inputs) == 0 {
			continue
		}
		in, ok := r[n.Inputs[0]]
		if !ok {
			continue
		}
		switch n.Op {
		case "Conv", "BatchNormalization", "Relu", "Clip", "Identity", "GlobalAveragePool", "AveragePool", "MaxPool", "Pad", "Concat",
			"Sigmoid", "HardSigmoid", "HardSwish", "SiLU":
			r[n.Outputs[0]] = in
		case "Add", "Mul":
			if len(n.Inputs) == 2 {
				if in2, ok := r[n.Inputs[1]]; ok {
					r[n.Outputs[0]] = max(in, in2)
				}
			}
		case "Flatten", "Gemm":
			r[n.Outputs[0]] = 2
		case "Reshape":
			if s := n.AttrInts("shape"); s != nil {
				r[n.Outputs[0]] = len(s)
			}
		case "ReduceMean":
			if n.AttrInt("keepdims", 1) != 0 {
				r[n.Outputs[0]] = in
			} else if ax := n.AttrInts("axes"); ax != nil {
				r[n.Outputs[0]] = in - len(ax)
			}
		}
	}
	// Graph outputs past ops the walk does not follow (attention, LayerNorm): their declared shapes.
	for _, t := range g.Outputs {
		if _, ok := r[t.Name]; !ok && t.Shape != nil {
			r[t.Name] = len(t.Shape)
		}
	}
	return r
}

// activationBounds returns the clamp a Relu or Clip node applies, if it is one quantized models
// fuse (ReLU, ReLU6, ReLU-1..1).
func activationBounds(n *graph.Node) (lo, hi float32, ok bool) {
	inf := float32(math.Inf(1))
	switch n.Op {
	case "Relu":
		return 0, inf, true
	case "Clip":
		lo, hi := n.AttrFloat("min", -inf), n.AttrFloat("max", inf)
		if (lo == 0 && (hi == 6 || hi == inf)) || (lo == -1 && hi == 1) {
			return lo, hi, true
		}
	}
	return 0, 0, false
}

// FuseActivations merges Relu and Clip(0, 6) / Clip(-1, 1) nodes into the Conv, Gemm or Add
// that alone feeds them.
func FuseActivations(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		lo, hi, ok := activationBounds(n)
		if !ok || len(n.Inputs) < 1 {
			continue
		}
		prev := producers(g)[n.Inputs[0]]
		if prev == nil || len(prev.Outputs) != 1 || uses(g)[n.Inputs[0]] != 1 {
			continue
		}
		if prev.Op != "Conv" && prev.Op != "Gemm" && prev.Op != "Add" {
			continue
		}
		if plo, phi, fused := graph.FusedClamp(prev); fused {
			// Relu after Relu6 and the like: the intersection.
			lo, hi = max(lo, plo), min(hi, phi)
		}
		if prev.Attrs == nil {
			prev.Attrs = map[string]graph.Attr{}
		}
		prev.Attrs[graph.ActMin] = graph.Float(lo)
		prev.Attrs[graph.ActMax] = graph.Float(hi)
		absorb(g, prev, n)
		i--
		count++
	}
	return count, nil
}

// FoldPad merges Pad (constant mode, value 0, spatial axes of a 4-D tensor only, not negative)
// into the Conv nodes that alone read its output.
func FoldPad(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		n := g.Nodes[i]
		if n.Op != "Pad" || n.AttrString("mode", "constant") != "constant" || n.AttrFloat("value", 0) != 0 {
			continue
		}
		p := n.AttrInts("pads")
		if len(p) != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || slices.ContainsFunc(p, func(v int64) bool { return v < 0 }) {
			continue
		}
		out := n.Outputs[0]
		if g.IsOutput(out) {
			continue
		}
		readers := g.Consumers(out)
		okAll := len(readers) > 0
		for _, r := range readers {
			m := g.Nodes[r]
			if m.Op != "Conv" || m.Inputs[0] != out || slices.Contains(m.Inputs[1:], out) || m.AttrString("auto_pad", "NOTSET") != "NOTSET" {
				okAll = false
			}
		}
		if !okAll {
			continue
		}
		for _, r := range readers {
			m := g.Nodes[r]
			cp := m.AttrInts("pads")
			if cp == nil {
				cp = make([]int64, 4)
			}
			np := []int64{cp[0] + p[2], cp[1] + p[3], cp[2] + p[6], cp[3] + p[7]}
			if m.Attrs == nil {
				m.Attrs = map[string]graph.Attr{}
			}
			m.Attrs["pads"] = graph.Ints(np...)
			m.Inputs[0] = n.Inputs[0]
		}
		g.Nodes = slices.Delete(g.Nodes, i, i+1)
		i--
		count++
	}
	return count, nil
}

// AppendSoftmax makes the graph's first output probabilities: a Softmax over the last axis of a
// 2-D output (logits) that is not already one. It reports whether it added one.
func AppendSoftmax(g *graph.Graph) (bool, error) {
	if len(g.Outputs) == 0 {
		return false, fmt.Errorf("transform: graph %q has no output", g.Name)
	}
	out := g.Outputs[0].Name
	if p := producers(g)[out]; p != nil && p.Op == "Softmax" {
		return false, nil
	}
	if r, ok := staticRanks(g)[out]; !ok || r != 2 {
		return false, fmt.Errorf("transform: graph %q: output %q is not a 2-D tensor of scores", g.Name, out)
	}
	name := uniqueName(g, out+"/softmax")
	g.Nodes = append(g.Nodes, &graph.Node{Name: name, Op: "Softmax", Inputs: []string{out}, Outputs: []string{name},
		Attrs: map[string]graph.Attr{"axis": graph.Int(-1)}})
	g.Outputs[0] = &graph.Tensor{Name: name, Shape: g.Outputs[0].Shape}
	return true, g.Validate()
}

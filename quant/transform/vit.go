package transform

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// The transformer family's passes: they turn the forms PyTorch exports (decomposed LayerNorm and
// GELU, MatMul + Add for Linear layers on tokens, heads split by Reshape + Transpose) into nodes
// that quantize as single int8 ops, without any Mul or MatMul of two computed tensors left except
// the attention's, which become BatchMatMul nodes over one head each.

// single returns the node that alone reads tensor name (nil if it is read by none, several, or is
// a graph output).
func single(g *graph.Graph, u map[string]int, name string) *graph.Node {
	if u[name] != 1 {
		return nil
	}
	for _, n := range g.Nodes {
		if slices.Contains(n.Inputs, name) {
			return n
		}
	}
	return nil
}

// scalarOf returns the value of a one-element constant.
func scalarOf(g *graph.Graph, name string) (float32, bool) {
	t := g.Const(name)
	if t == nil || len(t.Data) != 1 {
		return 0, false
	}
	return t.Data[0], true
}

// near reports whether v is within a relative 1e-4 of want.
func near(v float32, want float64) bool {
	return math.Abs(float64(v)-want) <= 1e-4*math.Abs(want)
}

// other returns the input of binary node n that is not name, and whether name is an input.
func other(n *graph.Node, name string) (string, bool) {
	if len(n.Inputs) != 2 {
		return "", false
	}
	switch name {
	case n.Inputs[0]:
		return n.Inputs[1], true
	case n.Inputs[1]:
		return n.Inputs[0], true
	}
	return "", false
}

// binaryConst matches n as op(x, c) or op(c, x) (commutative ops) with a scalar constant c.
func binaryConst(g *graph.Graph, n *graph.Node, op string) (x string, c float32, ok bool) {
	if n == nil || n.Op != op || len(n.Inputs) != 2 {
		return "", 0, false
	}
	if v, ok := scalarOf(g, n.Inputs[1]); ok {
		return n.Inputs[0], v, true
	}
	if op == "Mul" || op == "Add" {
		if v, ok := scalarOf(g, n.Inputs[0]); ok {
			return n.Inputs[1], v, true
		}
	}
	return "", 0, false
}

// removeNodes deletes the given nodes from g.
func removeNodes(g *graph.Graph, dead ...*graph.Node) {
	g.Nodes = slices.DeleteFunc(g.Nodes, func(n *graph.Node) bool { return slices.Contains(dead, n) })
}

// FuseGelu replaces the GELU subgraphs of PyTorch's export, the erf form
// x·0.5·(1 + erf(x/√2)) (Div or Mul, Erf, Add, Mul, Mul in either order) and the tanh form
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), by one Gelu node (approximate "none" or "tanh").
func FuseGelu(g *graph.Graph) (int, error) {
	count := 0
	for changed := true; changed; {
		changed = false
		u := uses(g)
		prod := producers(g)
		for _, n := range g.Nodes {
			if n.Op != "Erf" && n.Op != "Tanh" {
				continue
			}
			x, inner, ok := geluInput(g, prod, u, n)
			if !ok {
				continue
			}
			// 1 + f(...)
			add := single(g, u, n.Outputs[0])
			if _, c, ok := binaryConst(g, add, "Add"); !ok || c != 1 {
				continue
			}
			// x·(1 + f)·0.5, with the 0.5 applied first or last.
			m1 := single(g, u, add.Outputs[0])
			if m1 == nil || m1.Op != "Mul" {
				continue
			}
			y, _ := other(m1, add.Outputs[0])
			var last *graph.Node
			var half *graph.Node
			switch {
			case y == x:
				last = single(g, u, m1.Outputs[0])
				if xx, c, ok := binaryConst(g, last, "Mul"); !ok || c != 0.5 || xx != m1.Outputs[0] {
					continue
				}
			default:
				half = prod[y]
				if xx, c, ok := binaryConst(g, half, "Mul"); !ok || c != 0.5 || xx != x || u[y] != 1 {
					continue
				}
				last = m1
			}
			approx := "none"
			if n.Op == "Tanh" {
				approx = "tanh"
			}
			gelu := &graph.Node{Name: last.Name, Op: "Gelu", Inputs: []string{x}, Outputs: []string{last.Outputs[0]},
				Attrs: map[string]graph.Attr{"approximate": graph.String(approx)}}
			dead := append(inner, n, add, m1)
			if half != nil {
				dead = append(dead, half)
			}
			g.Nodes[slices.Index(g.Nodes, last)] = gelu
			removeNodes(g, dead...) // last is already replaced
			count++
			changed = true
			break
		}
	}
	return count, nil
}

// geluInput matches the argument of GELU's Erf (x/√2 or x·(1/√2)) or Tanh (√(2/π)·(x +
// 0.044715·x³), x³ as Pow(x, 3) or x·x·x) and returns x and the nodes that compute the argument.
func geluInput(g *graph.Graph, prod map[string]*graph.Node, u map[string]int, f *graph.Node) (string, []*graph.Node, bool) {
	arg := prod[f.Inputs[0]]
	if arg == nil || u[f.Inputs[0]] != 1 {
		return "", nil, false
	}
	if f.Op == "Erf" {
		if x, c, ok := binaryConst(g, arg, "Div"); ok && near(c, math.Sqrt2) {
			return x, []*graph.Node{arg}, true
		}
		if x, c, ok := binaryConst(g, arg, "Mul"); ok && near(c, 1/math.Sqrt2) {
			return x, []*graph.Node{arg}, true
		}
		return "", nil, false
	}
	s, c, ok := binaryConst(g, arg, "Mul")
	if !ok || !near(c, math.Sqrt(2/math.Pi)) || u[s] != 1 {
		return "", nil, false
	}
	sum := prod[s]
	if sum == nil || sum.Op != "Add" || len(sum.Inputs) != 2 {
		return "", nil, false
	}
	for k := range 2 {
		x, cubeTerm := sum.Inputs[k], sum.Inputs[1-k]
		mc := prod[cubeTerm]
		cube, c, ok := binaryConst(g, mc, "Mul")
		if !ok || !near(c, 0.044715) || u[cubeTerm] != 1 || u[cube] != 1 {
			continue
		}
		pw := prod[cube]
		if p, e, ok := binaryConst(g, pw, "Pow"); ok && e == 3 && p == x {
			return x, []*graph.Node{arg, sum, mc, pw}, true
		}
	}
	return "", nil, false
}

// FuseLayerNorm replaces the decomposed LayerNorm of older opsets, ReduceMean → Sub → Pow(2) →
// ReduceMean → Add(ε) → Sqrt → Div, then an optional Mul by a constant scale and Add of a constant
// bias, all over the last axis, by one LayerNormalization node.
func FuseLayerNorm(g *graph.Graph) (int, error) {
	count := 0
	ranks := staticRanks(g)
	lastAxis := func(n *graph.Node, x string) bool {
		ax := n.AttrInts("axes")
		if len(ax) != 1 || n.AttrInt("keepdims", 1) == 0 {
			return false
		}
		r, ok := ranks[x]
		return ax[0] == -1 || (ok && ax[0] == int64(r-1))
	}
	for changed := true; changed; {
		changed = false
		u := uses(g)
		prod := producers(g)
		for _, mean := range g.Nodes {
			if mean.Op != "ReduceMean" || len(mean.Inputs) != 1 {
				continue
			}
			x := mean.Inputs[0]
			if !lastAxis(mean, x) {
				continue
			}
			sub := single(g, u, mean.Outputs[0])
			if sub == nil || sub.Op != "Sub" || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0] {
				continue
			}
			d := sub.Outputs[0]
			if u[d] != 2 {
				continue
			}
			var pw, div *graph.Node
			for _, n := range g.Nodes {
				if !slices.Contains(n.Inputs, d) {
					continue
				}
				switch {
				case n.Op == "Pow":
					if _, e, ok := binaryConst(g, n, "Pow"); ok && e == 2 && n.Inputs[0] == d {
						pw = n
					}
				case n.Op == "Mul" && n.Inputs[0] == d && n.Inputs[1] == d:
					pw = n
				case n.Op == "Div" && n.Inputs[0] == d:
					div = n
				}
			}
			if pw == nil || div == nil || (pw.Op == "Mul" && u[d] != 3) {
				continue
			}
			vr := single(g, u, pw.Outputs[0])
			if vr == nil || vr.Op != "ReduceMean" || !lastAxis(vr, pw.Outputs[0]) {
				continue
			}
			addEps := single(g, u, vr.Outputs[0])
			_, eps, ok := binaryConst(g, addEps, "Add")
			if !ok || eps < 0 {
				continue
			}
			sq := single(g, u, addEps.Outputs[0])
			if sq == nil || sq.Op != "Sqrt" || prod[div.Inputs[1]] != sq || u[sq.Outputs[0]] != 1 {
				continue
			}
			dead := []*graph.Node{mean, sub, pw, vr, addEps, sq, div}
			last := div
			var gamma, beta string
			if mul := single(g, u, div.Outputs[0]); mul != nil && mul.Op == "Mul" {
				if c, ok := other(mul, div.Outputs[0]); ok && g.Const(c) != nil {
					gamma, last = c, mul
					dead = append(dead, mul)
				}
			}
			if add := single(g, u, last.Outputs[0]); add != nil && add.Op == "Add" {
				if c, ok := other(add, last.Outputs[0]); ok && g.Const(c) != nil {
					beta, last = c, add
					dead = append(dead, add)
				}
			}
			ln := &graph.Node{Name: last.Name, Op: "LayerNormalization", Outputs: []string{last.Outputs[0]},
				Attrs: map[string]graph.Attr{"axis": graph.Int(-1), "epsilon": graph.Float(eps)}}
			if gamma == "" {
				gamma = addConst(g, mean.Name+"_ones", []int{}, []float32{1})
			}
			ln.Inputs = []string{x, gamma}
			if beta != "" {
				ln.Inputs = append(ln.Inputs, beta)
			}
			g.Nodes[slices.Index(g.Nodes, last)] = ln
			removeNodes(g, dead...) // last is already replaced
			count++
			changed = true
			break
		}
	}
	return count, nil
}

// FuseLinear turns MatMul(x, W) with a constant 2-D W that MatMulToGemm leaves alone (x of rank 3
// or unknown: tokens) into Linear(x, W), and folds a following Add of a constant bias [N] into it.
func FuseLinear(g *graph.Graph) (int, error) {
	count := 0
	u := uses(g)
	for _, n := range g.Nodes {
		if n.Op == "MatMul" && len(n.Inputs) == 2 && g.Const(n.Inputs[0]) == nil {
			if w := g.Const(n.Inputs[1]); w != nil && len(w.Shape) == 2 {
				n.Op = "Linear"
				count++
			}
		}
	}
	for _, n := range slices.Clone(g.Nodes) { // absorb deletes from g.Nodes
		if n.Op != "Linear" || len(n.Inputs) != 2 {
			continue
		}
		add := single(g, u, n.Outputs[0])
		if add == nil || add.Op != "Add" {
			continue
		}
		if _, _, clamped := graph.FusedClamp(add); clamped {
			continue
		}
		c, ok := other(add, n.Outputs[0])
		b := g.Const(c)
		N := g.Const(n.Inputs[1]).Shape[1]
		if !ok || b == nil || len(b.Data) != N || b.Shape[len(b.Shape)-1] != N {
			continue
		}
		bias := addConst(g, n.Name+"_bias", []int{N}, slices.Clone(b.Data))
		n.Inputs = append(n.Inputs, bias)
		absorb(g, n, add)
		count++
	}
	return count, nil
}

// FuseTokens replaces PyTorch's x.flatten(2).transpose(1, 2) of a convolution's NCHW output
// (Reshape to [N, C, -1], Transpose [0, 2, 1]) by one ToTokens node, which the int8 model does as
// a Reshape of its NHWC tensor.
func FuseTokens(g *graph.Graph) (int, error) {
	count := 0
	u := uses(g)
	prod := producers(g)
	for _, tr := range slices.Clone(g.Nodes) { // removeNodes deletes from g.Nodes
		if tr.Op != "Transpose" || !slices.Equal(tr.AttrInts("perm"), []int64{0, 2, 1}) {
			continue
		}
		rs := prod[tr.Inputs[0]]
		if rs == nil || rs.Op != "Reshape" || u[rs.Outputs[0]] != 1 {
			continue
		}
		spec := rs.AttrInts("shape")
		conv := prod[rs.Inputs[0]]
		if len(spec) != 3 || conv == nil || conv.Op != "Conv" || (spec[0] != 0 && spec[0] != 1) || spec[2] != -1 {
			continue
		}
		w := g.Const(conv.Inputs[1])
		if w == nil || len(w.Shape) != 4 || (spec[1] != int64(w.Shape[0]) && spec[1] != 0) {
			continue
		}
		tr.Op, tr.Inputs, tr.Attrs = "ToTokens", []string{rs.Inputs[0]}, map[string]graph.Attr{}
		removeNodes(g, rs)
		count++
	}
	return count, nil
}

// headSource is where one of q, k, v comes from: columns col0 to col0 + h·dh of a Linear's output.
type headSource struct {
	lin         *graph.Node
	h, dh, col0 int
	nodes       []*graph.Node // matched, to delete
}

// headSplit matches Transpose(Reshape(Linear(x), [.., T, H, dh]), perm), or timm's fused form
// Gather(Transpose(Reshape(Linear(x), [.., T, 3, H, dh]), [2, 0, 3, 1, 4]), s) (when perm is
// [0, 2, 1, 3]), and returns the Linear, the head geometry and the nodes matched.
func headSplit(g *graph.Graph, u map[string]int, prod map[string]*graph.Node, name string, perm []int64) (headSource, bool) {
	lin, h, dh, nodes, ok := headSplit4(g, u, prod, name, perm)
	if ok {
		return headSource{lin: lin, h: h, dh: dh, nodes: nodes}, true
	}
	if !slices.Equal(perm, []int64{0, 2, 1, 3}) {
		return headSource{}, false
	}
	ga := prod[name]
	if ga == nil || ga.Op != "Gather" || ga.AttrInt("axis", 0) != 0 || u[name] != 1 {
		return headSource{}, false
	}
	idx := ga.AttrInts("indices")
	if len(idx) != 1 || len(ga.AttrInts("indices_shape")) != 0 || idx[0] < 0 || idx[0] > 2 {
		return headSource{}, false
	}
	tr := prod[ga.Inputs[0]]
	if tr == nil || tr.Op != "Transpose" || !slices.Equal(tr.AttrInts("perm"), []int64{2, 0, 3, 1, 4}) || u[ga.Inputs[0]] != 3 {
		return headSource{}, false
	}
	rs := prod[tr.Inputs[0]]
	if rs == nil || rs.Op != "Reshape" || u[tr.Inputs[0]] != 1 {
		return headSource{}, false
	}
	spec := rs.AttrInts("shape")
	if len(spec) != 5 || spec[2] != 3 || spec[3] <= 0 || spec[4] <= 0 {
		return headSource{}, false
	}
	lin = prod[rs.Inputs[0]]
	if lin == nil || lin.Op != "Linear" || u[rs.Inputs[0]] != 1 {
		return headSource{}, false
	}
	h, dh = int(spec[3]), int(spec[4])
	if w := g.Const(lin.Inputs[1]); w == nil || w.Shape[1] != 3*h*dh {
		return headSource{}, false
	}
	return headSource{lin: lin, h: h, dh: dh, col0: int(idx[0]) * h * dh, nodes: []*graph.Node{ga, tr, rs, lin}}, true
}

// headSplit4 is headSplit's separate form: Transpose(Reshape(Linear(x), [.., T, H, dh]), perm).
func headSplit4(g *graph.Graph, u map[string]int, prod map[string]*graph.Node, name string, perm []int64) (lin *graph.Node, h, dh int, nodes []*graph.Node, ok bool) {
	tr := prod[name]
	if tr == nil || tr.Op != "Transpose" || !slices.Equal(tr.AttrInts("perm"), perm) || u[name] != 1 {
		return nil, 0, 0, nil, false
	}
	rs := prod[tr.Inputs[0]]
	if rs == nil || rs.Op != "Reshape" || u[tr.Inputs[0]] != 1 {
		return nil, 0, 0, nil, false
	}
	spec := rs.AttrInts("shape")
	if len(spec) != 4 || spec[2] <= 0 || spec[3] <= 0 {
		return nil, 0, 0, nil, false
	}
	lin = prod[rs.Inputs[0]]
	if lin == nil || lin.Op != "Linear" || u[rs.Inputs[0]] != 1 {
		return nil, 0, 0, nil, false
	}
	h, dh = int(spec[2]), int(spec[3])
	if w := g.Const(lin.Inputs[1]); w == nil || w.Shape[1] != h*dh {
		return nil, 0, 0, nil, false
	}
	return lin, h, dh, []*graph.Node{tr, rs, lin}, true
}

// SplitHeads rewrites multi-head attention as PyTorch exports it, from q, k and v Linear layers
// whose outputs are split into heads by Reshape [.., T, H, dh] + Transpose [0, 2, 1, 3] (k also
// transposed to [0, 1, 3, 2], or split with [0, 2, 3, 1]), or from timm's single qkv Linear
// (Reshape [.., T, 3, H, dh], Transpose [2, 0, 3, 1, 4], Gather 0, 1, 2), scores q·kᵀ (MatMul, then optionally
// Mul or Div by a constant), Softmax over the last axis, ·v (MatMul), and heads merged by
// Transpose [0, 2, 1, 3] + Reshape [.., T, D], into one branch per head on rank-3 token tensors:
// Linear layers with that head's columns (the score scale folded into q's), BatchMatMul with
// adj_y, Softmax, BatchMatMul, and a Concat of the heads along the last axis. Nothing 4-D is
// left, so the int8 model needs no transposes and keeps every tensor in its own layout.
func SplitHeads(g *graph.Graph) (int, error) {
	count := 0
	for changed := true; changed; {
		changed = false
		u := uses(g)
		prod := producers(g)
		for _, merge := range g.Nodes {
			if merge.Op != "Reshape" || len(merge.AttrInts("shape")) != 3 {
				continue
			}
			rw, err := matchAttention(g, u, prod, merge)
			if err != nil {
				return count, fmt.Errorf("transform: graph %q: attention at %q: %w", g.Name, merge.Name, err)
			}
			if rw == nil {
				continue
			}
			at := slices.Index(g.Nodes, merge)
			g.Nodes = slices.Concat(g.Nodes[:at], rw.nodes, g.Nodes[at+1:])
			removeNodes(g, rw.dead...)
			count++
			changed = true
			break
		}
	}
	return count, nil
}

type attentionRewrite struct {
	nodes []*graph.Node // the new nodes, in order, ending with the Concat
	dead  []*graph.Node
}

func matchAttention(g *graph.Graph, u map[string]int, prod map[string]*graph.Node, merge *graph.Node) (*attentionRewrite, error) {
	tr := prod[merge.Inputs[0]]
	if tr == nil || tr.Op != "Transpose" || !slices.Equal(tr.AttrInts("perm"), []int64{0, 2, 1, 3}) || u[merge.Inputs[0]] != 1 {
		return nil, nil
	}
	pv := prod[tr.Inputs[0]]
	if pv == nil || pv.Op != "MatMul" || u[tr.Inputs[0]] != 1 {
		return nil, nil
	}
	sm := prod[pv.Inputs[0]]
	if sm == nil || sm.Op != "Softmax" || u[pv.Inputs[0]] != 1 {
		return nil, nil
	}
	if ax := sm.AttrInt("axis", -1); ax != -1 && ax != 3 {
		return nil, nil
	}
	dead := []*graph.Node{merge, tr, pv, sm}
	scale := float32(1)
	s := sm.Inputs[0]
	if n := prod[s]; n != nil && (n.Op == "Mul" || n.Op == "Div") && u[s] == 1 {
		if x, c, ok := binaryConst(g, n, n.Op); ok {
			scale = c
			if n.Op == "Div" {
				scale = 1 / c
			}
			s = x
			dead = append(dead, n)
		}
	}
	qk := prod[s]
	if qk == nil || qk.Op != "MatMul" || u[s] != 1 {
		return nil, nil
	}
	dead = append(dead, qk)
	sq, ok := headSplit(g, u, prod, qk.Inputs[0], []int64{0, 2, 1, 3})
	if !ok {
		return nil, nil
	}
	sk, ok := headSplit(g, u, prod, qk.Inputs[1], []int64{0, 2, 3, 1})
	if !ok {
		kt := prod[qk.Inputs[1]]
		if kt == nil || kt.Op != "Transpose" || !slices.Equal(kt.AttrInts("perm"), []int64{0, 1, 3, 2}) || u[qk.Inputs[1]] != 1 {
			return nil, nil
		}
		if sk, ok = headSplit(g, u, prod, kt.Inputs[0], []int64{0, 2, 1, 3}); !ok {
			return nil, nil
		}
		dead = append(dead, kt)
	}
	sv, ok := headSplit(g, u, prod, pv.Inputs[1], []int64{0, 2, 1, 3})
	if !ok {
		return nil, nil
	}
	H, dh := sq.h, sq.dh
	if sk.h != H || sv.h != H || sk.dh != dh || sv.dh != dh {
		return nil, fmt.Errorf("q, k and v are split into %d×%d, %d×%d and %d×%d heads", H, dh, sk.h, sk.dh, sv.h, sv.dh)
	}
	if spec := merge.AttrInts("shape"); spec[2] != int64(H*dh) && spec[2] != -1 {
		return nil, nil
	}
	dead = slices.Concat(dead, sq.nodes, sk.nodes, sv.nodes)
	rw := &attentionRewrite{dead: dead}
	name := merge.Name
	head := func(src headSource, h int, tag string, mul float32) string {
		lin := src.lin
		w := g.Const(lin.Inputs[1])
		K, N := w.Shape[0], w.Shape[1]
		c0 := src.col0 + h*dh
		wd := make([]float32, K*dh)
		for k := range K {
			for j := range dh {
				wd[k*dh+j] = w.Data[k*N+c0+j] * mul
			}
		}
		ins := []string{lin.Inputs[0], addConst(g, fmt.Sprintf("%s_%s%d_w", name, tag, h), []int{K, dh}, wd)}
		if len(lin.Inputs) > 2 {
			b := g.Const(lin.Inputs[2])
			bd := make([]float32, dh)
			for j := range dh {
				bd[j] = b.Data[c0+j] * mul
			}
			ins = append(ins, addConst(g, fmt.Sprintf("%s_%s%d_b", name, tag, h), []int{dh}, bd))
		}
		out := uniqueName(g, fmt.Sprintf("%s_%s%d", name, tag, h))
		rw.nodes = append(rw.nodes, &graph.Node{Name: out, Op: "Linear", Inputs: ins, Outputs: []string{out}, Attrs: map[string]graph.Attr{}})
		return out
	}
	add := func(op, tag string, h int, attrs map[string]graph.Attr, ins ...string) string {
		out := uniqueName(g, fmt.Sprintf("%s_%s%d", name, tag, h))
		rw.nodes = append(rw.nodes, &graph.Node{Name: out, Op: op, Inputs: ins, Outputs: []string{out}, Attrs: attrs})
		return out
	}
	var heads []string
	for h := range H {
		q := head(sq, h, "q", scale)
		k := head(sk, h, "k", 1)
		v := head(sv, h, "v", 1)
		sc := add("BatchMatMul", "scores", h, map[string]graph.Attr{"adj_y": graph.Int(1)}, q, k)
		p := add("Softmax", "probs", h, map[string]graph.Attr{"axis": graph.Int(-1)}, sc)
		heads = append(heads, add("BatchMatMul", "attn", h, map[string]graph.Attr{}, p, v))
	}
	rw.nodes = append(rw.nodes, &graph.Node{Name: name, Op: "Concat", Inputs: heads, Outputs: []string{merge.Outputs[0]},
		Attrs: map[string]graph.Attr{"axis": graph.Int(-1)}})
	return rw, nil
}

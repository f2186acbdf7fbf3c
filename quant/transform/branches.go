package transform

import (
	"slices"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// convInfo is what FuseBranches needs of a Conv node.
type convInfo struct {
	node       *graph.Node
	w          *graph.Tensor
	bias       []float32 // nil: none
	group      int
	pads       [4]int // top, left, bottom, right
	strides    [2]int
	kh, kw     int
	m, cg      int
	hasBiasArg bool
}

func readConv(g *graph.Graph, n *graph.Node) (convInfo, bool) {
	ci := convInfo{node: n}
	if n == nil || n.Op != "Conv" || len(n.Inputs) < 2 || len(n.Outputs) != 1 {
		return ci, false
	}
	if _, _, fused := graph.FusedClamp(n); fused || n.AttrString("auto_pad", "NOTSET") != "NOTSET" {
		return ci, false
	}
	for _, d := range n.AttrInts("dilations") {
		if d != 1 {
			return ci, false
		}
	}
	ci.w = g.Const(n.Inputs[1])
	if ci.w == nil || len(ci.w.Shape) != 4 {
		return ci, false
	}
	ci.m, ci.cg, ci.kh, ci.kw = ci.w.Shape[0], ci.w.Shape[1], ci.w.Shape[2], ci.w.Shape[3]
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		b := g.Const(n.Inputs[2])
		if b == nil || len(b.Data) != ci.m {
			return ci, false
		}
		ci.bias = b.Data
	}
	ci.group = int(n.AttrInt("group", 1))
	if ci.group < 1 || ci.m%ci.group != 0 {
		return ci, false
	}
	if p := n.AttrInts("pads"); p != nil {
		if len(p) != 4 {
			return ci, false
		}
		for i, v := range p {
			ci.pads[i] = int(v)
		}
	}
	ci.strides = [2]int{1, 1}
	if s := n.AttrInts("strides"); s != nil {
		if len(s) != 2 {
			return ci, false
		}
		ci.strides = [2]int{int(s[0]), int(s[1])}
	}
	return ci, true
}

// contains reports whether conv b's taps fit inside conv a's window at offsets (dy, dx): both
// compute the same output positions from the same input positions.
func contains(a, b convInfo) (dy, dx int, ok bool) {
	dy, dx = a.pads[0]-b.pads[0], a.pads[1]-b.pads[1]
	ey, ex := a.pads[2]-b.pads[2], a.pads[3]-b.pads[3]
	ok = dy >= 0 && dx >= 0 && ey >= 0 && ex >= 0 && a.kh == b.kh+dy+ey && a.kw == b.kw+dx+ex && a.strides == b.strides
	return dy, dx, ok
}

// FuseBranches merges Add(Conv(x), Conv(x)) into one Conv (see the package comment). Both Convs
// must read the same x, be read only by the Add, have constant weights, stride-aligned centred
// windows, no dilation and no fused activation; a grouped (depthwise) branch added to a dense one
// is expanded to dense.
func FuseBranches(g *graph.Graph) (int, error) {
	count := 0
	for i := 0; i < len(g.Nodes); i++ {
		add := g.Nodes[i]
		if add.Op != "Add" || len(add.Inputs) != 2 || len(add.Outputs) != 1 || add.Inputs[0] == add.Inputs[1] {
			continue
		}
		if _, _, fused := graph.FusedClamp(add); fused {
			continue
		}
		prod := producers(g)
		u := uses(g)
		a, okA := readConv(g, prod[add.Inputs[0]])
		b, okB := readConv(g, prod[add.Inputs[1]])
		if !okA || !okB || u[add.Inputs[0]] != 1 || u[add.Inputs[1]] != 1 || a.node.Inputs[0] != b.node.Inputs[0] || a.m != b.m {
			continue
		}
		dy, dx, ok := contains(a, b)
		if !ok {
			a, b = b, a
			if dy, dx, ok = contains(a, b); !ok {
				continue
			}
		}
		// Input channels: a dense conv knows them; two grouped convs must agree.
		var group, cg int
		switch {
		case a.group == b.group && a.cg == b.cg:
			group, cg = a.group, a.cg
		case a.group == 1 && b.cg*b.group == a.cg:
			group, cg = 1, a.cg
		case b.group == 1 && a.cg*a.group == b.cg:
			group, cg = 1, b.cg
		default:
			continue
		}
		M, KH, KW := a.m, a.kh, a.kw
		w := make([]float32, M*cg*KH*KW)
		bias := make([]float32, M)
		// place adds conv c's kernel into w at tap offset (oy, ox), expanding groups if needed.
		place := func(c convInfo, oy, ox int) {
			mg := c.m / c.group
			for m := range M {
				base := 0
				if group == 1 && c.group > 1 {
					base = (m / mg) * c.cg // first input channel of m's group
				}
				for ci := range c.cg {
					for ky := range c.kh {
						for kx := range c.kw {
							w[((m*cg+base+ci)*KH+ky+oy)*KW+kx+ox] += c.w.Data[((m*c.cg+ci)*c.kh+ky)*c.kw+kx]
						}
					}
				}
				if c.bias != nil {
					bias[m] += c.bias[m]
				}
			}
		}
		place(a, 0, 0)
		place(b, dy, dx)
		wn := addConst(g, add.Name+"_wfused", []int{M, cg, KH, KW}, w)
		bn := addConst(g, add.Name+"_bfused", []int{M}, bias)
		fused := &graph.Node{Name: add.Name, Op: "Conv", Inputs: []string{a.node.Inputs[0], wn, bn}, Outputs: add.Outputs,
			Attrs: map[string]graph.Attr{
				"group":        graph.Int(int64(group)),
				"kernel_shape": graph.Ints(int64(KH), int64(KW)),
				"pads":         graph.Ints(int64(a.pads[0]), int64(a.pads[1]), int64(a.pads[2]), int64(a.pads[3])),
				"strides":      graph.Ints(int64(a.strides[0]), int64(a.strides[1])),
			}}
		g.Nodes[i] = fused
		g.Nodes = slices.DeleteFunc(g.Nodes, func(x *graph.Node) bool { return x == a.node || x == b.node })
		i = -1 // indices moved: rescan
		count++
	}
	return count, nil
}

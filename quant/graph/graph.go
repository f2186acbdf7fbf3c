package graph

import (
	"fmt"
	"slices"
	"sort"
)

// Tensor is a named float32 tensor, row-major. Shape dimensions of -1 are unknown (graph inputs with
// a symbolic batch size); a tensor with Data is a constant and has a fully known Shape.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Len is the number of elements the shape holds (-1 when a dimension is unknown).
func (t *Tensor) Len() int { return ShapeLen(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// ShapeLen is the product of the dimensions (1 for a scalar, -1 when one is negative).
func ShapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// AttrKind says which field of an Attr holds its value.
type AttrKind uint8

// Attribute kinds, ONNX's scalar and list attribute types.
const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
)

func (k AttrKind) String() string {
	switch k {
	case AttrInt:
		return "int"
	case AttrFloat:
		return "float"
	case AttrString:
		return "string"
	case AttrInts:
		return "ints"
	case AttrFloats:
		return "floats"
	}
	return fmt.Sprintf("AttrKind(%d)", uint8(k))
}

// Attr is a node attribute; Kind says which field is meaningful.
type Attr struct {
	Kind   AttrKind
	Int    int64
	Float  float32
	String string
	Ints   []int64
	Floats []float32
}

// Int, Float, String, Ints and Floats build attributes.
func Int(v int64) Attr         { return Attr{Kind: AttrInt, Int: v} }
func Float(v float32) Attr     { return Attr{Kind: AttrFloat, Float: v} }
func String(v string) Attr     { return Attr{Kind: AttrString, String: v} }
func Ints(v ...int64) Attr     { return Attr{Kind: AttrInts, Ints: v} }
func Floats(v ...float32) Attr { return Attr{Kind: AttrFloats, Floats: v} }

// Node is one operation. Inputs and Outputs are tensor names; an empty input name is an omitted
// optional input.
type Node struct {
	Name    string
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   map[string]Attr
}

// AttrInt returns the int attribute name, or def when n has none.
func (n *Node) AttrInt(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrInt {
		return a.Int
	}
	return def
}

// AttrFloat returns the float attribute name, or def when n has none.
func (n *Node) AttrFloat(name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrFloat {
		return a.Float
	}
	return def
}

// AttrString returns the string attribute name, or def when n has none.
func (n *Node) AttrString(name, def string) string {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrString {
		return a.String
	}
	return def
}

// AttrInts returns the ints attribute name, or nil when n has none.
func (n *Node) AttrInts(name string) []int64 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrInts {
		return a.Ints
	}
	return nil
}

// Graph is a float32 model: Inputs are fed by the caller (Data nil), Outputs are what Run returns,
// Initializers are the constants, Nodes run in order.
type Graph struct {
	Name         string
	Inputs       []*Tensor
	Outputs      []*Tensor
	Initializers map[string]*Tensor
	Nodes        []*Node
}

// New returns an empty graph.
func New(name string) *Graph {
	return &Graph{Name: name, Initializers: map[string]*Tensor{}}
}

// Const returns the initializer called name, or nil.
func (g *Graph) Const(name string) *Tensor {
	if g.Initializers == nil {
		return nil
	}
	return g.Initializers[name]
}

// Describe names node i for error messages: `node 3 "conv1" (Conv)`.
func (g *Graph) Describe(i int) string {
	if i < 0 || i >= len(g.Nodes) {
		return fmt.Sprintf("node %d", i)
	}
	return fmt.Sprintf("node %d %q (%s)", i, g.Nodes[i].Name, g.Nodes[i].Op)
}

// Validate checks the graph's wiring: every node input is a graph input, an initializer or the
// output of an earlier node; every tensor is produced once; every graph output is produced;
// initializer data matches its shape.
func (g *Graph) Validate() error {
	// Where each tensor comes from: a node's index, or fromInput, fromInitializer (described only
	// in an error message: Run validates on every call).
	const fromInput, fromInitializer = -1, -2
	have := make(map[string]int, len(g.Inputs)+len(g.Initializers)+len(g.Nodes))
	source := func(i int) string {
		switch i {
		case fromInput:
			return "graph input"
		case fromInitializer:
			return "initializer"
		}
		return g.Describe(i)
	}
	for _, t := range g.Inputs {
		if t == nil || t.Name == "" {
			return fmt.Errorf("graph: %q: unnamed input", g.Name)
		}
		if _, dup := have[t.Name]; dup {
			return fmt.Errorf("graph: %q: input %q declared twice", g.Name, t.Name)
		}
		have[t.Name] = fromInput
	}
	names := make([]string, 0, len(g.Initializers))
	for name := range g.Initializers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := g.Initializers[name]
		if t == nil || t.Name != name {
			return fmt.Errorf("graph: %q: initializer %q: missing or misnamed", g.Name, name)
		}
		if n := ShapeLen(t.Shape); n < 0 || n != len(t.Data) {
			return fmt.Errorf("graph: %q: initializer %q: shape %v holds %d values, data has %d", g.Name, name, t.Shape, n, len(t.Data))
		}
		if _, dup := have[name]; dup {
			return fmt.Errorf("graph: %q: %q is both a graph input and an initializer", g.Name, name)
		}
		have[name] = fromInitializer
	}
	for i, n := range g.Nodes {
		if n == nil {
			return fmt.Errorf("graph: %q: node %d is nil", g.Name, i)
		}
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			if _, ok := have[in]; !ok {
				return fmt.Errorf("graph: %q: %s: input %q is not produced before it", g.Name, g.Describe(i), in)
			}
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if by, dup := have[out]; dup {
				return fmt.Errorf("graph: %q: %s: output %q already comes from %s", g.Name, g.Describe(i), out, source(by))
			}
			have[out] = i
		}
	}
	for _, t := range g.Outputs {
		if t == nil || t.Name == "" {
			return fmt.Errorf("graph: %q: unnamed output", g.Name)
		}
		if _, ok := have[t.Name]; !ok {
			return fmt.Errorf("graph: %q: output %q is never produced", g.Name, t.Name)
		}
	}
	return nil
}

// Producer returns the index of the node that outputs the tensor called name, or -1 (a graph
// input, an initializer or an unknown name).
func (g *Graph) Producer(name string) int {
	for i, n := range g.Nodes {
		if slices.Contains(n.Outputs, name) {
			return i
		}
	}
	return -1
}

// Consumers returns the indices of the nodes that read the tensor called name, in order.
func (g *Graph) Consumers(name string) []int {
	var idx []int
	for i, n := range g.Nodes {
		if slices.Contains(n.Inputs, name) {
			idx = append(idx, i)
		}
	}
	return idx
}

// IsOutput reports whether the tensor called name is a graph output.
func (g *Graph) IsOutput(name string) bool {
	return slices.ContainsFunc(g.Outputs, func(t *Tensor) bool { return t.Name == name })
}

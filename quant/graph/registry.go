package graph

// floatOp computes one node in float32: it returns one tensor per node output, allocated with alloc
// (or sharing an input's Data when the op only relabels it, as Reshape does). Run applies the node's
// fused clamp (FusedClamp) to every output afterwards.
type floatOp func(n *Node, ins []*Tensor) ([]*Tensor, error)

// floatOps holds the ops implemented outside runSwitch's historical cases, one file per op family
// (activations.go, shuffle.go, ...), each registering its ops in an init function.
var floatOps = map[string]floatOp{}

// one wraps a single-output op.
func one(f func(n *Node, ins []*Tensor) (*Tensor, error)) floatOp {
	return func(n *Node, ins []*Tensor) ([]*Tensor, error) {
		t, err := f(n, ins)
		if err != nil {
			return nil, err
		}
		return []*Tensor{t}, nil
	}
}

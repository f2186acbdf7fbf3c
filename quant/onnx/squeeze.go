package onnx

import (
	"fmt"
	"slices"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// Squeeze and Unsqueeze of computed float tensors (PyTorch's exports of attention write
// qkv.unbind(0) as Split then Squeeze): the input shapes are static, so each is a Reshape to the
// shape it gives. (Of integer shape tensors they are folded in shapes.go.)

func init() {
	for _, op := range []string{"Squeeze", "Unsqueeze"} {
		attrKinds[op] = map[string]graph.AttrKind{"axes": graph.AttrInts}
		arity[op] = [3]int{1, 2, 1}
		nodeHooks[op] = squeezeHook(op == "Unsqueeze")
	}
}

func squeezeHook(unsqueeze bool) nodeHook {
	return func(imp *importer, gn *graph.Node, ins []string) error {
		var axes []int64
		if a, ok := gn.Attrs["axes"]; ok {
			axes = a.Ints
		}
		if len(ins) > 1 {
			t := imp.ints[ins[1]]
			if t == nil {
				return fmt.Errorf("axes %q: computed axes are %w", ins[1], ErrUnsupported)
			}
			axes = t.data
		}
		if unsqueeze && len(axes) == 0 {
			return fmt.Errorf("Unsqueeze without axes")
		}
		in, err := imp.computedShape(ins[0])
		if err != nil {
			return fmt.Errorf("the shape of %q: %w", ins[0], err)
		}
		if !unsqueeze && len(axes) == 1 {
			if sp, at, ok := imp.splitPart(ins[0], axes[0], len(in)); ok {
				// q, k, v = qkv (Split into parts of 1, each squeezed): a part is a Gather of its
				// index on that axis, the form the attention rewrite (transform.SplitHeads) matches.
				// The Split, once no part of it is read, is removed as dead.
				gn.Op = "Gather"
				gn.Attrs = map[string]graph.Attr{"axis": graph.Int(sp.AttrInt("axis", 0)), "indices": graph.Ints(int64(at)),
					"indices_shape": graph.Ints()}
				gn.Inputs = []string{sp.Inputs[0]}
				return nil
			}
		}
		s, err := squeezeInts(&intTensor{shape: slices.Clone(in)}, axes, unsqueeze)
		if err != nil {
			return err
		}
		shape := make([]int64, len(s.shape))
		for i, d := range s.shape {
			shape[i] = int64(d)
		}
		gn.Op = "Reshape"
		gn.Attrs = map[string]graph.Attr{"shape": graph.Ints(shape...)}
		gn.Inputs = ins[:1]
		return nil
	}
}

// splitPart reports whether tensor name is an output of a Split node on axis (of a rank-r tensor)
// whose part of it has size 1, and where on the axis that part is.
func (imp *importer) splitPart(name string, axis int64, r int) (*graph.Node, int, bool) {
	if axis < 0 {
		axis += int64(r)
	}
	for i := len(imp.g.Nodes) - 1; i >= 0; i-- {
		n := imp.g.Nodes[i]
		k := slices.Index(n.Outputs, name)
		if k < 0 {
			continue
		}
		if n.Op != "Split" {
			return nil, 0, false
		}
		a := n.AttrInt("axis", 0)
		if a < 0 {
			a += int64(r)
		}
		if a != axis {
			return nil, 0, false
		}
		parts := n.AttrInts("split")
		if parts != nil {
			if k >= len(parts) || parts[k] != 1 {
				return nil, 0, false
			}
			at := int64(0)
			for _, p := range parts[:k] {
				at += p
			}
			return n, int(at), true
		}
		// equal parts: size 1 when the axis has as many elements as the Split has outputs
		in, err := imp.computedShape(n.Inputs[0])
		if err != nil || axis < 0 || int(axis) >= len(in) || in[axis] != len(n.Outputs) {
			return nil, 0, false
		}
		return n, k, true
	}
	return nil, 0, false
}

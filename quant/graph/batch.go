package graph

import (
	"fmt"
	"slices"
)

// Batching: a graph whose inputs declare a batch of one can still run several samples at once
// when every node treats the first dimension as independent samples. RunBatch runs such a batch,
// and each sample's outputs are bit for bit those of Run on that sample alone (Conv computes each
// output with the same sums in the same order, conv.go); what it saves is the weights' memory
// traffic, streamed once per batch instead of once per sample.

// Batchable reports, with an error naming the node, whether RunBatch can run g: every node's op is
// one whose samples along the first dimension stay independent (convolutions, pools, element-wise
// ops with constants that carry no batch, Gemm on a constant B, Flatten and Concat (of
// activations) and Softmax away from the first axis, Reshape that keeps it).
func (g *Graph) Batchable() error {
	batchFree := func(name string) bool { // a constant of no batch dimension of its own
		t := g.Const(name)
		return t != nil && (len(t.Shape) == 0 || t.Shape[0] == 1)
	}
	for i, n := range g.Nodes {
		ok := true
		switch n.Op {
		case "Identity", "Relu", "Clip", "BatchNormalization", "GlobalAveragePool", "AveragePool", "MaxPool":
		case "Conv":
			ok = len(n.Inputs) >= 2 && g.Const(n.Inputs[1]) != nil
		case "Add", "Mul":
			// Two activations have the same batch; a constant must not have one.
			ok = len(n.Inputs) == 2 && (g.Const(n.Inputs[0]) == nil || batchFree(n.Inputs[0])) &&
				(g.Const(n.Inputs[1]) == nil || batchFree(n.Inputs[1]))
			if ok && g.Const(n.Inputs[0]) != nil && g.Const(n.Inputs[1]) != nil {
				ok = false // a constant result: no batch dimension at all
			}
		case "Gemm":
			ok = n.AttrInt("transA", 0) == 0 && len(n.Inputs) >= 2 && g.Const(n.Inputs[0]) == nil &&
				g.Const(n.Inputs[1]) != nil
			if ok && len(n.Inputs) > 2 && n.Inputs[2] != "" {
				c := g.Const(n.Inputs[2])
				ok = c != nil && (len(c.Shape) < 2 || c.Shape[0] == 1)
			}
		case "Flatten":
			ok = n.AttrInt("axis", 1) == 1
		case "Concat":
			// A constant (a class token) has a batch of one, not the activations'.
			ok = n.AttrInt("axis", -1) > 0 && !slices.ContainsFunc(n.Inputs, func(in string) bool { return g.Const(in) != nil })
		case "Softmax":
			ok = n.AttrInt("axis", -1) > 0 || n.AttrInt("axis", -1) == -1
		case "Reshape":
			s := n.AttrInts("shape")
			ok = len(s) > 0 && s[0] == 0 && n.AttrInt("allowzero", 0) == 0
		default:
			ok = false
		}
		if !ok {
			return fmt.Errorf("graph: %q: %s: not batchable (its samples would not stay independent)", g.Name, g.Describe(i))
		}
	}
	return nil
}

// RunBatch is Run on a batch: each input holds any number B ≥ 1 of samples along its first
// dimension, the same B for all, where the graph declares 1 (or leaves it unknown). The graph must
// be Batchable. Sample b of each output is bit for bit what Run returns for sample b of the
// inputs alone.
func (g *Graph) RunBatch(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	if err := g.Batchable(); err != nil {
		return nil, err
	}
	vals, err := g.runAll(inputs, true)
	if err != nil {
		return nil, err
	}
	b := 0
	for _, in := range g.Inputs {
		b = inputs[in.Name].Shape[0]
	}
	out := make(map[string]*Tensor, len(g.Outputs))
	for _, o := range g.Outputs {
		t := vals[o.Name]
		// A constant of higher rank than the activations it broadcasts with would move the batch
		// to another axis: refuse the result rather than mislabel its samples.
		if len(g.Inputs) > 0 && (len(t.Shape) == 0 || t.Shape[0] != b) {
			return nil, fmt.Errorf("graph: %q: output %q has shape %v for a batch of %d: the batch did not stay on the first axis", g.Name, o.Name, t.Shape, b)
		}
		out[o.Name] = t
	}
	return out, nil
}

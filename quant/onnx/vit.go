package onnx

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// The transformer family (ViT): Softmax, LayerNormalization and the ops of its decomposed form
// (Sub, Div, Pow, Sqrt), GELU's pieces (Erf, Tanh) and the head plumbing (Transpose, Gather).
// quant/transform fuses the decomposed LayerNorm and GELU patterns into single nodes.
func init() {
	kinds := map[string]map[string]graph.AttrKind{
		"Softmax":            {"axis": graph.AttrInt},
		"LayerNormalization": {"axis": graph.AttrInt, "epsilon": graph.AttrFloat, "stash_type": graph.AttrInt},
		"Sub":                {},
		"Div":                {},
		"Pow":                {},
		"Sqrt":               {},
		"Erf":                {},
		"Tanh":               {},
		"Gather":             {"axis": graph.AttrInt},
		"Transpose":          {"perm": graph.AttrInts},
	}
	ar := map[string][3]int{
		"Softmax": {1, 1, 1}, "LayerNormalization": {2, 3, 1}, "Sub": {2, 2, 1}, "Div": {2, 2, 1},
		"Pow": {2, 2, 1}, "Sqrt": {1, 1, 1}, "Erf": {1, 1, 1}, "Tanh": {1, 1, 1}, "Gather": {2, 2, 1},
		"Transpose": {1, 1, 1},
	}
	for op, k := range kinds {
		// Transpose also belongs to the channel-shuffle family: whichever file registers it first
		// keeps it.
		if _, ok := attrKinds[op]; ok {
			continue
		}
		attrKinds[op] = k
		arity[op] = ar[op]
	}
	nodeHooks["Softmax"] = softmaxHook
	nodeHooks["LayerNormalization"] = layerNormHook
	if nodeHooks["Gather"] == nil {
		nodeHooks["Gather"] = gatherHook
	}
}

// softmaxHook checks that the opset's Softmax is a softmax over one axis: before opset 13 it
// flattens the input from axis on, which is the same only for the last axis.
func softmaxHook(imp *importer, gn *graph.Node, _ []string) error {
	ax := gn.AttrInt("axis", -1)
	if imp.opset < 13 {
		if _, ok := gn.Attrs["axis"]; !ok {
			ax = 1
		}
		if ax != -1 {
			return fmt.Errorf("axis %d before opset 13 (softmax of the input flattened from the axis) is %w; only axis -1", ax, ErrUnsupported)
		}
	}
	gn.Attrs["axis"] = graph.Int(ax)
	return nil
}

// layerNormHook accepts the inference form of opset 17's LayerNormalization: one output, float
// statistics.
func layerNormHook(imp *importer, gn *graph.Node, ins []string) error {
	if imp.opset < 17 {
		return fmt.Errorf("LayerNormalization needs opset 17, the model imports %d", imp.opset)
	}
	if st := gn.AttrInt("stash_type", 1); st != 1 {
		return fmt.Errorf("stash_type %d %w (only 1, float statistics)", st, ErrUnsupported)
	}
	delete(gn.Attrs, "stash_type")
	for k, name := range ins[1:] {
		if imp.floats[name] == nil {
			return fmt.Errorf("input %d (%q): a computed scale or bias is %w", k+1, name, ErrUnsupported)
		}
	}
	return nil
}

// gatherHook turns Gather with a constant index into an attribute ("indices", with the index
// tensor's shape in "indices_shape"): the class-token pick x[:, 0].
func gatherHook(imp *importer, gn *graph.Node, ins []string) error {
	t := imp.ints[ins[1]]
	if t == nil {
		return fmt.Errorf("indices %q: computed indices are %w", ins[1], ErrUnsupported)
	}
	shape := make([]int64, len(t.shape))
	for i, d := range t.shape {
		shape[i] = int64(d)
	}
	gn.Attrs["indices"] = graph.Ints(t.data...)
	gn.Attrs["indices_shape"] = graph.Ints(shape...)
	gn.Inputs = ins[:1]
	return nil
}

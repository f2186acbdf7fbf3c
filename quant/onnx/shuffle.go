package onnx

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// The channel-shuffle family: Transpose (perm), Slice (opset 10+: starts, ends, axes and steps as
// constant inputs, moved into attributes of the same names) and Split (opset 11-12: the split
// attribute; 13+: an optional constant input, moved into the attribute), whose every output is
// imported.

func init() {
	attrKinds["Transpose"] = map[string]graph.AttrKind{"perm": graph.AttrInts}
	attrKinds["Slice"] = map[string]graph.AttrKind{}
	attrKinds["Split"] = map[string]graph.AttrKind{"axis": graph.AttrInt, "split": graph.AttrInts}
	arity["Transpose"] = [3]int{1, 1, 1}
	arity["Slice"] = [3]int{3, 5, 1}
	arity["Split"] = [3]int{1, 2, maxSplitOutputs}
	multiOutput["Split"] = true
	nodeHooks["Slice"] = sliceHook
	nodeHooks["Split"] = splitHook
}

// maxSplitOutputs bounds the outputs of one Split.
const maxSplitOutputs = 1 << 12

func sliceHook(imp *importer, gn *graph.Node, ins []string) error {
	for k, name := range []string{"starts", "ends", "axes", "steps"} {
		if k+1 >= len(ins) {
			break
		}
		v, err := imp.ints1D(ins[k+1])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		gn.Attrs[name] = graph.Ints(v...)
	}
	n := len(gn.Attrs["starts"].Ints)
	for _, name := range []string{"ends", "axes", "steps"} {
		if a, ok := gn.Attrs[name]; ok && len(a.Ints) != n {
			return fmt.Errorf("%d %s for %d starts", len(a.Ints), name, n)
		}
	}
	gn.Inputs = ins[:1]
	return nil
}

func splitHook(imp *importer, gn *graph.Node, ins []string) error {
	if len(ins) > 1 {
		if _, dup := gn.Attrs["split"]; dup {
			return fmt.Errorf("split given both as attribute and input")
		}
		v, err := imp.ints1D(ins[1])
		if err != nil {
			return fmt.Errorf("split: %w", err)
		}
		gn.Attrs["split"] = graph.Ints(v...)
	}
	if s, ok := gn.Attrs["split"]; ok && len(s.Ints) != len(gn.Outputs) {
		return fmt.Errorf("%d split sizes for %d outputs", len(s.Ints), len(gn.Outputs))
	}
	for k, o := range gn.Outputs {
		if o == "" {
			return fmt.Errorf("output %d is unnamed", k)
		}
	}
	gn.Inputs = ins[:1]
	return nil
}

package onnx

import "github.com/edgeinfer/edgeinfer/quant/graph"

// The op families imported in files of their own (one file per family) register here from init
// functions: their attribute kinds in attrKinds, their arity in arity, and, where the ONNX form needs
// rewriting into graph form (constant inputs turned into attributes, checks), a hook.

// nodeHook adjusts gn, the graph node made from an ONNX node with inputs ins (trailing empty ones
// removed): it may move constant inputs into gn.Attrs, trim gn.Inputs, or refuse the node with an
// error wrapping ErrUnsupported.
type nodeHook func(imp *importer, gn *graph.Node, ins []string) error

var nodeHooks = map[string]nodeHook{}

// multiOutput lists the ops whose every output is imported (Split); other ops keep their first
// output and refuse the optional others.
var multiOutput = map[string]bool{}

package quantize

import "github.com/edgeinfer/edgeinfer/quant/graph"

// lowerer turns graph node i (n) into int8 model ops, adding them to l.m. It checks its own number of
// outputs; errors come from l.fail so that they name the graph and the node.
type lowerer func(l *lowering, i int, n *graph.Node) error

// lowerers holds the lowerings of the op families that live in files of their own (one file per
// family, each registering in an init function); lower's switch keeps the historical ones.
var lowerers = map[string]lowerer{}

package tflitegraph

import (
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// Read converts the float .tflite flatbuffer b; name (the file's base name) prefixes errors.
func Read(b []byte, name string) (*graph.Graph, error) {
	m, err := tflite.Read(b, name)
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

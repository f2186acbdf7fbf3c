// Package schema holds the TensorFlow Lite flatbuffer schema and the generator of its Go bindings
// (package tflitefb). Nothing here is hand-written but gen.sh.
package schema

//go:generate sh gen.sh

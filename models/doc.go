// Package models defines edgeinfer's model: the graph of ops over typed, quantized tensors that the
// importers produce and the runtime executes, and its deployable file format (FORMAT.md).
//
// It imports nothing of the project's: everything else builds on it.
package models

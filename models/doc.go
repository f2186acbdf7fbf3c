// Package models defines edgeinfer's model: the graph of ops over typed, quantized tensors that the
// importers produce and the runtime executes, and its deployable file format (FORMAT.md).
//
// It imports nothing of the project's: everything else builds on it.
//
// # The model file
//
// Encode and (*Model).WriteFile write a model; Decode reads one from bytes and Open from a file,
// which it memory-maps read-only on Linux so that constant tensors (the weights) are used in place,
// without a copy. Validate checks a model's structure; Encode runs it first and Decode last.
// Errors about a model are *FormatError values naming the file, the section and the byte offset;
// ErrNotModel, ErrVersion, ErrTruncated and ErrChecksum tell the main cases apart (errors.Is).
//
//	f, err := models.Open("mobilenet.eim")
//	if err != nil {
//		return err
//	}
//	defer f.Close() // the model's weights live in the mapping
//	run(f.Model)
package models

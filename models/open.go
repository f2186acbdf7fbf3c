package models

import (
	"fmt"
	"sync"
)

// File is a model file opened with Open. Its Model's constant tensors point into the file's bytes,
// memory-mapped read-only where the system allows it (FORMAT.md §4), so weights are used in place
// and pages are loaded on demand. The Model must not be used after Close, and its constant data must
// never be written to.
type File struct {
	Model *Model

	data    []byte
	mapped  bool
	release func() error
	once    sync.Once
	err     error
}

// Open reads the model file at path: it maps it read-only on Linux (reading it into memory
// elsewhere, or when the file cannot be mapped) and decodes it as Decode does, errors naming path.
// The caller must Close the File when done with its Model.
func Open(path string) (*File, error) {
	data, mapped, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	m, err := decode(data, path)
	if err != nil {
		release()
		return nil, err
	}
	return &File{Model: m, data: data, mapped: mapped, release: release}, nil
}

// Mapped reports whether the file is memory-mapped (rather than read into memory).
func (f *File) Mapped() bool { return f.mapped }

// Size is the file's length in bytes.
func (f *File) Size() int { return len(f.data) }

// Close releases the file's bytes (unmaps it). After Close the Model's constant data is invalid:
// touching a mapped page faults. Close is safe to call more than once.
func (f *File) Close() error {
	f.once.Do(func() {
		f.err = f.release()
		f.data = nil
	})
	return f.err
}

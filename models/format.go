package models

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// File format constants (FORMAT.md §1, §2).
const (
	// Magic is the first 8 bytes of a model file.
	Magic = "EDGEINFM"
	// Version is the format version this package writes and the only one it reads.
	Version = 1

	headerSize = 32
	blobAlign  = 64

	// maxTensorBytes bounds the size of every tensor (FORMAT.md §6) so that sizes fit a 32-bit int.
	maxTensorBytes = math.MaxInt32
)

// Header field offsets (FORMAT.md §2).
const (
	offVersion  = 8
	offChecksum = 12
	offLength   = 16 // the checksum covers the file from here on
	offGraphLen = 24
	offReserved = 28
)

// Flag bits of tensor, op and preprocess records (FORMAT.md §3).
const (
	tensorConst     = 1 << 0
	tensorQuantized = 1 << 1
	opKeepDims      = 1 << 0
	opUInt8Rounding = 1 << 1
	opAdjX          = 1 << 2
	opAdjY          = 1 << 3
	opApproximate   = 1 << 4
	prepRaw         = 1 << 0
	prepBGR         = 1 << 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors a FormatError wraps, for callers that branch on the kind of failure (errors.Is).
var (
	ErrNotModel  = errors.New("not an edgeinfer model (bad magic)")
	ErrVersion   = errors.New("unsupported format version")
	ErrTruncated = errors.New("truncated")
	ErrChecksum  = errors.New("checksum mismatch")
)

// FormatError reports an invalid model: one read from a file (Decode, Open) or one in memory
// (Validate, Encode). It reads "models: <file>: <section> at offset N: <what>" (FORMAT.md §6).
type FormatError struct {
	File    string // the path, "model" for Decode, or `model "name"` for Validate
	Section string // "header", "graph", `tensor 3 "conv/w"`, `op 2 (Conv2D "conv1")`, "inputs", ...
	Offset  int64  // byte offset in the file of the section or field at fault; -1 for in-memory models
	Err     error
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("models: %s: %s: %v", e.File, e.Section, e.Err)
	}
	return fmt.Sprintf("models: %s: %s at offset %d: %v", e.File, e.Section, e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// align64 rounds n up to a multiple of blobAlign.
func align64(n uint64) uint64 { return (n + blobAlign - 1) &^ (blobAlign - 1) }

// shortName bounds a name quoted in an error message (a corrupt file may hold a long one).
func shortName(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// sectionKind names the part of a model a validity problem is in, so that Decode can give the
// file offset of the record at fault.
type sectionKind uint8

const (
	secGraph sectionKind = iota
	secTensor
	secOp
	secInputs
	secOutputs
	secPreprocess
)

// problem is a validity failure found by (*Model).check: where, and what.
type problem struct {
	kind  sectionKind
	index int // tensor or op index
	err   error
}

// label is the section of a FormatError for p, e.g. `op 2 (Conv2D "conv1")`.
func (p *problem) label(m *Model) string {
	switch p.kind {
	case secTensor:
		if p.index < len(m.Tensors) && m.Tensors[p.index].Name != "" {
			return fmt.Sprintf("tensor %d %q", p.index, shortName(m.Tensors[p.index].Name))
		}
		return fmt.Sprintf("tensor %d", p.index)
	case secOp:
		if p.index < len(m.Ops) {
			op := &m.Ops[p.index]
			if op.Name != "" {
				return fmt.Sprintf("op %d (%v %q)", p.index, op.Type, shortName(op.Name))
			}
			return fmt.Sprintf("op %d (%v)", p.index, op.Type)
		}
		return fmt.Sprintf("op %d", p.index)
	case secInputs:
		return "inputs"
	case secOutputs:
		return "outputs"
	case secPreprocess:
		return "preprocess"
	}
	return "graph"
}

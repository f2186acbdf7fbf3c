package tflite

import (
	"encoding/binary"
	"fmt"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
)

// The generated flatbuffer accessors trust the buffer: a bad offset makes them index out of range and
// panic. verifyModel walks every table, vector and string that Read goes on to read through them, in
// the layout of https://flatbuffers.dev/internals/, and checks that each lies inside the file, so
// that a corrupt file gets an error saying where it is corrupt. The field slots (4, 6, 8, ...) and
// sizes are those of the generated code in internal/tflite/schema/tflitefb.

// fileIdentifier is the file identifier of TensorFlow Lite models (schema.fbs: file_identifier).
const fileIdentifier = "TFL3"

// maxFileSize keeps every offset below 1<<31, as the flatbuffers runtime assumes (Table.Pos).
const maxFileSize = 1<<31 - 1

// fbTable is a verified table: its position, its vtable and their sizes.
type fbTable struct {
	v      *verifier
	pos    uint64
	vt     uint64
	vtSize uint64
	tSize  uint64
	what   string
}

type verifier struct {
	buf []byte
}

func (v *verifier) errorf(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// formatError is a structural fault of the flatbuffer.
type formatError struct{ msg string }

func (e *formatError) Error() string { return "malformed flatbuffer: " + e.msg }

func (v *verifier) u16(off uint64) uint64 { return uint64(binary.LittleEndian.Uint16(v.buf[off:])) }
func (v *verifier) u32(off uint64) uint64 { return uint64(binary.LittleEndian.Uint32(v.buf[off:])) }

func (v *verifier) in(off, size uint64) bool {
	n := uint64(len(v.buf))
	return off <= n && size <= n-off
}

// table checks the table at pos and its vtable.
func (v *verifier) table(pos uint64, what string) (*fbTable, error) {
	if !v.in(pos, 4) {
		return nil, v.errorf("%s: table at offset %d outside the file", what, pos)
	}
	soff := int64(int32(binary.LittleEndian.Uint32(v.buf[pos:])))
	vt := int64(pos) - soff
	if vt < 0 || !v.in(uint64(vt), 4) {
		return nil, v.errorf("%s: vtable of table at offset %d outside the file", what, pos)
	}
	t := &fbTable{v: v, pos: pos, vt: uint64(vt), what: what}
	t.vtSize = v.u16(t.vt)
	t.tSize = v.u16(t.vt + 2)
	if t.vtSize < 4 || t.vtSize%2 != 0 || !v.in(t.vt, t.vtSize) {
		return nil, v.errorf("%s: bad vtable at offset %d (size %d)", what, t.vt, t.vtSize)
	}
	if t.tSize < 4 || !v.in(pos, t.tSize) {
		return nil, v.errorf("%s: table at offset %d (size %d) outside the file", what, pos, t.tSize)
	}
	return t, nil
}

// field returns the offset of a field inside the table (0 if absent), checking that size bytes fit.
func (t *fbTable) field(slot, size uint64, name string) (uint64, error) {
	if slot+2 > t.vtSize {
		return 0, nil
	}
	o := t.v.u16(t.vt + slot)
	if o == 0 {
		return 0, nil
	}
	if o+size > t.tSize {
		return 0, t.v.errorf("%s: field %s at %d+%d outside its table (size %d)", t.what, name, o, size, t.tSize)
	}
	return o, nil
}

// scalars checks scalar fields: pairs of slot and size.
func (t *fbTable) scalars(fields ...uint64) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if _, err := t.field(fields[i], fields[i+1], fmt.Sprintf("at slot %d", fields[i])); err != nil {
			return err
		}
	}
	return nil
}

// ref follows the offset field at slot; ok is false if the field is absent.
func (t *fbTable) ref(slot uint64, name string) (target uint64, ok bool, err error) {
	o, err := t.field(slot, 4, name)
	if err != nil || o == 0 {
		return 0, false, err
	}
	at := t.pos + o
	target = at + t.v.u32(at)
	if target >= uint64(len(t.v.buf)) {
		return 0, false, t.v.errorf("%s: %s points outside the file", t.what, name)
	}
	return target, true, nil
}

// vector checks the vector (or string) field at slot, of elements of elem bytes, and returns its
// length (0 if absent).
func (t *fbTable) vector(slot, elem uint64, name string) (start uint64, n int, err error) {
	at, ok, err := t.ref(slot, name)
	if err != nil || !ok {
		return 0, 0, err
	}
	if !t.v.in(at, 4) {
		return 0, 0, t.v.errorf("%s: %s: vector header outside the file", t.what, name)
	}
	l := t.v.u32(at)
	if !t.v.in(at+4, l*elem) {
		return 0, 0, t.v.errorf("%s: %s: vector of %d elements outside the file", t.what, name, l)
	}
	return at + 4, int(l), nil
}

// sub checks the table field at slot; nil if absent.
func (t *fbTable) sub(slot uint64, name string) (*fbTable, error) {
	at, ok, err := t.ref(slot, name)
	if err != nil || !ok {
		return nil, err
	}
	return t.v.table(at, t.what+": "+name)
}

// tables checks the vector of tables at slot and calls each for each element.
func (t *fbTable) tables(slot uint64, name string, each func(j int, e *fbTable) error) (int, error) {
	start, n, err := t.vector(slot, 4, name+" vector")
	if err != nil {
		return 0, err
	}
	for j := 0; j < n; j++ {
		at := start + 4*uint64(j)
		e, err := t.v.table(at+t.v.u32(at), fmt.Sprintf("%s: %s %d", t.what, name, j))
		if err != nil {
			return 0, err
		}
		if each != nil {
			if err := each(j, e); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// verifyModel checks the parts of the model that Read uses: the operator codes, subgraph 0 and the
// buffers.
func verifyModel(buf []byte) error {
	v := &verifier{buf: buf}
	if len(buf) < 8 {
		return v.errorf("file of %d bytes is too short", len(buf))
	}
	if len(buf) > maxFileSize {
		return v.errorf("file of %d bytes is too large", len(buf))
	}
	if string(buf[4:8]) != fileIdentifier {
		return v.errorf("file identifier %q is not %q", buf[4:8], fileIdentifier)
	}
	root, err := v.table(v.u32(0), "model")
	if err != nil {
		return err
	}
	if err := root.scalars(4, 4); err != nil {
		return err
	}
	if _, err := root.tables(6, "operator code", func(_ int, e *fbTable) error {
		if err := e.scalars(4, 1, 8, 4, 10, 4); err != nil {
			return err
		}
		_, _, err := e.vector(6, 1, "custom_code")
		return err
	}); err != nil {
		return err
	}
	if _, err := root.tables(12, "buffer", func(_ int, e *fbTable) error {
		if err := e.scalars(6, 8, 8, 8); err != nil {
			return err
		}
		_, _, err := e.vector(4, 1, "data")
		return err
	}); err != nil {
		return err
	}
	n, err := root.tables(8, "subgraph", func(j int, e *fbTable) error {
		if j == 0 {
			return verifySubgraph(e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return v.errorf("model has no subgraph")
	}
	return nil
}

func verifySubgraph(sg *fbTable) error {
	if _, err := sg.tables(4, "tensor", func(_ int, t *fbTable) error {
		if err := t.scalars(6, 1, 8, 4, 14, 1); err != nil {
			return err
		}
		if _, _, err := t.vector(4, 4, "shape"); err != nil {
			return err
		}
		if _, _, err := t.vector(10, 1, "name"); err != nil {
			return err
		}
		if _, _, err := t.ref(16, "sparsity"); err != nil {
			return err
		}
		q, err := t.sub(12, "quantization")
		if err != nil || q == nil {
			return err
		}
		if err := q.scalars(12, 1, 16, 4); err != nil {
			return err
		}
		if _, _, err := q.vector(8, 4, "scale"); err != nil {
			return err
		}
		_, _, err = q.vector(10, 8, "zero_point")
		return err
	}); err != nil {
		return err
	}
	for _, s := range []uint64{6, 8} {
		if _, _, err := sg.vector(s, 4, "inputs/outputs"); err != nil {
			return err
		}
	}
	_, err := sg.tables(10, "operator", func(_ int, op *fbTable) error {
		if err := op.scalars(4, 4, 10, 1); err != nil {
			return err
		}
		for _, s := range []uint64{6, 8} {
			if _, _, err := op.vector(s, 4, "inputs/outputs"); err != nil {
				return err
			}
		}
		opts, err := op.sub(12, "builtin_options")
		if err != nil || opts == nil {
			return err
		}
		o, err := op.field(10, 1, "builtin_options_type")
		if err != nil || o == 0 {
			return err
		}
		return verifyOptions(tfl.BuiltinOptions(op.v.buf[op.pos+o]), opts)
	})
	return err
}

// verifyOptions checks the scalar fields of the option tables that Read reads.
func verifyOptions(typ tfl.BuiltinOptions, t *fbTable) error {
	switch typ {
	case tfl.BuiltinOptionsConv2DOptions:
		return t.scalars(4, 1, 6, 4, 8, 4, 10, 1, 12, 4, 14, 4)
	case tfl.BuiltinOptionsDepthwiseConv2DOptions:
		return t.scalars(4, 1, 6, 4, 8, 4, 10, 4, 12, 1, 14, 4, 16, 4)
	case tfl.BuiltinOptionsFullyConnectedOptions:
		return t.scalars(4, 1, 6, 1, 8, 1)
	case tfl.BuiltinOptionsPool2DOptions:
		return t.scalars(4, 1, 6, 4, 8, 4, 10, 4, 12, 4, 14, 1)
	case tfl.BuiltinOptionsReducerOptions:
		return t.scalars(4, 1)
	case tfl.BuiltinOptionsAddOptions:
		return t.scalars(4, 1)
	case tfl.BuiltinOptionsConcatenationOptions:
		return t.scalars(4, 4, 6, 1)
	case tfl.BuiltinOptionsSoftmaxOptions:
		return t.scalars(4, 4)
	}
	return nil
}

package models

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// Decode reads a model file's bytes (FORMAT.md). The constant tensors' Data alias b, which must
// therefore stay unmodified while the model is in use; nothing else refers to b. Decode checks the
// magic, version, length and checksum, every count, offset and index as it parses, and validates the
// model last (Validate). Any bytes give either a valid model or a *FormatError, never a panic, and
// Decode allocates no more than a small multiple of len(b).
func Decode(b []byte) (*Model, error) { return decode(b, "model") }

// decode is Decode with the name to put in errors (the path, for Open).
func decode(b []byte, file string) (*Model, error) {
	fail := func(off int64, err error) error {
		return &FormatError{File: file, Section: "header", Offset: off, Err: err}
	}
	// Header (FORMAT.md §2), in the order the spec gives.
	n := len(b)
	if n < len(Magic) || string(b[:len(Magic)]) != Magic {
		if n < len(Magic) && string(b) == Magic[:n] {
			return nil, fail(int64(n), fmt.Errorf("%w: file is %d bytes, the header alone is %d", ErrTruncated, n, headerSize))
		}
		return nil, fail(0, fmt.Errorf("%w: %q, want %q", ErrNotModel, b[:min(n, len(Magic))], Magic))
	}
	if n < offVersion+4 {
		return nil, fail(int64(n), fmt.Errorf("%w: file is %d bytes, the header alone is %d", ErrTruncated, n, headerSize))
	}
	if v := binary.LittleEndian.Uint32(b[offVersion:]); v != Version {
		hint := ""
		if v > Version {
			hint = ": written by a newer edgeinfer, upgrade to read it"
		}
		return nil, fail(offVersion, fmt.Errorf("%w %d (this build reads version %d)%s", ErrVersion, v, Version, hint))
	}
	if n < headerSize {
		return nil, fail(int64(n), fmt.Errorf("%w: file is %d bytes, the header alone is %d", ErrTruncated, n, headerSize))
	}
	fileLen := binary.LittleEndian.Uint64(b[offLength:])
	switch {
	case fileLen > uint64(n):
		return nil, fail(offLength, fmt.Errorf("%w: header says %d bytes, file has %d", ErrTruncated, fileLen, n))
	case fileLen < uint64(n):
		return nil, fail(offLength, fmt.Errorf("%d trailing bytes after the %d the header gives", uint64(n)-fileLen, fileLen))
	}
	stored := binary.LittleEndian.Uint32(b[offChecksum:])
	if sum := crc32.Checksum(b[offLength:], castagnoli); sum != stored {
		return nil, fail(offChecksum, fmt.Errorf("%w: stored %#08x, computed %#08x: the file is corrupt", ErrChecksum, stored, sum))
	}
	if r := binary.LittleEndian.Uint32(b[offReserved:]); r != 0 {
		return nil, fail(offReserved, fmt.Errorf("reserved field is %#x, want 0", r))
	}
	graphLen := uint64(binary.LittleEndian.Uint32(b[offGraphLen:]))
	if graphLen > uint64(n-headerSize) {
		return nil, fail(offGraphLen, fmt.Errorf("graph section of %d bytes exceeds the file's %d after the header", graphLen, n-headerSize))
	}

	p := &parser{b: b, pos: headerSize, end: headerSize + int(graphLen), file: file, section: "graph"}
	p.dataStart = align64(uint64(p.end))
	m, offs := p.graph()
	if p.err != nil {
		return nil, p.err
	}
	if p.pos != p.end {
		return nil, p.failAt(p.pos, "%d bytes left over at the end of the graph section", p.end-p.pos)
	}

	if pr := m.check(); pr != nil {
		off := int64(headerSize)
		switch pr.kind {
		case secTensor:
			off = offs.tensors[pr.index]
		case secOp:
			off = offs.ops[pr.index]
		case secInputs:
			off = offs.inputs
		case secOutputs:
			off = offs.outputs
		case secPreprocess:
			off = offs.preprocess
		}
		return nil, &FormatError{File: file, Section: pr.label(m), Offset: off, Err: pr.err}
	}
	return m, nil
}

// recordOffsets are the file offsets of the graph's records, to locate validity problems.
type recordOffsets struct {
	tensors, ops                []int64
	inputs, outputs, preprocess int64
}

// Minimum encoded sizes (FORMAT.md §3), to bound a count by the bytes that remain.
const (
	minTensorSize = 4 + 1 + 1 + 4                    // name, dtype, flags, shape
	minOpSize     = 2 + 1 + 1 + 4 + 4 + 4 + 13*4 + 8 // type .. flags, name, inputs, outputs, 13 scalars, axes, paddings
)

// parser reads the graph section [pos, end) of b. The first error sticks: after it every read
// returns zero values and counts return 0, so loops end, and the caller checks err once.
type parser struct {
	b         []byte
	pos, end  int
	dataStart uint64 // D: where the data area may begin (FORMAT.md §1)
	file      string
	section   string // record being read, for errors
	err       error
}

func (p *parser) failAt(off int, format string, args ...any) error {
	if p.err == nil {
		p.err = &FormatError{File: p.file, Section: p.section, Offset: int64(off), Err: fmt.Errorf(format, args...)}
	}
	return p.err
}

// take returns the next k bytes, or nil after recording an error if fewer remain.
func (p *parser) take(k int, what string) []byte {
	if p.err != nil {
		return nil
	}
	if k > p.end-p.pos {
		p.failAt(p.pos, "%s: need %d bytes, %d remain in the graph section", what, k, p.end-p.pos)
		return nil
	}
	s := p.b[p.pos : p.pos+k]
	p.pos += k
	return s
}

func (p *parser) u8(what string) uint8 {
	if s := p.take(1, what); s != nil {
		return s[0]
	}
	return 0
}

func (p *parser) u16(what string) uint16 {
	if s := p.take(2, what); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (p *parser) u32(what string) uint32 {
	if s := p.take(4, what); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (p *parser) u64(what string) uint64 {
	if s := p.take(8, what); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (p *parser) i32(what string) int { return int(int32(p.u32(what))) }

func (p *parser) f32(what string) float32 { return math.Float32frombits(p.u32(what)) }

func (p *parser) boolean(what string) bool {
	off := p.pos
	switch v := p.u8(what); v {
	case 0:
		return false
	case 1:
		return true
	default:
		p.failAt(off, "%s: boolean is %d, want 0 or 1", what, v)
		return false
	}
}

// flags reads a flag byte and rejects bits outside known.
func (p *parser) flags(what string, known uint8) uint8 {
	off := p.pos
	v := p.u8(what)
	if v&^known != 0 {
		p.failAt(off, "%s: unknown flag bits %#02x", what, v&^known)
	}
	return v
}

// count reads a list's u32 count and checks that count elements of at least elemSize bytes each
// fit in what remains of the graph section, so that allocating count elements is bounded by the
// input's size.
func (p *parser) count(what string, elemSize int) int {
	off := p.pos
	c := uint64(p.u32(what))
	if p.err != nil {
		return 0
	}
	if rem := uint64(p.end - p.pos); c*uint64(elemSize) > rem {
		p.failAt(off, "%s: count %d needs at least %d bytes, %d remain in the graph section", what, c, c*uint64(elemSize), rem)
		return 0
	}
	return int(c)
}

func (p *parser) str(what string) string {
	n := p.count(what, 1)
	return string(p.take(n, what))
}

// i32s reads a list<i32>; an empty list is nil.
func (p *parser) i32s(what string) []int {
	n := p.count(what, 4)
	if n == 0 {
		return nil
	}
	vs := make([]int, n)
	for i := range vs {
		vs[i] = p.i32(what)
	}
	return vs
}

// graph reads the graph section (FORMAT.md §3).
func (p *parser) graph() (*Model, recordOffsets) {
	var offs recordOffsets
	m := &Model{}
	m.Name = p.str("model name")

	nt := p.count("tensor count", minTensorSize)
	if nt > 0 {
		m.Tensors = make([]Tensor, nt)
		offs.tensors = make([]int64, nt)
	}
	for i := 0; i < nt && p.err == nil; i++ {
		p.section = fmt.Sprintf("tensor %d", i)
		offs.tensors[i] = int64(p.pos)
		p.tensor(&m.Tensors[i])
	}

	p.section = "graph"
	nops := p.count("op count", minOpSize)
	if nops > 0 {
		m.Ops = make([]Op, nops)
		offs.ops = make([]int64, nops)
	}
	for j := 0; j < nops && p.err == nil; j++ {
		p.section = fmt.Sprintf("op %d", j)
		offs.ops[j] = int64(p.pos)
		p.op(&m.Ops[j])
	}

	p.section = "inputs"
	offs.inputs = int64(p.pos)
	m.Inputs = p.i32s("inputs")
	p.section = "outputs"
	offs.outputs = int64(p.pos)
	m.Outputs = p.i32s("outputs")

	p.section = "labels"
	if nl := p.count("label count", 4); nl > 0 {
		m.Labels = make([]string, nl)
		for i := 0; i < nl && p.err == nil; i++ {
			m.Labels[i] = p.str("label")
		}
	}

	p.section = "preprocess"
	offs.preprocess = int64(p.pos)
	if p.boolean("has preprocess") {
		pp := &Preprocess{}
		f := p.flags("flags", prepRaw|prepBGR)
		pp.Raw, pp.BGR = f&prepRaw != 0, f&prepBGR != 0
		for c := range pp.Mean {
			pp.Mean[c] = p.f32("mean")
		}
		for c := range pp.Std {
			pp.Std[c] = p.f32("std")
		}
		pp.CropFraction = p.f32("crop fraction")
		pp.Resize = p.str("resize")
		m.Preprocess = pp
	}
	p.section = "graph"
	return m, offs
}

// tensor reads one tensor record and slices its blob out of the data area (FORMAT.md §3, §4).
func (p *parser) tensor(t *Tensor) {
	t.Name = p.str("name")
	t.Type = DType(p.u8("dtype"))
	f := p.flags("flags", tensorConst|tensorQuantized)
	t.Shape = p.i32s("shape")
	if f&tensorQuantized != 0 {
		q := &Quant{Axis: p.i32("quantization axis")}
		if ns := p.count("scale count", 4); ns > 0 {
			q.Scale = make([]float32, ns)
			for c := range q.Scale {
				q.Scale[c] = p.f32("scale")
			}
		}
		if nz := p.count("zero point count", 4); nz > 0 {
			q.ZeroPoint = make([]int32, nz)
			for c := range q.ZeroPoint {
				q.ZeroPoint[c] = int32(p.u32("zero point"))
			}
		}
		t.Quant = q
	}
	if f&tensorConst == 0 {
		return
	}
	fieldOff := p.pos
	off, length := p.u64("data offset"), p.u64("data length")
	if p.err != nil {
		return
	}
	fileLen := uint64(len(p.b))
	switch {
	case off%blobAlign != 0:
		p.failAt(fieldOff, "data offset %d is not a multiple of %d", off, blobAlign)
	case off < p.dataStart:
		p.failAt(fieldOff, "data offset %d is before the data area at %d", off, p.dataStart)
	case off > fileLen || length > fileLen-off:
		p.failAt(fieldOff, "data [%d, +%d) runs past the end of the file at %d", off, length, fileLen)
	default:
		end := int(off + length) // ≤ len(b): fits int
		t.Data = p.b[int(off):end:end]
	}
}

// op reads one op record (FORMAT.md §3).
func (p *parser) op(op *Op) {
	op.Type = OpType(p.u16("type"))
	op.Activation = Activation(p.u8("activation"))
	f := p.flags("flags", opKeepDims|opUInt8Rounding|opAdjX|opAdjY|opApproximate)
	op.KeepDims = f&opKeepDims != 0
	op.UInt8Rounding = f&opUInt8Rounding != 0
	op.AdjX = f&opAdjX != 0
	op.AdjY = f&opAdjY != 0
	op.Approximate = f&opApproximate != 0
	op.Name = p.str("name")
	op.Inputs = p.i32s("inputs")
	op.Outputs = p.i32s("outputs")
	for k := range op.Stride {
		op.Stride[k] = p.i32("stride")
	}
	for k := range op.Dilation {
		op.Dilation[k] = p.i32("dilation")
	}
	for k := range op.Pad {
		op.Pad[k] = p.i32("pad")
	}
	for k := range op.Kernel {
		op.Kernel[k] = p.i32("kernel")
	}
	op.DepthMultiplier = p.i32("depth multiplier")
	op.Axis = p.i32("axis")
	op.Beta = p.f32("beta")
	op.Axes = p.i32s("axes")
	op.Paddings = p.i32s("paddings")
}

package models

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/x448/float16"
)

// WriteOptions tune Encode and WriteFile.
type WriteOptions struct {
	// Float16 stores every Float32 constant as Float16 (FORMAT.md §4, "Float16 storage"): half the
	// bytes, about 3 significant decimal digits. Such tensors load as DType Float16.
	Float16 bool
}

// Encode writes m to w in the model file format (FORMAT.md). It validates m first (Validate) and
// writes nothing if it is invalid. The bytes depend only on m and opt: the same model always
// encodes to the same bytes.
func Encode(w io.Writer, m *Model, opt WriteOptions) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return encode(w, m, opt)
}

// WriteFile encodes m into the file path, atomically: it writes a temporary file in the same
// directory, syncs it and renames it over path, so a reader (or a power cut) sees the old file or
// the new one, never a mix — which also keeps a memory-mapped older version intact (FORMAT.md §4).
func (m *Model) WriteFile(path string, opt WriteOptions) (err error) {
	if err := m.Validate(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("models: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("models: write %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := encode(bw, m, opt); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Best effort: not every system can sync a directory.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// graphWriter appends the primitive encodings of FORMAT.md §3.
type graphWriter struct{ b []byte }

func (g *graphWriter) u8(v uint8)   { g.b = append(g.b, v) }
func (g *graphWriter) u16(v uint16) { g.b = binary.LittleEndian.AppendUint16(g.b, v) }
func (g *graphWriter) u32(v uint32) { g.b = binary.LittleEndian.AppendUint32(g.b, v) }
func (g *graphWriter) u64(v uint64) { g.b = binary.LittleEndian.AppendUint64(g.b, v) }
func (g *graphWriter) i32(v int)    { g.u32(uint32(int32(v))) }
func (g *graphWriter) f32(v float32) {
	g.u32(math.Float32bits(v))
}
func (g *graphWriter) str(s string) {
	g.u32(uint32(len(s)))
	g.b = append(g.b, s...)
}
func (g *graphWriter) i32s(vs []int) {
	g.u32(uint32(len(vs)))
	for _, v := range vs {
		g.i32(v)
	}
}
func (g *graphWriter) boolean(v bool) {
	if v {
		g.u8(1)
	} else {
		g.u8(0)
	}
}

// encode writes m without validating it first. Encode validates; tests use encode directly to
// build invalid files with a correct checksum.
func encode(w io.Writer, m *Model, opt WriteOptions) error {
	// The bytes and dtype each constant is stored with (Float16 storage converts).
	blobs := make([][]byte, len(m.Tensors))
	types := make([]DType, len(m.Tensors))
	for i := range m.Tensors {
		t := &m.Tensors[i]
		blobs[i], types[i] = t.Data, t.Type
		if opt.Float16 && t.Type == Float32 && t.Data != nil {
			h, err := toFloat16(t.Data)
			if err != nil {
				return &FormatError{File: "model", Section: (&problem{kind: secTensor, index: i}).label(m), Offset: -1, Err: err}
			}
			blobs[i], types[i] = h, Float16
		}
	}

	// Graph section (FORMAT.md §3), with the blob offsets patched in below.
	var g graphWriter
	var offsetFields []int // position in g.b of each constant's offset field, in tensor order
	g.str(m.Name)
	g.u32(uint32(len(m.Tensors)))
	for i := range m.Tensors {
		t := &m.Tensors[i]
		g.str(t.Name)
		g.u8(uint8(types[i]))
		var flags uint8
		if t.Data != nil {
			flags |= tensorConst
		}
		if t.Quant != nil {
			flags |= tensorQuantized
		}
		g.u8(flags)
		g.i32s(t.Shape)
		if q := t.Quant; q != nil {
			g.i32(q.Axis)
			g.u32(uint32(len(q.Scale)))
			for _, s := range q.Scale {
				g.f32(s)
			}
			g.u32(uint32(len(q.ZeroPoint)))
			for _, z := range q.ZeroPoint {
				g.u32(uint32(z))
			}
		}
		if t.Data != nil {
			offsetFields = append(offsetFields, len(g.b))
			g.u64(0)
			g.u64(uint64(len(blobs[i])))
		}
	}
	g.u32(uint32(len(m.Ops)))
	for j := range m.Ops {
		op := &m.Ops[j]
		g.u16(uint16(op.Type))
		g.u8(uint8(op.Activation))
		var flags uint8
		if op.KeepDims {
			flags |= opKeepDims
		}
		if op.UInt8Rounding {
			flags |= opUInt8Rounding
		}
		if op.AdjX {
			flags |= opAdjX
		}
		if op.AdjY {
			flags |= opAdjY
		}
		if op.Approximate {
			flags |= opApproximate
		}
		g.u8(flags)
		g.str(op.Name)
		g.i32s(op.Inputs)
		g.i32s(op.Outputs)
		for _, v := range op.Stride {
			g.i32(v)
		}
		for _, v := range op.Dilation {
			g.i32(v)
		}
		for _, v := range op.Pad {
			g.i32(v)
		}
		for _, v := range op.Kernel {
			g.i32(v)
		}
		g.i32(op.DepthMultiplier)
		g.i32(op.Axis)
		g.f32(op.Beta)
		g.i32s(op.Axes)
		g.i32s(op.Paddings)
	}
	g.i32s(m.Inputs)
	g.i32s(m.Outputs)
	g.u32(uint32(len(m.Labels)))
	for _, l := range m.Labels {
		g.str(l)
	}
	g.boolean(m.Preprocess != nil)
	if p := m.Preprocess; p != nil {
		var flags uint8
		if p.Raw {
			flags |= prepRaw
		}
		if p.BGR {
			flags |= prepBGR
		}
		g.u8(flags)
		for _, v := range p.Mean {
			g.f32(v)
		}
		for _, v := range p.Std {
			g.f32(v)
		}
		g.f32(p.CropFraction)
		g.str(p.Resize)
	}
	if uint64(len(g.b)) > math.MaxUint32 {
		return fmt.Errorf("models: encode: graph section of %d bytes is too large", len(g.b))
	}

	// Data area (FORMAT.md §4): blobs in tensor order, each at the next multiple of 64.
	pos := uint64(headerSize + len(g.b))
	offsets := make([]uint64, len(m.Tensors))
	k := 0
	for i := range m.Tensors {
		if m.Tensors[i].Data == nil {
			continue
		}
		offsets[i] = align64(pos)
		pos = offsets[i] + uint64(len(blobs[i]))
		binary.LittleEndian.PutUint64(g.b[offsetFields[k]:], offsets[i])
		k++
	}
	fileLen := pos

	// Header (FORMAT.md §2); the checksum covers bytes [16, fileLen).
	var hdr [headerSize]byte
	copy(hdr[:], Magic)
	binary.LittleEndian.PutUint32(hdr[offVersion:], Version)
	binary.LittleEndian.PutUint64(hdr[offLength:], fileLen)
	binary.LittleEndian.PutUint32(hdr[offGraphLen:], uint32(len(g.b)))
	crc := crc32.New(castagnoli)
	crc.Write(hdr[offLength:])
	if err := writeBody(crc, g.b, blobs, offsets); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(hdr[offChecksum:], crc.Sum32())

	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("models: encode: %w", err)
	}
	if err := writeBody(w, g.b, blobs, offsets); err != nil {
		return fmt.Errorf("models: encode: %w", err)
	}
	return nil
}

// writeBody writes what follows the header: the graph section, then each blob after zero padding
// up to its offset.
func writeBody(w io.Writer, graph []byte, blobs [][]byte, offsets []uint64) error {
	var zeros [blobAlign]byte
	if _, err := w.Write(graph); err != nil {
		return err
	}
	pos := uint64(headerSize + len(graph))
	for i, b := range blobs {
		if b == nil {
			continue
		}
		if _, err := w.Write(zeros[:offsets[i]-pos]); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		pos = offsets[i] + uint64(len(b))
	}
	return nil
}

// toFloat16 converts little-endian float32s to little-endian float16s (round to nearest even).
// A finite value out of float16's range is an error.
func toFloat16(data []byte) ([]byte, error) {
	out := make([]byte, len(data)/4*2)
	for i := range len(data) / 4 {
		f := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		h := float16.Fromfloat32(f)
		if h.IsInf(0) && !math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("element %d = %v is out of float16 range", i, f)
		}
		binary.LittleEndian.PutUint16(out[2*i:], h.Bits())
	}
	return out, nil
}

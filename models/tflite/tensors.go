package tflite

import (
	"fmt"
	"math"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// maxElements caps the element count of one tensor: far above any model an edge board runs, far
// below an overflow of int on 32-bit targets once multiplied by an element size.
const maxElements = 1 << 28

// tensorInfo is a converted tensor and what the conversion must remember of the file's version.
type tensorInfo struct {
	t models.Tensor
	// wasUint8 is set when the file's tensor was UINT8 and t is its INT8 form; fileQuant then holds
	// the file's quantization, zero points unshifted.
	wasUint8  bool
	fileQuant *models.Quant
}

var dtypes = map[tfl.TensorType]models.DType{
	tfl.TensorTypeFLOAT32: models.Float32,
	tfl.TensorTypeFLOAT16: models.Float16,
	tfl.TensorTypeINT8:    models.Int8,
	tfl.TensorTypeUINT8:   models.UInt8,
	tfl.TensorTypeINT32:   models.Int32,
	tfl.TensorTypeINT16:   models.Int16,
	tfl.TensorTypeINT64:   models.Int64,
}

// tensor returns tensor i of subgraph 0, converting it on first use.
func (r *reader) tensor(i int) (*tensorInfo, error) {
	if i < 0 || i >= len(r.tensors) {
		return nil, fmt.Errorf("tensor index %d out of range [0, %d)", i, len(r.tensors))
	}
	if r.tensors[i] != nil {
		return r.tensors[i], nil
	}
	ti, err := r.convertTensor(i)
	if err != nil {
		return nil, err
	}
	r.tensors[i] = ti
	return ti, nil
}

func (r *reader) convertTensor(i int) (*tensorInfo, error) {
	var ft tfl.Tensor
	if !r.sg.Tensors(&ft, i) {
		return nil, fmt.Errorf("tensor %d missing", i)
	}
	name := string(ft.Name())
	errorf := func(format string, args ...any) error {
		return fmt.Errorf("tensor %d %q: %s", i, name, fmt.Sprintf(format, args...))
	}
	ti := &tensorInfo{t: models.Tensor{Name: name}}
	t := &ti.t

	dt, ok := dtypes[ft.Type()]
	if !ok {
		return nil, errorf("unsupported type %s", ft.Type())
	}
	t.Type = dt
	if ft.IsVariable() {
		return nil, errorf("variable tensors are not supported")
	}
	if ft.Sparsity(nil) != nil {
		return nil, errorf("sparse tensors are not supported")
	}

	rank := ft.ShapeLength()
	if rank > 8 {
		return nil, errorf("rank %d is above 8", rank)
	}
	t.Shape = make([]int, rank)
	n := int64(1)
	for d := range rank {
		v := ft.Shape(d)
		if v < 0 {
			return nil, errorf("shape %v has a negative dimension", shapeOf(&ft))
		}
		t.Shape[d] = int(v)
		n *= int64(v)
		if n > maxElements {
			return nil, errorf("shape %v has more than %d elements", shapeOf(&ft), maxElements)
		}
	}

	q, err := convertQuant(&ft, t.Shape)
	if err != nil {
		return nil, errorf("%v", err)
	}
	t.Quant = q

	data, err := r.bufferData(ft.Buffer())
	if err != nil {
		return nil, errorf("%v", err)
	}
	if data != nil {
		if want := n * int64(dt.Size()); int64(len(data)) != want {
			return nil, errorf("data of %d bytes, want %d for shape %v of %s", len(data), want, t.Shape, dt)
		}
		t.Data = data
	}

	switch {
	case dt == models.Int8 && q != nil:
		if err := checkZeroPoints(q, -128, 127); err != nil {
			return nil, errorf("%v", err)
		}
	case dt == models.UInt8:
		if q != nil {
			if err := checkZeroPoints(q, 0, 255); err != nil {
				return nil, errorf("%v", err)
			}
		}
		toInt8(ti)
	}
	return ti, nil
}

func shapeOf(ft *tfl.Tensor) []int32 {
	s := make([]int32, ft.ShapeLength())
	for i := range s {
		s[i] = ft.Shape(i)
	}
	return s
}

// bufferData returns the bytes of buffer b; nil for an empty buffer (an activation).
func (r *reader) bufferData(b uint32) ([]byte, error) {
	if b == 0 {
		return nil, nil
	}
	if int64(b) >= int64(r.m.BuffersLength()) {
		return nil, fmt.Errorf("buffer index %d out of range [0, %d)", b, r.m.BuffersLength())
	}
	var fb tfl.Buffer
	if !r.m.Buffers(&fb, int(b)) {
		return nil, fmt.Errorf("buffer %d missing", b)
	}
	data := fb.DataBytes()
	// Models above 2 GB keep their buffers after the flatbuffer: offset (from the start of the file)
	// and size, meaningful when offset > 1.
	if off, size := fb.Offset(), fb.Size(); off > 1 {
		if len(data) != 0 {
			return nil, fmt.Errorf("buffer %d has both inline data and an offset", b)
		}
		if off > uint64(len(r.buf)) || size > uint64(len(r.buf))-off {
			return nil, fmt.Errorf("buffer %d: offset %d size %d outside the file of %d bytes", b, off, size, len(r.buf))
		}
		data = r.buf[off : off+size : off+size]
	}
	if len(data) == 0 {
		return nil, nil
	}
	return data[:len(data):len(data)], nil // an append must not write into the file's next bytes
}

// convertQuant converts a tensor's quantization; nil when it is absent or has no scale.
func convertQuant(ft *tfl.Tensor, shape []int) (*models.Quant, error) {
	fq := ft.Quantization(nil)
	if fq == nil {
		return nil, nil
	}
	if fq.DetailsType() != tfl.QuantizationDetailsNONE {
		return nil, fmt.Errorf("custom quantization is not supported")
	}
	ns, nz := fq.ScaleLength(), fq.ZeroPointLength()
	if ns == 0 {
		if nz != 0 {
			return nil, fmt.Errorf("quantization has %d zero points and no scale", nz)
		}
		return nil, nil // min/max only, or empty: not quantized
	}
	if nz > 1 && nz != ns {
		return nil, fmt.Errorf("quantization has %d scales and %d zero points", ns, nz)
	}
	q := &models.Quant{Scale: make([]float32, ns), ZeroPoint: make([]int32, nz)}
	for i := range ns {
		s := fq.Scale(i)
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("quantization scale %d is %v, not positive and finite", i, s)
		}
		q.Scale[i] = s
	}
	for i := range nz {
		z := fq.ZeroPoint(i)
		if z < math.MinInt32 || z > math.MaxInt32 {
			return nil, fmt.Errorf("zero point %d (%d) out of the int32 range", i, z)
		}
		q.ZeroPoint[i] = int32(z)
	}
	axis := int(fq.QuantizedDimension())
	if ns > 1 {
		if axis < 0 || axis >= len(shape) {
			return nil, fmt.Errorf("quantized dimension %d out of range for rank %d", axis, len(shape))
		}
		if shape[axis] != ns {
			return nil, fmt.Errorf("%d scales for dimension %d of size %d", ns, axis, shape[axis])
		}
	} else if axis < 0 || axis >= max(len(shape), 1) {
		return nil, fmt.Errorf("quantized dimension %d out of range for rank %d", axis, len(shape))
	}
	q.Axis = axis
	return q, nil
}

func checkZeroPoints(q *models.Quant, lo, hi int32) error {
	for i, z := range q.ZeroPoint {
		if z < lo || z > hi {
			return fmt.Errorf("zero point %d (%d) out of range [%d, %d]", i, z, lo, hi)
		}
	}
	return nil
}

// toInt8 turns a UINT8 tensor into the INT8 tensor holding the same real values: every element and
// zero point moves down by 128. A UINT8 tensor without quantization gets scale 1 and zero point -128,
// which keeps its real values too. The data is copied: the file's bytes are not modified.
func toInt8(ti *tensorInfo) {
	t := &ti.t
	ti.wasUint8 = true
	ti.fileQuant = t.Quant
	q := &models.Quant{Scale: []float32{1}, ZeroPoint: []int32{-128}}
	if t.Quant != nil {
		q = &models.Quant{Scale: t.Quant.Scale, ZeroPoint: make([]int32, max(len(t.Quant.ZeroPoint), 1)), Axis: t.Quant.Axis}
		for i := range q.ZeroPoint {
			q.ZeroPoint[i] = t.Quant.ZeroAt(i) - 128
		}
	}
	t.Quant = q
	t.Type = models.Int8
	if t.Data != nil {
		d := make([]byte, len(t.Data))
		for i, b := range t.Data {
			d[i] = b ^ 0x80 // int8(b - 128), two's complement
		}
		t.Data = d
	}
}

func quantEqual(a, b *models.Quant) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Scale) != len(b.Scale) || max(len(a.Scale), len(b.Scale)) > 1 && a.Axis != b.Axis {
		return false
	}
	for i := range a.Scale {
		if a.Scale[i] != b.Scale[i] {
			return false
		}
	}
	n := max(len(a.ZeroPoint), len(b.ZeroPoint))
	for i := range n {
		if zeroAt(a, i) != zeroAt(b, i) {
			return false
		}
	}
	return true
}

func zeroAt(q *models.Quant, i int) int32 {
	if len(q.ZeroPoint) <= i {
		if len(q.ZeroPoint) == 1 {
			return q.ZeroPoint[0]
		}
		return 0
	}
	return q.ZeroPoint[i]
}

package runtime

import (
	"fmt"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models"
)

// Tensor is a view of one of the interpreter's tensors: its description and the bytes that hold it
// (a constant's data, or a slice of the activation arena). The bytes stay valid for the life of the
// interpreter; activations are overwritten by Run.
type Tensor struct {
	Name  string
	Type  models.DType
	Shape []int
	Quant *models.Quant
	data  []byte
}

// Bytes returns the tensor's raw little-endian bytes.
func (t *Tensor) Bytes() []byte { return t.data }

// Int8s returns the elements of an Int8 tensor (nil for another type).
func (t *Tensor) Int8s() []int8 {
	if t.Type != models.Int8 {
		return nil
	}
	return asInt8(t.data)
}

// Float32s returns the elements of a Float32 tensor (nil for another type).
func (t *Tensor) Float32s() []float32 {
	if t.Type != models.Float32 {
		return nil
	}
	return asFloat32(t.data)
}

// NumElements is the product of the shape.
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

func asInt8(b []byte) []int8 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// asFloat32 needs 4-byte aligned data: the arena aligns every tensor to 64 bytes; constants
// are copied to aligned memory at prepare time when they are not.
func asFloat32(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

// Dequantize writes the tensor's real values into dst (len NumElements): scale * (q - zero) for an
// int8 or uint8 tensor with per-tensor quantization (the raw integers when it has none), the values
// of a float32 tensor. It allocates nothing.
func (t *Tensor) Dequantize(dst []float64) error {
	if len(dst) < t.NumElements() {
		return fmt.Errorf("runtime: tensor %q: %d values do not fit in %d", t.Name, t.NumElements(), len(dst))
	}
	switch t.Type {
	case models.Float32:
		for i, v := range t.Float32s() {
			dst[i] = float64(v)
		}
		return nil
	case models.UInt8, models.Int8:
		scale, zero := 1.0, 0.0
		if t.Quant != nil && len(t.Quant.Scale) == 1 {
			scale, zero = float64(t.Quant.Scale[0]), float64(t.Quant.ZeroAt(0))
		}
		for i, b := range t.Bytes() {
			v := float64(b)
			if t.Type == models.Int8 {
				v = float64(int8(b))
			}
			dst[i] = scale * (v - zero)
		}
		return nil
	}
	return fmt.Errorf("runtime: tensor %q has type %s: no real values to read", t.Name, t.Type)
}

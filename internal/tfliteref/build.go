package tfliteref

import (
	"encoding/binary"
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
)

// Quant is the quantization of a tensor: real = Scale[c] * (q - ZeroPoint[c]) along dimension Axis
// (one scale and zero point: per-tensor).
type Quant struct {
	Scale     []float32
	ZeroPoint []int64
	Axis      int32
}

// PerTensor returns a quantization with one scale and zero point.
func PerTensor(scale float32, zero int64) *Quant {
	return &Quant{Scale: []float32{scale}, ZeroPoint: []int64{zero}}
}

// PerChannel returns a quantization with a scale and zero point per index of dimension axis.
func PerChannel(scales []float32, zeros []int64, axis int) *Quant {
	return &Quant{Scale: scales, ZeroPoint: zeros, Axis: int32(axis)}
}

// Builder assembles a model of one subgraph. Methods return tensor indices; errors (bad indices,
// unknown options) are kept and reported by Bytes.
type Builder struct {
	tensors []*tfl.TensorT
	buffers []*tfl.BufferT
	codes   []*tfl.OperatorCodeT
	ops     []*tfl.OperatorT
	inputs  []int32
	outputs []int32
	err     error
}

// NewBuilder returns an empty model; buffer 0 is the empty buffer of activations, as the schema
// requires.
func NewBuilder() *Builder {
	return &Builder{buffers: []*tfl.BufferT{{}}}
}

func (b *Builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("tfliteref: "+format, args...)
	}
}

func (b *Builder) tensor(name string, typ tfl.TensorType, shape []int, q *Quant, buf uint32) int32 {
	t := &tfl.TensorT{Name: name, Type: typ, Buffer: buf, Shape: make([]int32, len(shape))}
	for i, d := range shape {
		t.Shape[i] = int32(d)
	}
	if q != nil {
		t.Quantization = &tfl.QuantizationParametersT{Scale: q.Scale, ZeroPoint: q.ZeroPoint, QuantizedDimension: q.Axis}
	}
	b.tensors = append(b.tensors, t)
	return int32(len(b.tensors) - 1)
}

// Tensor adds an activation (a tensor computed by an op) and returns its index.
func (b *Builder) Tensor(name string, typ tfl.TensorType, shape []int, q *Quant) int32 {
	return b.tensor(name, typ, shape, q, 0)
}

// Input adds an activation that is a graph input.
func (b *Builder) Input(name string, typ tfl.TensorType, shape []int, q *Quant) int32 {
	i := b.Tensor(name, typ, shape, q)
	b.inputs = append(b.inputs, i)
	return i
}

// Const adds a constant tensor holding data (little-endian, row-major; see the *Data helpers).
func (b *Builder) Const(name string, typ tfl.TensorType, shape []int, q *Quant, data []byte) int32 {
	if len(data) == 0 {
		b.fail("constant %q has no data", name)
	}
	b.buffers = append(b.buffers, &tfl.BufferT{Data: data})
	return b.tensor(name, typ, shape, q, uint32(len(b.buffers)-1))
}

// Output marks tensor i as a graph output.
func (b *Builder) Output(i int32) { b.outputs = append(b.outputs, i) }

// Op adds an operator. opts is the operator's options table (*tflitefb.Conv2DOptionsT, ...) or nil;
// an input of -1 is an absent optional input. version 0 means 1.
func (b *Builder) Op(code tfl.BuiltinOperator, version int32, opts any, inputs []int32, outputs ...int32) {
	if version == 0 {
		version = 1
	}
	for _, i := range append(append([]int32(nil), inputs...), outputs...) {
		if i < -1 || int(i) >= len(b.tensors) {
			b.fail("op %d (%s): tensor index %d out of range [0, %d)", len(b.ops), code, i, len(b.tensors))
		}
	}
	o := &tfl.OperatorT{OpcodeIndex: b.opcode(code, version), Inputs: inputs, Outputs: outputs}
	if opts != nil {
		typ, ok := optionTypes(opts)
		if !ok {
			b.fail("op %d (%s): options of unknown type %T", len(b.ops), code, opts)
		}
		o.BuiltinOptions = &tfl.BuiltinOptionsT{Type: typ, Value: opts}
	}
	b.ops = append(b.ops, o)
}

// opcode returns the index of (code, version) in the operator codes, adding it if new.
func (b *Builder) opcode(code tfl.BuiltinOperator, version int32) uint32 {
	for i, c := range b.codes {
		if c.BuiltinCode == code && c.Version == version {
			return uint32(i)
		}
	}
	// Codes above 126 exist only in builtin_code; deprecated_builtin_code then holds 127
	// (PLACEHOLDER_FOR_GREATER_OP_CODES), as the converter writes it.
	dep := int8(127)
	if code < 127 {
		dep = int8(code)
	}
	b.codes = append(b.codes, &tfl.OperatorCodeT{BuiltinCode: code, DeprecatedBuiltinCode: dep, Version: version})
	return uint32(len(b.codes) - 1)
}

// optionTypes maps an options table to its union tag.
func optionTypes(v any) (tfl.BuiltinOptions, bool) {
	switch v.(type) {
	case *tfl.Conv2DOptionsT:
		return tfl.BuiltinOptionsConv2DOptions, true
	case *tfl.DepthwiseConv2DOptionsT:
		return tfl.BuiltinOptionsDepthwiseConv2DOptions, true
	case *tfl.FullyConnectedOptionsT:
		return tfl.BuiltinOptionsFullyConnectedOptions, true
	case *tfl.Pool2DOptionsT:
		return tfl.BuiltinOptionsPool2DOptions, true
	case *tfl.ReducerOptionsT:
		return tfl.BuiltinOptionsReducerOptions, true
	case *tfl.AddOptionsT:
		return tfl.BuiltinOptionsAddOptions, true
	case *tfl.ConcatenationOptionsT:
		return tfl.BuiltinOptionsConcatenationOptions, true
	case *tfl.PadOptionsT:
		return tfl.BuiltinOptionsPadOptions, true
	case *tfl.PadV2OptionsT:
		return tfl.BuiltinOptionsPadV2Options, true
	case *tfl.SoftmaxOptionsT:
		return tfl.BuiltinOptionsSoftmaxOptions, true
	case *tfl.ReshapeOptionsT:
		return tfl.BuiltinOptionsReshapeOptions, true
	case *tfl.SqueezeOptionsT:
		return tfl.BuiltinOptionsSqueezeOptions, true
	case *tfl.QuantizeOptionsT:
		return tfl.BuiltinOptionsQuantizeOptions, true
	case *tfl.DequantizeOptionsT:
		return tfl.BuiltinOptionsDequantizeOptions, true
	case *tfl.MulOptionsT:
		return tfl.BuiltinOptionsMulOptions, true
	case *tfl.HardSwishOptionsT:
		return tfl.BuiltinOptionsHardSwishOptions, true
	case *tfl.TransposeOptionsT:
		return tfl.BuiltinOptionsTransposeOptions, true
	case *tfl.SliceOptionsT:
		return tfl.BuiltinOptionsSliceOptions, true
	case *tfl.StridedSliceOptionsT:
		return tfl.BuiltinOptionsStridedSliceOptions, true
	case *tfl.SplitOptionsT:
		return tfl.BuiltinOptionsSplitOptions, true
	case *tfl.SplitVOptionsT:
		return tfl.BuiltinOptionsSplitVOptions, true
	case *tfl.BatchMatMulOptionsT:
		return tfl.BuiltinOptionsBatchMatMulOptions, true
	case *tfl.GeluOptionsT:
		return tfl.BuiltinOptionsGeluOptions, true
	}
	return tfl.BuiltinOptionsNONE, false
}

// Bytes writes the model: schema version 3, identifier "TFL3", one subgraph.
func (b *Builder) Bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(b.inputs) == 0 || len(b.outputs) == 0 || len(b.ops) == 0 {
		return nil, fmt.Errorf("tfliteref: model has %d inputs, %d outputs, %d ops: each needs one at least", len(b.inputs), len(b.outputs), len(b.ops))
	}
	for _, i := range b.outputs {
		if i < 0 || int(i) >= len(b.tensors) {
			return nil, fmt.Errorf("tfliteref: graph output %d out of range [0, %d)", i, len(b.tensors))
		}
	}
	m := &tfl.ModelT{
		Version:       3,
		Description:   "edgeinfer tfliteref",
		OperatorCodes: b.codes,
		Buffers:       b.buffers,
		Subgraphs: []*tfl.SubGraphT{{
			Tensors: b.tensors, Inputs: b.inputs, Outputs: b.outputs, Operators: b.ops, Name: "main",
		}},
	}
	fb := flatbuffers.NewBuilder(4096)
	fb.FinishWithFileIdentifier(m.Pack(fb), []byte("TFL3"))
	return fb.FinishedBytes(), nil
}

// Int8Data returns the bytes of int8 values.
func Int8Data(v []int8) []byte {
	out := make([]byte, len(v))
	for i, x := range v {
		out[i] = byte(x)
	}
	return out
}

// Int32Data returns the little-endian bytes of int32 values.
func Int32Data(v []int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

// Float32Data returns the little-endian bytes of float32 values.
func Float32Data(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

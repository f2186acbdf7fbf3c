package tflite

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
)

// dataFile returns the path of a file of the shared test data: ../shared/data/rel relative to the
// repository root (the directory holding go.mod above the test's).
func dataFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test's directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// dataPath returns the path of a file of the shared test data, skipping the test when it is absent
// unless EDGEINFER_REQUIRE_DATA=1.
func dataPath(tb testing.TB, rel string) string {
	tb.Helper()
	p, err := dataFile(rel)
	if err != nil {
		if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
			tb.Fatalf("test data %s: %v (EDGEINFER_REQUIRE_DATA=1)", rel, err)
		}
		tb.Skipf("test data %s absent (%v): skipping", rel, err)
	}
	return p
}

// A tiny model description, written with the flatbuffers builder through the generated bindings.
type tTensor struct {
	name   string
	typ    tfl.TensorType
	shape  []int32
	data   []byte // nil: activation
	scale  []float32
	zp     []int64
	qdim   int32
	extern bool // store data after the flatbuffer (Buffer.offset/size)
}

type tOp struct {
	code       tfl.BuiltinOperator
	custom     string
	deprecated bool // write the code in deprecated_builtin_code only, as old files do
	in, out    []int32
	optType    tfl.BuiltinOptions
	opts       func(b *flatbuffers.Builder) flatbuffers.UOffsetT
}

type tModel struct {
	tensors         []tTensor
	ops             []tOp
	inputs, outputs []int32
}

func int32Vector(b *flatbuffers.Builder, v []int32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(v[i])
	}
	return b.EndVector(len(v))
}

func (m *tModel) build() []byte {
	b := flatbuffers.NewBuilder(1024)
	type ext struct {
		buf  int
		data []byte
	}
	var externs []ext

	// Buffers: 0 is the empty sentinel, then one per constant tensor.
	bufs := []flatbuffers.UOffsetT{func() flatbuffers.UOffsetT { tfl.BufferStart(b); return tfl.BufferEnd(b) }()}
	bufIndex := make([]uint32, len(m.tensors))
	for i, t := range m.tensors {
		if t.data == nil {
			continue
		}
		bufIndex[i] = uint32(len(bufs))
		if t.extern {
			externs = append(externs, ext{len(bufs), t.data})
			tfl.BufferStart(b)
			tfl.BufferAddOffset(b, 1) // placeholder, patched below
			tfl.BufferAddSize(b, uint64(len(t.data)))
			bufs = append(bufs, tfl.BufferEnd(b))
			continue
		}
		d := b.CreateByteVector(t.data)
		tfl.BufferStart(b)
		tfl.BufferAddData(b, d)
		bufs = append(bufs, tfl.BufferEnd(b))
	}

	tensors := make([]flatbuffers.UOffsetT, len(m.tensors))
	for i, t := range m.tensors {
		name := b.CreateString(t.name)
		shape := int32Vector(b, t.shape)
		var q flatbuffers.UOffsetT
		if t.scale != nil || t.zp != nil {
			tfl.QuantizationParametersStartScaleVector(b, len(t.scale))
			for j := len(t.scale) - 1; j >= 0; j-- {
				b.PrependFloat32(t.scale[j])
			}
			sc := b.EndVector(len(t.scale))
			tfl.QuantizationParametersStartZeroPointVector(b, len(t.zp))
			for j := len(t.zp) - 1; j >= 0; j-- {
				b.PrependInt64(t.zp[j])
			}
			zp := b.EndVector(len(t.zp))
			tfl.QuantizationParametersStart(b)
			tfl.QuantizationParametersAddScale(b, sc)
			tfl.QuantizationParametersAddZeroPoint(b, zp)
			tfl.QuantizationParametersAddQuantizedDimension(b, t.qdim)
			q = tfl.QuantizationParametersEnd(b)
		}
		tfl.TensorStart(b)
		tfl.TensorAddName(b, name)
		tfl.TensorAddShape(b, shape)
		tfl.TensorAddType(b, t.typ)
		tfl.TensorAddBuffer(b, bufIndex[i])
		if q != 0 {
			tfl.TensorAddQuantization(b, q)
		}
		tensors[i] = tfl.TensorEnd(b)
	}

	codes := make([]flatbuffers.UOffsetT, len(m.ops))
	ops := make([]flatbuffers.UOffsetT, len(m.ops))
	for i, o := range m.ops {
		var custom flatbuffers.UOffsetT
		if o.custom != "" {
			custom = b.CreateString(o.custom)
		}
		tfl.OperatorCodeStart(b)
		if o.deprecated {
			tfl.OperatorCodeAddDeprecatedBuiltinCode(b, int8(o.code))
		} else {
			tfl.OperatorCodeAddDeprecatedBuiltinCode(b, int8(min(o.code, tfl.BuiltinOperatorPLACEHOLDER_FOR_GREATER_OP_CODES)))
			tfl.OperatorCodeAddBuiltinCode(b, o.code)
		}
		if custom != 0 {
			tfl.OperatorCodeAddCustomCode(b, custom)
		}
		tfl.OperatorCodeAddVersion(b, 1)
		codes[i] = tfl.OperatorCodeEnd(b)

		var opts flatbuffers.UOffsetT
		if o.opts != nil {
			opts = o.opts(b)
		}
		in, out := int32Vector(b, o.in), int32Vector(b, o.out)
		tfl.OperatorStart(b)
		tfl.OperatorAddOpcodeIndex(b, uint32(i))
		tfl.OperatorAddInputs(b, in)
		tfl.OperatorAddOutputs(b, out)
		if opts != 0 {
			tfl.OperatorAddBuiltinOptionsType(b, o.optType)
			tfl.OperatorAddBuiltinOptions(b, opts)
		}
		ops[i] = tfl.OperatorEnd(b)
	}

	offsets := func(v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependUOffsetT(v[i])
		}
		return b.EndVector(len(v))
	}
	tv, ov := offsets(tensors), offsets(ops)
	iv, outv := int32Vector(b, m.inputs), int32Vector(b, m.outputs)
	tfl.SubGraphStart(b)
	tfl.SubGraphAddTensors(b, tv)
	tfl.SubGraphAddOperators(b, ov)
	tfl.SubGraphAddInputs(b, iv)
	tfl.SubGraphAddOutputs(b, outv)
	sg := tfl.SubGraphEnd(b)
	sgv, cv, bv := offsets([]flatbuffers.UOffsetT{sg}), offsets(codes), offsets(bufs)
	tfl.ModelStart(b)
	tfl.ModelAddVersion(b, 3)
	tfl.ModelAddSubgraphs(b, sgv)
	tfl.ModelAddOperatorCodes(b, cv)
	tfl.ModelAddBuffers(b, bv)
	b.FinishWithFileIdentifier(tfl.ModelEnd(b), []byte(fileIdentifier))
	out := append([]byte(nil), b.FinishedBytes()...)

	// Data stored after the flatbuffer: append it and patch the offsets.
	for _, e := range externs {
		model := tfl.GetRootAsModel(out, 0)
		var fb tfl.Buffer
		model.Buffers(&fb, e.buf)
		for len(out)%16 != 0 {
			out = append(out, 0)
		}
		fb.MutateOffset(uint64(len(out)))
		out = append(out, e.data...)
	}
	return out
}

// Option builders.

func convOpts(pad tfl.Padding, stride int32, act tfl.ActivationFunctionType) func(*flatbuffers.Builder) flatbuffers.UOffsetT {
	return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		tfl.Conv2DOptionsStart(b)
		tfl.Conv2DOptionsAddPadding(b, pad)
		tfl.Conv2DOptionsAddStrideH(b, stride)
		tfl.Conv2DOptionsAddStrideW(b, stride)
		tfl.Conv2DOptionsAddDilationHFactor(b, 1)
		tfl.Conv2DOptionsAddDilationWFactor(b, 1)
		tfl.Conv2DOptionsAddFusedActivationFunction(b, act)
		return tfl.Conv2DOptionsEnd(b)
	}
}

func i32Bytes(v ...int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

func f32Bytes(v ...float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// convModel is a float 1x4x4x2 input, 3x3 stride 1 SAME conv to 3 channels with bias; more ops and
// tensors can be appended. Tensors: 0 input, 1 filter, 2 bias, 3 conv output.
func convModel(act tfl.ActivationFunctionType) *tModel {
	return &tModel{
		tensors: []tTensor{
			{name: "input", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 4, 4, 2}},
			{name: "filter", typ: tfl.TensorTypeFLOAT32, shape: []int32{3, 3, 3, 2}, data: make([]byte, 3*3*3*2*4)},
			{name: "bias", typ: tfl.TensorTypeFLOAT32, shape: []int32{3}, data: f32Bytes(1, 2, 3)},
			{name: "conv", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 4, 4, 3}},
		},
		ops: []tOp{{code: tfl.BuiltinOperatorCONV_2D, in: []int32{0, 1, 2}, out: []int32{3},
			optType: tfl.BuiltinOptionsConv2DOptions, opts: convOpts(tfl.PaddingSAME, 1, act)}},
		inputs:  []int32{0},
		outputs: []int32{3},
	}
}

// withOp appends a tensor and an op reading the model's current output into it, making that
// tensor the output.
func (m *tModel) withOp(o tOp, out tTensor, extra ...tTensor) *tModel {
	in := m.outputs[0]
	o.in = append([]int32{in}, o.in...)
	for _, e := range extra {
		m.tensors = append(m.tensors, e)
		o.in = append(o.in, int32(len(m.tensors)-1))
	}
	m.tensors = append(m.tensors, out)
	o.out = []int32{int32(len(m.tensors) - 1)}
	m.ops = append(m.ops, o)
	m.outputs = []int32{o.out[0]}
	return m
}

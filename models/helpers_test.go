package models

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"
)

// fullModel builds a model that uses every op type and every attribute, per-tensor and per-channel
// quantization (with and without zero points), a scalar and an empty constant, labels and
// preprocessing. Shapes are plausible but nothing here depends on op semantics.
func fullModel() *Model {
	rng := rand.New(rand.NewPCG(1, 2))
	i8 := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	f32 := func(vs ...float32) []byte {
		b := make([]byte, 0, 4*len(vs))
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	q := func(scale float32, zp int32) *Quant { return &Quant{Scale: []float32{scale}, ZeroPoint: []int32{zp}} }
	floats := make([]float32, 20)
	for i := range floats {
		floats[i] = float32(i)*0.1 - 1.0001
	}
	labels := make([]string, 20)
	for i := range labels {
		labels[i] = string(rune('a'+i)) + "_class"
	}
	return &Model{
		Name: "everything",
		Tensors: []Tensor{
			{Name: "input", Type: UInt8, Shape: []int{1, 8, 8, 3}, Quant: q(1.0/128, 128)},
			{Name: "input_q", Type: Int8, Shape: []int{1, 8, 8, 3}, Quant: q(1.0/128, 0)},
			{Name: "conv/w", Type: Int8, Shape: []int{4, 3, 3, 3}, Quant: &Quant{Scale: []float32{0.01, 0.02, 0.03, 0.04}, ZeroPoint: []int32{0}, Axis: 0}, Data: i8(108)},
			{Name: "conv/b", Type: Int32, Shape: []int{4}, Quant: &Quant{Scale: []float32{1e-4, 2e-4, 3e-4, 4e-4}, Axis: 0}, Data: i8(16)},
			{Name: "conv/out", Type: Int8, Shape: []int{1, 8, 8, 4}, Quant: q(0.05, -128)},
			{Name: "dw/w", Type: Int8, Shape: []int{1, 3, 3, 8}, Quant: &Quant{Scale: []float32{1, 2, 3, 4, 5, 6, 7, 8}, ZeroPoint: make([]int32, 8), Axis: 3}, Data: i8(72)},
			{Name: "dw/out", Type: Int8, Shape: []int{1, 4, 4, 8}, Quant: q(0.1, -3)},
			{Name: "avg/out", Type: Int8, Shape: []int{1, 2, 2, 8}, Quant: q(0.1, -3)},
			{Name: "max/out", Type: Int8, Shape: []int{1, 1, 1, 8}, Quant: q(0.1, -3)},
			{Name: "pad/out", Type: Int8, Shape: []int{1, 3, 3, 8}, Quant: q(0.1, -3)},
			{Name: "mean/out", Type: Int8, Shape: []int{1, 1, 1, 8}, Quant: q(0.1, -3)},
			{Name: "reshape/out", Type: Int8, Shape: []int{1, 8}, Quant: q(0.1, -3)},
			{Name: "fc/w", Type: Int8, Shape: []int{10, 8}, Quant: q(0.003, 0), Data: i8(80)},
			{Name: "fc/out", Type: Int8, Shape: []int{1, 10}, Quant: q(0.2, 5)},
			{Name: "add/const", Type: Int8, Shape: []int{1, 10}, Quant: q(0.2, 5), Data: i8(10)},
			{Name: "add/out", Type: Int8, Shape: []int{1, 10}, Quant: q(0.4, 1)},
			{Name: "concat/out", Type: Int8, Shape: []int{1, 20}, Quant: q(0.4, 1)},
			{Name: "deq/out", Type: Float32, Shape: []int{1, 20}},
			{Name: "bias/f32", Type: Float32, Shape: []int{1, 20}, Data: f32(floats...)},
			{Name: "add2/out", Type: Float32, Shape: []int{1, 20}},
			{Name: "softmax/out", Type: Float32, Shape: []int{1, 20}},
			{Name: "scalar", Type: Int64, Data: i8(8)},
			{Name: "empty", Type: Int16, Shape: []int{0, 4}, Data: []byte{}},
			{Name: "", Type: Float16, Shape: []int{2}, Data: []byte{0, 0x3c, 0, 0xc0}},
		},
		Ops: []Op{
			{Type: OpQuantize, Name: "quant", Inputs: []int{0}, Outputs: []int{1}},
			{Type: OpConv2D, Name: "conv", Inputs: []int{1, 2, 3}, Outputs: []int{4}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Activation: ActReLU6},
			{Type: OpDepthwiseConv2D, Name: "dw", Inputs: []int{4, 5, -1}, Outputs: []int{6}, Stride: [2]int{2, 2}, Dilation: [2]int{2, 3}, Pad: [4]int{2, 3, 1, 0}, DepthMultiplier: 2, Activation: ActReLU},
			{Type: OpAveragePool2D, Name: "avg", Inputs: []int{6}, Outputs: []int{7}, Stride: [2]int{2, 2}, Kernel: [2]int{2, 2}, Activation: ActReLUN1},
			{Type: OpMaxPool2D, Name: "max", Inputs: []int{7}, Outputs: []int{8}, Stride: [2]int{2, 1}, Kernel: [2]int{3, 2}, Pad: [4]int{0, 0, 1, 1}},
			{Type: OpPad, Name: "pad", Inputs: []int{8}, Outputs: []int{9}, Paddings: []int{0, 0, 1, 1, 1, 1, 0, 0}},
			{Type: OpMean, Name: "mean", Inputs: []int{9}, Outputs: []int{10}, Axes: []int{1, -2}, KeepDims: true, UInt8Rounding: true},
			{Type: OpReshape, Name: "reshape", Inputs: []int{10}, Outputs: []int{11}},
			{Type: OpFullyConnected, Name: "fc", Inputs: []int{11, 12}, Outputs: []int{13}},
			{Type: OpAdd, Name: "add", Inputs: []int{13, 14}, Outputs: []int{15}, Activation: ActReLU},
			{Type: OpConcatenation, Name: "concat", Inputs: []int{15, 13}, Outputs: []int{16}, Axis: -1},
			{Type: OpDequantize, Name: "deq", Inputs: []int{16}, Outputs: []int{17}},
			{Type: OpAdd, Name: "add2", Inputs: []int{17, 18}, Outputs: []int{19}},
			{Type: OpSoftmax, Name: "softmax", Inputs: []int{19}, Outputs: []int{20}, Beta: 0.5},
		},
		Inputs:     []int{0},
		Outputs:    []int{20},
		Labels:     labels,
		Preprocess: &Preprocess{Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}, Resize: "nearest", BGR: true, CropFraction: 0.875},
	}
}

// smallModel is one FullyConnected op; specSmall writes the same model by hand.
func smallModel() *Model {
	return &Model{
		Name: "small",
		Tensors: []Tensor{
			{Name: "in", Type: Int8, Shape: []int{1, 4}, Quant: &Quant{Scale: []float32{0.5}, ZeroPoint: []int32{-1}}},
			{Name: "w", Type: Int8, Shape: []int{2, 4}, Quant: &Quant{Scale: []float32{0.25, 0.125}, ZeroPoint: []int32{0}}, Data: []byte{1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc}},
			{Name: "out", Type: Int8, Shape: []int{1, 2}, Quant: &Quant{Scale: []float32{1}, ZeroPoint: []int32{3}}},
		},
		Ops:        []Op{{Type: OpFullyConnected, Name: "fc", Inputs: []int{0, 1}, Outputs: []int{2}, Activation: ActReLU}},
		Inputs:     []int{0},
		Outputs:    []int{2},
		Labels:     []string{"a", "b"},
		Preprocess: &Preprocess{Raw: true},
	}
}

// specFile is a model file written field by field from FORMAT.md, independently of encode, with
// the offsets of named fields so that tests can patch them.
type specFile struct {
	b  []byte
	at map[string]int
}

func (s *specFile) mark(name string) { s.at[name] = len(s.b) }
func (s *specFile) u8(v uint8)       { s.b = append(s.b, v) }
func (s *specFile) u16(v uint16)     { s.b = binary.LittleEndian.AppendUint16(s.b, v) }
func (s *specFile) u32(v uint32)     { s.b = binary.LittleEndian.AppendUint32(s.b, v) }
func (s *specFile) u64(v uint64)     { s.b = binary.LittleEndian.AppendUint64(s.b, v) }
func (s *specFile) i32(v int32)      { s.u32(uint32(v)) }
func (s *specFile) f32(v float32)    { s.u32(math.Float32bits(v)) }
func (s *specFile) str(v string)     { s.u32(uint32(len(v))); s.b = append(s.b, v...) }

// put32 and put64 patch a named field, then fix the checksum.
func (s *specFile) put32(name string, v uint32) []byte {
	b := append([]byte(nil), s.b...)
	binary.LittleEndian.PutUint32(b[s.at[name]:], v)
	return fixChecksum(b)
}

func (s *specFile) put64(name string, v uint64) []byte {
	b := append([]byte(nil), s.b...)
	binary.LittleEndian.PutUint64(b[s.at[name]:], v)
	return fixChecksum(b)
}

func (s *specFile) put8(name string, v uint8) []byte {
	b := append([]byte(nil), s.b...)
	b[s.at[name]] = v
	return fixChecksum(b)
}

// fixChecksum rewrites b's checksum field in place (FORMAT.md §2) and returns b.
func fixChecksum(b []byte) []byte {
	if len(b) >= 16 {
		binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[16:], crc32.MakeTable(crc32.Castagnoli)))
	}
	return b
}

// specSmall writes smallModel per FORMAT.md; extra appends one unused byte to the graph section.
func specSmall(extra bool) *specFile {
	s := &specFile{at: map[string]int{}}
	s.b = append(s.b, "EDGEINFM"...)
	s.mark("version")
	s.u32(1)
	s.u32(0) // checksum
	s.mark("length")
	s.u64(0)
	s.mark("graphlen")
	s.u32(0)
	s.mark("reserved")
	s.u32(0)

	s.str("small")
	s.mark("tensors.count")
	s.u32(3)
	// tensor 0: "in" int8 [1,4], quantized
	s.mark("t0")
	s.mark("t0.name")
	s.str("in")
	s.mark("t0.dtype")
	s.u8(3)
	s.mark("t0.flags")
	s.u8(2)
	s.mark("t0.shape")
	s.u32(2)
	s.i32(1)
	s.i32(4)
	s.i32(0) // axis
	s.u32(1)
	s.mark("t0.scale")
	s.f32(0.5)
	s.u32(1)
	s.mark("t0.zero")
	s.i32(-1)
	// tensor 1: "w" int8 [2,4], const, per-channel on axis 0
	s.mark("t1")
	s.str("w")
	s.u8(3)
	s.u8(3)
	s.u32(2)
	s.i32(2)
	s.i32(4)
	s.mark("t1.axis")
	s.i32(0)
	s.u32(2)
	s.f32(0.25)
	s.f32(0.125)
	s.u32(1)
	s.i32(0)
	s.mark("t1.offset")
	s.u64(0)
	s.mark("t1.length")
	s.u64(8)
	// tensor 2: "out" int8 [1,2]
	s.mark("t2")
	s.str("out")
	s.u8(3)
	s.u8(2)
	s.u32(2)
	s.i32(1)
	s.i32(2)
	s.i32(0)
	s.u32(1)
	s.f32(1)
	s.u32(1)
	s.i32(3)
	// op 0: FullyConnected
	s.mark("ops.count")
	s.u32(1)
	s.mark("op0")
	s.mark("op0.type")
	s.u16(3)
	s.mark("op0.activation")
	s.u8(1)
	s.mark("op0.flags")
	s.u8(0)
	s.str("fc")
	s.u32(2)
	s.mark("op0.in0")
	s.i32(0)
	s.mark("op0.in1")
	s.i32(1)
	s.u32(1)
	s.mark("op0.out0")
	s.i32(2)
	s.mark("op0.stride")
	for range 12 { // stride 2, dilation 2, pad 4, kernel 2, depth multiplier, axis
		s.i32(0)
	}
	s.mark("op0.beta")
	s.f32(0)
	s.u32(0) // axes
	s.u32(0) // paddings
	s.mark("inputs")
	s.u32(1)
	s.mark("inputs.0")
	s.i32(0)
	s.mark("outputs")
	s.u32(1)
	s.i32(2)
	s.u32(2)
	s.str("a")
	s.str("b")
	s.mark("preprocess")
	s.u8(1)
	s.u8(1) // raw
	for range 7 {
		s.f32(0) // mean, std, crop fraction
	}
	s.str("")
	if extra {
		s.u8(0)
	}
	binary.LittleEndian.PutUint32(s.b[s.at["graphlen"]:], uint32(len(s.b)-32))
	for len(s.b)%64 != 0 {
		s.u8(0)
	}
	binary.LittleEndian.PutUint64(s.b[s.at["t1.offset"]:], uint64(len(s.b)))
	s.mark("blob")
	s.b = append(s.b, 1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc)
	binary.LittleEndian.PutUint64(s.b[s.at["length"]:], uint64(len(s.b)))
	fixChecksum(s.b)
	return s
}

// mustEncode encodes m or fails t.
func mustEncode(t testing.TB, m *Model, opt WriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, m, opt); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

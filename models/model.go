package models

import (
	"fmt"
	"math"

	"github.com/x448/float16"
)

// DType is the element type of a tensor.
type DType uint8

// Element types. The numbering is part of the file format (FORMAT.md): never renumber.
const (
	DTypeInvalid DType = 0
	Float32      DType = 1
	Float16      DType = 2 // storage only: the runtime widens it to Float32 when it loads
	Int8         DType = 3
	UInt8        DType = 4
	Int32        DType = 5
	Int16        DType = 6
	Int64        DType = 7
)

var dtypeNames = [...]string{"invalid", "float32", "float16", "int8", "uint8", "int32", "int16", "int64"}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes of one element, 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case Int8, UInt8:
		return 1
	case Float16, Int16:
		return 2
	case Float32, Int32:
		return 4
	case Int64:
		return 8
	}
	return 0
}

// Quant holds the affine quantization of a tensor: real = Scale * (q - ZeroPoint).
// Per-tensor quantization has one scale; per-channel quantization has one scale (and one zero
// point, or a single shared one) per index of dimension Axis.
type Quant struct {
	Scale     []float32
	ZeroPoint []int32
	Axis      int
}

// PerChannel reports whether the tensor has more than one scale.
func (q *Quant) PerChannel() bool { return q != nil && len(q.Scale) > 1 }

// ScaleAt returns the scale of channel c (the only scale for per-tensor quantization).
func (q *Quant) ScaleAt(c int) float32 {
	if len(q.Scale) == 1 {
		return q.Scale[0]
	}
	return q.Scale[c]
}

// ZeroAt returns the zero point of channel c (the only zero point when there is one).
func (q *Quant) ZeroAt(c int) int32 {
	if len(q.ZeroPoint) == 0 {
		return 0
	}
	if len(q.ZeroPoint) == 1 {
		return q.ZeroPoint[0]
	}
	return q.ZeroPoint[c]
}

// Tensor is a typed n-dimensional array: an activation (Data == nil) or a constant.
type Tensor struct {
	Name  string
	Type  DType
	Shape []int
	Quant *Quant // nil for float tensors and unquantized integers
	// Data holds a constant's elements, little-endian, row-major; nil for activations. When a model is
	// loaded from a file it aliases the file's bytes (no copy).
	Data []byte
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// IsConst reports whether the tensor holds constant data.
func (t *Tensor) IsConst() bool { return t.Data != nil }

// Int8s returns the data of an Int8 tensor, aliasing Data.
func (t *Tensor) Int8s() []int8 {
	if len(t.Data) == 0 {
		return nil
	}
	return unsafeInt8s(t.Data)
}

// Int32s decodes the data of an Int32 tensor into a new slice.
func (t *Tensor) Int32s() []int32 {
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		b := t.Data[4*i:]
		out[i] = int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	return out
}

// Float32s decodes the data of a Float32 or Float16 tensor into a new slice.
func (t *Tensor) Float32s() []float32 {
	switch t.Type {
	case Float32:
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			b := t.Data[4*i:]
			out[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		}
		return out
	case Float16:
		out := make([]float32, len(t.Data)/2)
		for i := range out {
			out[i] = float16.Frombits(uint16(t.Data[2*i]) | uint16(t.Data[2*i+1])<<8).Float32()
		}
		return out
	}
	return nil
}

// OpType names an operator. The numbering is part of the file format: never renumber.
type OpType uint16

// Operators. Each one's inputs, outputs and attributes are listed in FORMAT.md.
const (
	OpInvalid         OpType = 0
	OpConv2D          OpType = 1  // in: input NHWC, filter OHWI, bias [O] (optional); out: NHWC
	OpDepthwiseConv2D OpType = 2  // in: input NHWC, filter [1,KH,KW,C*M], bias (optional)
	OpFullyConnected  OpType = 3  // in: input [..., I], weights [O,I], bias (optional); out: [N,O] or [..., O]
	OpAveragePool2D   OpType = 4  // in: NHWC
	OpMaxPool2D       OpType = 5  // in: NHWC
	OpMean            OpType = 6  // in: any; Axes, KeepDims
	OpAdd             OpType = 7  // in: a, b (same shape)
	OpConcatenation   OpType = 8  // in: n tensors; Axis
	OpReshape         OpType = 9  // in: input; the output tensor's shape is the new shape
	OpPad             OpType = 10 // in: input; Paddings
	OpSoftmax         OpType = 11 // in: input; Beta; over the last dimension
	OpQuantize        OpType = 12 // float->int, or int->int with a new scale/zero point (uint8<->int8)
	OpDequantize      OpType = 13 // int->float
	OpMul             OpType = 14 // in: a, b (broadcast, NumPy rules); a*b
	OpLogistic        OpType = 15 // in: input; sigmoid, through a 256-entry table
	OpHardSwish       OpType = 16 // in: input; x*relu6(x+3)/6, through a 256-entry table
	OpTranspose       OpType = 17 // in: input; Axes: the permutation (output dim d is input dim Axes[d])
	OpSlice           OpType = 18 // in: input; Paddings: begin, end per dim; Axes: strides (empty: all 1)
	OpBatchMatMul     OpType = 19 // in: a [..., M, K], b [..., K, N] (AdjX, AdjY transpose them), bias opt; out [..., M, N]
	OpGelu            OpType = 20 // in: input; GELU (Approximate: tanh form), through a 256-entry table
	OpLayerNorm       OpType = 21 // in: input [..., D], gamma [D], beta [D] opt (float32); Beta is epsilon
	// 22-24 are free for more of the transformer family; see FORMAT.md §5.
	OpTable OpType = 25 // in: input int8, table [256] int8 constant; out[i] = table[uint8(in[i])]
)

var opNames = map[OpType]string{
	OpConv2D: "Conv2D", OpDepthwiseConv2D: "DepthwiseConv2D", OpFullyConnected: "FullyConnected",
	OpAveragePool2D: "AveragePool2D", OpMaxPool2D: "MaxPool2D", OpMean: "Mean", OpAdd: "Add",
	OpConcatenation: "Concatenation", OpReshape: "Reshape", OpPad: "Pad", OpSoftmax: "Softmax",
	OpQuantize: "Quantize", OpDequantize: "Dequantize",
	OpMul: "Mul", OpLogistic: "Logistic", OpHardSwish: "HardSwish", OpTable: "Table",
	OpTranspose: "Transpose", OpSlice: "Slice",
	OpBatchMatMul: "BatchMatMul", OpGelu: "Gelu", OpLayerNorm: "LayerNorm",
}

func (o OpType) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%d)", uint16(o))
}

// Activation is a fused activation function, applied as a clamp of the op's output.
type Activation uint8

// Fused activations. The numbering is part of the file format.
const (
	ActNone   Activation = 0
	ActReLU   Activation = 1 // [0, +inf)
	ActReLU6  Activation = 2 // [0, 6]
	ActReLUN1 Activation = 3 // [-1, 1]
)

func (a Activation) String() string {
	switch a {
	case ActNone:
		return "none"
	case ActReLU:
		return "relu"
	case ActReLU6:
		return "relu6"
	case ActReLUN1:
		return "relu_n1_to_1"
	}
	return fmt.Sprintf("activation(%d)", uint8(a))
}

// Op is one node of the graph. Inputs and Outputs are indices into Model.Tensors; an absent
// optional input (a bias) is -1. Only the attributes its type uses are meaningful (FORMAT.md).
type Op struct {
	Type    OpType
	Name    string // where the op came from (the source model's name for it), for messages
	Inputs  []int
	Outputs []int

	Stride          [2]int // H, W (convolutions, pooling); 0 means 1
	Dilation        [2]int // H, W (convolutions); 0 means 1
	Pad             [4]int // explicit padding: top, left, bottom, right (convolutions, pooling)
	Kernel          [2]int // window H, W (pooling)
	DepthMultiplier int    // depthwise convolution; 0 means 1
	Activation      Activation
	Axis            int     // Concatenation
	Axes            []int   // Mean: the reduced axes; Transpose: the permutation; Slice: strides
	KeepDims        bool    // Mean
	Paddings        []int   // Pad: before, after for each dimension; Slice: begin, end per dimension
	Beta            float32 // Softmax; 0 means 1. LayerNorm: epsilon, added to the variance
	// AdjX and AdjY transpose the last two dimensions of BatchMatMul's first and second inputs.
	AdjX, AdjY bool
	// Approximate selects GELU's tanh approximation instead of the exact erf form.
	Approximate bool
	// UInt8Rounding marks an op of a model converted from uint8 that rounds as TensorFlow Lite's
	// uint8 kernel does, which in int8 terms differs from its int8 kernel: AveragePool2D rounds ties
	// toward +infinity (not away from zero) and Mean's truncating division becomes a floor. Importers
	// set it, so that converted models give exactly the uint8 model's results.
	UInt8Rounding bool
}

// Preprocess says how a camera frame or an image becomes the model's input. Pixels are first
// scaled to [0, 1], then real = (x - Mean[c]) / Std[c] per RGB channel (torchvision's convention),
// then quantized with the input tensor's parameters. Raw means the pixel bytes are fed as they are
// (uint8 input) or minus 128 (int8 input), as TensorFlow Lite's classic quantized models expect.
type Preprocess struct {
	Raw    bool
	Mean   [3]float32
	Std    [3]float32
	Resize string // "bilinear" or "nearest"; empty: bilinear
	BGR    bool   // channel order of the input tensor
	// CropFraction is the central fraction of the shorter side kept before resizing (0 or 1: none).
	CropFraction float32
}

// Model is a graph of ops over tensors: the in-memory form of the model file, and what the
// importers produce and the runtime executes. Ops are in execution order.
type Model struct {
	Name       string
	Tensors    []Tensor
	Ops        []Op
	Inputs     []int
	Outputs    []int
	Labels     []string    // class names of output 0, if known
	Preprocess *Preprocess // nil: raw pixels
}

// Package onnxtest builds small ONNX models in Go, with the generated onnxpb types, for tests of
// quant/onnx and the passes after it: no model files to download or commit.
package onnxtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/x448/float16"
	"google.golang.org/protobuf/proto"

	pb "github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
)

// Builder assembles one ONNX model. Errors (an attribute of an unknown Go type) are kept and
// returned by Bytes.
type Builder struct {
	Model *pb.ModelProto
	err   error
}

// New returns a model of the given opset (default domain) and IR version 8.
func New(name string, opset int64) *Builder {
	return &Builder{Model: &pb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("edgeinfer onnxtest"),
		OpsetImport:  []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph:        &pb.GraphProto{Name: proto.String(name)},
	}}
}

// Opset is the version of the default domain the model imports.
func (b *Builder) Opset() int64 {
	for _, o := range b.Model.OpsetImport {
		if o.GetDomain() == "" {
			return o.GetVersion()
		}
	}
	return 0
}

func valueInfo(name string, shape []int64) *pb.ValueInfoProto {
	sp := &pb.TensorShapeProto{}
	for _, d := range shape {
		sp.Dim = append(sp.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)), Shape: sp}}}}
}

// Input declares a float graph input and returns its name.
func (b *Builder) Input(name string, shape ...int64) string {
	b.Model.Graph.Input = append(b.Model.Graph.Input, valueInfo(name, shape))
	return name
}

// Output declares a float graph output (shape may be omitted).
func (b *Builder) Output(name string, shape ...int64) {
	vi := valueInfo(name, shape)
	if shape == nil {
		vi.Type.GetTensorType().Shape = nil
	}
	b.Model.Graph.Output = append(b.Model.Graph.Output, vi)
}

// FloatTensor returns a FLOAT tensor proto with data in raw_data.
func FloatTensor(name string, shape []int64, data []float32) *pb.TensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &pb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), RawData: raw}
}

// Float16Tensor returns a FLOAT16 tensor proto holding data rounded to half precision.
func Float16Tensor(name string, shape []int64, data []float32) *pb.TensorProto {
	raw := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(raw[2*i:], float16.Fromfloat32(v).Bits())
	}
	return &pb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(int32(pb.TensorProto_FLOAT16)), RawData: raw}
}

// Int64Tensor returns an INT64 tensor proto (int64_data).
func Int64Tensor(name string, shape []int64, data []int64) *pb.TensorProto {
	return &pb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(int32(pb.TensorProto_INT64)), Int64Data: data}
}

// Init adds t as an initializer and returns its name.
func (b *Builder) Init(t *pb.TensorProto) string {
	b.Model.Graph.Initializer = append(b.Model.Graph.Initializer, t)
	return t.GetName()
}

// Float adds a FLOAT initializer.
func (b *Builder) Float(name string, shape []int64, data []float32) string {
	return b.Init(FloatTensor(name, shape, data))
}

// Ints adds a rank-1 INT64 initializer.
func (b *Builder) Ints(name string, data ...int64) string {
	return b.Init(Int64Tensor(name, []int64{int64(len(data))}, data))
}

// Random adds a FLOAT initializer of values uniform in [-scale, scale).
func (b *Builder) Random(rng *rand.Rand, name string, scale float32, shape ...int64) string {
	return b.Float(name, shape, Uniform(rng, scale, shape...))
}

// Uniform returns values uniform in [-scale, scale) for a tensor of the given shape.
func Uniform(rng *rand.Rand, scale float32, shape ...int64) []float32 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = (2*rng.Float32() - 1) * scale
	}
	return data
}

// Attrs are node attributes by name; values are int, int64, float32, float64, string, []int64,
// []float32 or *onnxpb.TensorProto.
type Attrs map[string]any

// Node adds a node of the default domain (outputs named by the caller) and returns its first output.
func (b *Builder) Node(op, name string, inputs, outputs []string, attrs Attrs) string {
	n := &pb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: inputs, Output: outputs}
	for k, v := range attrs {
		a := &pb.AttributeProto{Name: proto.String(k)}
		switch v := v.(type) {
		case int:
			a.Type, a.I = pb.AttributeProto_INT.Enum(), proto.Int64(int64(v))
		case int64:
			a.Type, a.I = pb.AttributeProto_INT.Enum(), proto.Int64(v)
		case float32:
			a.Type, a.F = pb.AttributeProto_FLOAT.Enum(), proto.Float32(v)
		case float64:
			a.Type, a.F = pb.AttributeProto_FLOAT.Enum(), proto.Float32(float32(v))
		case string:
			a.Type, a.S = pb.AttributeProto_STRING.Enum(), []byte(v)
		case []int64:
			a.Type, a.Ints = pb.AttributeProto_INTS.Enum(), v
		case []float32:
			a.Type, a.Floats = pb.AttributeProto_FLOATS.Enum(), v
		case *pb.TensorProto:
			a.Type, a.T = pb.AttributeProto_TENSOR.Enum(), v
		default:
			if b.err == nil {
				b.err = fmt.Errorf("onnxtest: node %q: attribute %q: unsupported Go type %T", name, k, v)
			}
			continue
		}
		n.Attribute = append(n.Attribute, a)
	}
	b.Model.Graph.Node = append(b.Model.Graph.Node, n)
	if len(outputs) == 0 {
		return ""
	}
	return outputs[0]
}

// Op adds a node whose one output is called name, and returns name.
func (b *Builder) Op(op, name string, attrs Attrs, inputs ...string) string {
	return b.Node(op, name, inputs, []string{name}, attrs)
}

// Bytes returns the serialized model.
func (b *Builder) Bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	return proto.Marshal(b.Model)
}

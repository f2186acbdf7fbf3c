package onnxtest

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/proto"

	pb "github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
)

// Go's fuzzing engine slows to a few executions a minute on inputs of tens of kilobytes, which whole
// models with their weights are. Fuzz targets therefore take models whose large FLOAT initializers
// have no data (StripWeights, a few kilobytes: the structure — ops, attributes, shapes, names — is
// what gets mutated) and give them data again before use (FillWeights).

// StripWeights returns model with the raw data of every FLOAT initializer of more than 16 values
// removed. Models that do not parse are returned unchanged.
func StripWeights(model []byte) []byte {
	m := &pb.ModelProto{}
	if proto.Unmarshal(model, m) != nil || m.Graph == nil {
		return model
	}
	for _, t := range m.Graph.Initializer {
		if t.GetDataType() == int32(pb.TensorProto_FLOAT) && len(t.RawData) > 64 {
			t.RawData = nil
		}
	}
	out, err := proto.Marshal(m)
	if err != nil {
		return model
	}
	return out
}

// FillWeights gives every FLOAT initializer without data the data its dimensions call for,
// deterministic values in [-0.5, 0.5), unless that is more than maxValues in all; it returns false
// when the model does not parse or would be too large.
func FillWeights(model []byte, maxValues int64) ([]byte, bool) {
	m := &pb.ModelProto{}
	if proto.Unmarshal(model, m) != nil || m.Graph == nil {
		return nil, false
	}
	var total int64
	for _, t := range m.Graph.Initializer {
		if t.GetDataType() != int32(pb.TensorProto_FLOAT) || len(t.RawData) > 0 || len(t.FloatData) > 0 {
			continue
		}
		n := int64(1)
		for _, d := range t.Dims {
			if d < 0 || d > maxValues {
				return nil, false
			}
			n *= d
			if n > maxValues {
				return nil, false
			}
		}
		if total += n; total > maxValues {
			return nil, false
		}
		raw := make([]byte, 4*n)
		for i := range n {
			v := float32((i*2654435761)%1000)/1000 - 0.5
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		t.RawData = raw
	}
	out, err := proto.Marshal(m)
	return out, err == nil
}

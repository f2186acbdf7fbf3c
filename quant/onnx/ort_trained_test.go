package onnx_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/x448/float16"
	"google.golang.org/protobuf/proto"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// widen rewrites the float16 initializers of a model as float32, which ONNX Runtime needs: the
// committed copies of the zoo's models store their weights as float16 (models/train/fp16.py) without
// the Cast nodes a float16 ONNX graph would have.
func widen(t *testing.T, b []byte) []byte {
	t.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, init := range m.GetGraph().GetInitializer() {
		if init.GetDataType() != int32(onnxpb.TensorProto_FLOAT16) {
			continue
		}
		var halves []uint16
		if raw := init.GetRawData(); raw != nil {
			for i := 0; i+1 < len(raw); i += 2 {
				halves = append(halves, binary.LittleEndian.Uint16(raw[i:]))
			}
		} else {
			for _, v := range init.GetInt32Data() {
				halves = append(halves, uint16(v))
			}
		}
		raw := make([]byte, 4*len(halves))
		for i, h := range halves {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float16.Frombits(h).Float32()))
		}
		init.DataType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		init.RawData = raw
		init.Int32Data = nil
	}
	out, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestORTTrainedModels compares the float reference execution with ONNX Runtime on the zoo's
// trained networks (models/zoo/onnx): RepVGG-A0 in its multi-branch training form and MobileNetV2.
func TestORTTrainedModels(t *testing.T) {
	home := ortHome(t)
	for _, name := range onnxtest.Zoo() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(onnxtest.TrainedModel(t, name))
			if err != nil {
				t.Fatal(err)
			}
			model := widen(t, b)
			g, err := onnx.Read(model, name+".onnx")
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			in := g.Inputs[0]
			var worst float64
			for range 2 {
				x := &graph.Tensor{Name: in.Name, Shape: []int{1, 3, 32, 32}, Data: onnxtest.Uniform(rng, 2, 1, 3, 32, 32)}
				inputs := map[string]*graph.Tensor{in.Name: x}
				got, err := g.Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				want := runORT(t, home, model, g, inputs)
				o := g.Outputs[0].Name
				if len(got[o].Data) != len(want[o].Data) {
					t.Fatalf("%d outputs, ONNX Runtime %d", len(got[o].Data), len(want[o].Data))
				}
				for i := range got[o].Data {
					d := math.Abs(float64(got[o].Data[i] - want[o].Data[i]))
					if !(d <= worst) {
						worst = d
					}
				}
			}
			t.Logf("%s: max |graph.Run - ONNX Runtime| = %.3g over 2 random inputs", name, worst)
			if !(worst < ortTolerance) {
				t.Errorf("max difference %g, tolerance %g", worst, ortTolerance)
			}
		})
	}
}

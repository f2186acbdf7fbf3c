package tfliteref

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/tflite"
)

// convModel is a UINT8 input, a per-channel INT8 depthwise convolution and a quantize to UINT8: what
// the builder must write so that the importer reads it back.
func convModel(t *testing.T) []byte {
	t.Helper()
	b := NewBuilder()
	x := b.Input("in", tfl.TensorTypeUINT8, []int{1, 5, 5, 2}, PerTensor(0.5, 128))
	xi := b.Tensor("in_i8", tfl.TensorTypeINT8, []int{1, 5, 5, 2}, PerTensor(0.5, 0))
	b.Op(tfl.BuiltinOperatorQUANTIZE, 1, nil, []int32{x}, xi)
	w := b.Const("w", tfl.TensorTypeINT8, []int{1, 3, 3, 4}, PerChannel([]float32{0.1, 0.2, 0.3, 0.4}, []int64{0, 0, 0, 0}, 3),
		Int8Data(make([]int8, 36)))
	bias := b.Const("b", tfl.TensorTypeINT32, []int{4}, PerChannel([]float32{0.05, 0.1, 0.15, 0.2}, []int64{0, 0, 0, 0}, 0),
		Int32Data([]int32{1, -2, 3, -4}))
	y := b.Tensor("out", tfl.TensorTypeINT8, []int{1, 3, 3, 4}, PerTensor(0.25, -3))
	b.Op(tfl.BuiltinOperatorDEPTHWISE_CONV_2D, 3, &tfl.DepthwiseConv2DOptionsT{Padding: tfl.PaddingVALID, StrideH: 1, StrideW: 1,
		DepthMultiplier: 2, FusedActivationFunction: tfl.ActivationFunctionTypeRELU6, DilationHFactor: 1, DilationWFactor: 1}, []int32{xi, w, bias}, y)
	b.Output(y)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func TestBuilderWritesWhatTheImporterReads(t *testing.T) {
	m, err := tflite.Read(convModel(t), "conv.tflite")
	if err != nil {
		t.Fatal(err)
	}
	var dw *models.Op
	for i := range m.Ops {
		if m.Ops[i].Type == models.OpDepthwiseConv2D {
			dw = &m.Ops[i]
		}
	}
	if dw == nil {
		t.Fatalf("no depthwise convolution among %d ops", len(m.Ops))
	}
	if dw.DepthMultiplier != 2 || dw.Activation != models.ActReLU6 || dw.Pad != [4]int{} || dw.Stride != [2]int{1, 1} {
		t.Errorf("depthwise attributes: multiplier %d, activation %s, pad %v, stride %v", dw.DepthMultiplier, dw.Activation, dw.Pad, dw.Stride)
	}
	w := m.Tensors[dw.Inputs[1]]
	if !slices.Equal(w.Shape, []int{1, 3, 3, 4}) || w.Quant.Axis != 3 || !slices.Equal(w.Quant.Scale, []float32{0.1, 0.2, 0.3, 0.4}) {
		t.Errorf("filter: shape %v, quantization %+v", w.Shape, w.Quant)
	}
	if got := m.Tensors[dw.Inputs[2]].Int32s(); !slices.Equal(got, []int32{1, -2, 3, -4}) {
		t.Errorf("bias %v", got)
	}
	in := m.Tensors[m.Inputs[0]]
	if in.Type != models.UInt8 || in.Quant.ZeroAt(0) != 128 || in.Quant.Scale[0] != 0.5 {
		t.Errorf("graph input: %s %+v", in.Type, in.Quant)
	}
}

func TestBuilderErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"index out of range", func(b *Builder) {
			x := b.Input("x", tfl.TensorTypeINT8, []int{1}, nil)
			b.Op(tfl.BuiltinOperatorRELU, 1, nil, []int32{x}, 7)
			b.Output(x)
		}, "tensor index 7 out of range"},
		{"unknown options", func(b *Builder) {
			x := b.Input("x", tfl.TensorTypeINT8, []int{1}, nil)
			y := b.Tensor("y", tfl.TensorTypeINT8, []int{1}, nil)
			b.Op(tfl.BuiltinOperatorRELU, 1, &tfl.LSTMOptionsT{}, []int32{x}, y)
			b.Output(y)
		}, "options of unknown type"},
		{"no output", func(b *Builder) {
			x := b.Input("x", tfl.TensorTypeINT8, []int{1}, nil)
			y := b.Tensor("y", tfl.TensorTypeINT8, []int{1}, nil)
			b.Op(tfl.BuiltinOperatorRELU, 1, nil, []int32{x}, y)
		}, "0 outputs"},
		{"empty constant", func(b *Builder) {
			x := b.Input("x", tfl.TensorTypeINT8, []int{1}, nil)
			k := b.Const("k", tfl.TensorTypeINT8, []int{0}, nil, nil)
			b.Op(tfl.BuiltinOperatorADD, 1, nil, []int32{x, k}, x)
			b.Output(x)
		}, `constant "k" has no data`},
	} {
		b := NewBuilder()
		c.build(b)
		if _, err := b.Bytes(); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "tfliteref: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestFindSaysWhatIsMissing(t *testing.T) {
	if _, err := Find(); err != nil && strings.Contains(err.Error(), "node not found") {
		t.Skip("skipping: node is not installed; Find's other messages cannot be reached")
	}
	empty := t.TempDir()
	t.Setenv("EDGEINFER_TFLITE_REF", empty)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "run.js")) {
		t.Errorf("without run.js: %v", err)
	}
	if err := os.WriteFile(filepath.Join(empty, "run.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TFLITE_REF_HOME", empty)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "not installed in "+empty) {
		t.Errorf("without the npm install: %v", err)
	}
}

// A RESHAPE gives back its input: the runner's plumbing, checked against real TensorFlow Lite.
func TestRunReturnsTheOutput(t *testing.T) {
	r := Require(t)
	b := NewBuilder()
	q := PerTensor(0.1, 3)
	x := b.Input("x", tfl.TensorTypeINT8, []int{1, 2, 3, 4}, q)
	s := b.Const("shape", tfl.TensorTypeINT32, []int{2}, nil, Int32Data([]int32{1, 24}))
	y := b.Tensor("y", tfl.TensorTypeINT8, []int{1, 24}, q)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, &tfl.ReshapeOptionsT{NewShape: []int32{1, 24}}, []int32{x, s}, y)
	b.Output(y)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, 24)
	for i := range in {
		in[i] = byte(i*11 + 5)
	}
	out, err := r.Run(context.Background(), file, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Errorf("RESHAPE gave % x for % x", out, in)
	}
	// The wrong input size is TensorFlow Lite's error, passed on.
	if _, err := r.Run(context.Background(), file, in[:5]); err == nil || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("input of 5 bytes: %v", err)
	}
}

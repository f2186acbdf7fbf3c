package tflite

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

func opCounts(m *models.Model) map[models.OpType]int {
	n := map[models.OpType]int{}
	for _, o := range m.Ops {
		n[o.Type]++
	}
	return n
}

func TestRealModels(t *testing.T) {
	mobilenetV1 := map[models.OpType]int{models.OpConv2D: 15, models.OpDepthwiseConv2D: 13, models.OpAveragePool2D: 1,
		models.OpReshape: 1, models.OpSoftmax: 1, models.OpQuantize: 2}
	resnet := map[models.OpType]int{models.OpConv2D: 9, models.OpAdd: 3, models.OpAveragePool2D: 1,
		models.OpReshape: 1, models.OpFullyConnected: 1, models.OpSoftmax: 1}
	for _, tc := range []struct {
		file          string
		ops           map[models.OpType]int
		inType        models.DType
		inShape       []int
		outType       models.DType
		outShape      []int
		quantizedBody bool
	}{
		{"imagenet/mobilenet_v1_0.25_128_quant.tflite", mobilenetV1, models.UInt8, []int{1, 128, 128, 3}, models.UInt8, []int{1, 1001}, true},
		{"imagenet/mobilenet_v1_0.5_160_quant.tflite", mobilenetV1, models.UInt8, []int{1, 160, 160, 3}, models.UInt8, []int{1, 1001}, true},
		{"imagenet/mobilenet_v1_0.75_192_quant.tflite", mobilenetV1, models.UInt8, []int{1, 192, 192, 3}, models.UInt8, []int{1, 1001}, true},
		{"imagenet/mobilenet_v2_1.0_224_quant.tflite", map[models.OpType]int{models.OpConv2D: 36, models.OpDepthwiseConv2D: 17,
			models.OpAdd: 10, models.OpAveragePool2D: 1, models.OpReshape: 1, models.OpSoftmax: 1, models.OpQuantize: 2},
			models.UInt8, []int{1, 224, 224, 3}, models.UInt8, []int{1, 1001}, true},
		{"mlperf_tiny/pretrainedResnet_quant.tflite", resnet, models.Int8, []int{1, 32, 32, 3}, models.Int8, []int{1, 10}, true},
		{"mlperf_tiny/pretrainedResnet.tflite", resnet, models.Float32, []int{1, 32, 32, 3}, models.Float32, []int{1, 10}, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := ReadFile(dataPath(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			base := tc.file[strings.IndexByte(tc.file, '/')+1:]
			if want := strings.TrimSuffix(base, ".tflite"); m.Name != want {
				t.Errorf("Name = %q, want %q", m.Name, want)
			}
			if got := opCounts(m); !mapsEqual(got, tc.ops) {
				t.Errorf("op counts %v, want %v", got, tc.ops)
			}
			if len(m.Inputs) != 1 || len(m.Outputs) != 1 {
				t.Fatalf("%d inputs, %d outputs", len(m.Inputs), len(m.Outputs))
			}
			in, out := &m.Tensors[m.Inputs[0]], &m.Tensors[m.Outputs[0]]
			if in.Type != tc.inType || !slices.Equal(in.Shape, tc.inShape) {
				t.Errorf("input %s %v, want %s %v", in.Type, in.Shape, tc.inType, tc.inShape)
			}
			if out.Type != tc.outType || !slices.Equal(out.Shape, tc.outShape) {
				t.Errorf("output %s %v, want %s %v", out.Type, out.Shape, tc.outType, tc.outShape)
			}
			// Inside the graph, only Int8 activations (quantized) or Float32 (float); no UInt8 left
			// but the interface tensors.
			for i, tt := range m.Tensors {
				if tt.Type == models.UInt8 && i != m.Inputs[0] && i != m.Outputs[0] {
					t.Errorf("tensor %d %q is still uint8", i, tt.Name)
				}
			}
			for i, o := range m.Ops {
				for _, id := range o.Inputs[:1] {
					want := models.Float32
					if tc.quantizedBody {
						want = models.Int8
					}
					if o.Type == models.OpQuantize && i == 0 && tc.inType == models.UInt8 {
						want = models.UInt8
					}
					if got := m.Tensors[id].Type; got != want {
						t.Errorf("op %d %s %q reads %s, want %s", i, o.Type, o.Name, got, want)
					}
				}
			}
			if tc.inType == models.UInt8 {
				first, last := m.Ops[0], m.Ops[len(m.Ops)-1]
				if first.Type != models.OpQuantize || first.Inputs[0] != m.Inputs[0] {
					t.Errorf("first op %s reads %v, want Quantize of the input", first.Type, first.Inputs)
				}
				if last.Type != models.OpQuantize || last.Outputs[0] != m.Outputs[0] {
					t.Errorf("last op %s writes %v, want Quantize to the output", last.Type, last.Outputs)
				}
				i8 := &m.Tensors[first.Outputs[0]]
				if i8.Type != models.Int8 || !slices.Equal(i8.Shape, in.Shape) {
					t.Errorf("quantized input %s %v", i8.Type, i8.Shape)
				}
				// The interface keeps the file's parameters; the int8 tensor has the same scale and
				// the zero point moved by -128.
				if in.Quant.ZeroAt(0)-128 != i8.Quant.ZeroAt(0) || in.Quant.Scale[0] != i8.Quant.Scale[0] {
					t.Errorf("input quant %+v, int8 quant %+v", *in.Quant, *i8.Quant)
				}
			}
		})
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// rawTensor finds a tensor of subgraph 0 of a file by name, reading it with the bindings only.
func rawTensor(t *testing.T, b []byte, name string) (data []byte, scale float32, zp int64, typ tfl.TensorType) {
	t.Helper()
	m := tfl.GetRootAsModel(b, 0)
	var sg tfl.SubGraph
	m.Subgraphs(&sg, 0)
	var ft tfl.Tensor
	for i := range sg.TensorsLength() {
		sg.Tensors(&ft, i)
		if string(ft.Name()) != name {
			continue
		}
		var fb tfl.Buffer
		m.Buffers(&fb, int(ft.Buffer()))
		q := ft.Quantization(nil)
		return fb.DataBytes(), q.Scale(0), q.ZeroPoint(0), ft.Type()
	}
	t.Fatalf("no tensor %q in the file", name)
	return
}

func TestUint8ToInt8(t *testing.T) {
	path := dataPath(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Read(b, "mobilenet_v1_0.25_128_quant.tflite")
	if err != nil {
		t.Fatal(err)
	}
	conv := m.Ops[1]
	if conv.Type != models.OpConv2D {
		t.Fatalf("op 1 is %s, want Conv2D", conv.Type)
	}
	f := &m.Tensors[conv.Inputs[1]]
	raw, scale, zp, typ := rawTensor(t, b, f.Name)
	if typ != tfl.TensorTypeUINT8 {
		t.Fatalf("file filter %q is %s, want UINT8", f.Name, typ)
	}
	if f.Type != models.Int8 || len(f.Data) != len(raw) {
		t.Fatalf("filter %s with %d bytes, want int8 with %d", f.Type, len(f.Data), len(raw))
	}
	for i := range raw {
		if got, want := f.Int8s()[i], int8(int(raw[i])-128); got != want {
			t.Fatalf("filter byte %d = %d, want %d (file %d)", i, got, want, raw[i])
		}
	}
	if f.Quant.Scale[0] != scale || int64(f.Quant.ZeroAt(0)) != zp-128 {
		t.Errorf("filter quant %+v, file scale %v zero point %d", *f.Quant, scale, zp)
	}
	// TF1 uint8 weights are asymmetric: the zero point stays (non-zero) after the shift.
	if f.Quant.ZeroAt(0) == 0 {
		t.Errorf("filter zero point 0 after the shift: expected TF1 asymmetric weights (file %d)", zp)
	}
	// Real values are unchanged: scale*(q-zp) is the same for the file's uint8 and the int8.
	for i := range raw {
		if int(raw[i])-int(zp) != int(f.Int8s()[i])-int(f.Quant.ZeroAt(0)) {
			t.Fatalf("element %d: real value changed", i)
		}
	}
	// The bias stays int32, aliasing the file.
	bias := &m.Tensors[conv.Inputs[2]]
	if bias.Type != models.Int32 {
		t.Errorf("bias is %s", bias.Type)
	}
	// The file's bytes are untouched.
	b2, _ := os.ReadFile(path)
	if !slices.Equal(b, b2) {
		t.Error("Read modified its input")
	}
}

func TestSamePaddingStride2(t *testing.T) {
	m, err := ReadFile(dataPath(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	// The first conv: 3x3, stride 2, SAME on 128x128 -> 64x64: total padding (64-1)*2+3-128 = 1,
	// all of it after (bottom, right), as TensorFlow Lite pads.
	conv := m.Ops[1]
	if conv.Stride != [2]int{2, 2} || conv.Pad != [4]int{0, 0, 1, 1} || conv.Activation != models.ActReLU6 {
		t.Errorf("first conv: stride %v pad %v activation %s, want [2 2] [0 0 1 1] relu6", conv.Stride, conv.Pad, conv.Activation)
	}
	if s := m.Tensors[conv.Outputs[0]].Shape; !slices.Equal(s, []int{1, 64, 64, 8}) {
		t.Errorf("first conv output %v", s)
	}
	// A stride-1 3x3 SAME depthwise: 1 on each side.
	dw := m.Ops[2]
	if dw.Type != models.OpDepthwiseConv2D || dw.Stride != [2]int{1, 1} || dw.Pad != [4]int{1, 1, 1, 1} || dw.DepthMultiplier != 1 {
		t.Errorf("first depthwise: %s stride %v pad %v multiplier %d", dw.Type, dw.Stride, dw.Pad, dw.DepthMultiplier)
	}
	// The average pool: 4x4 VALID window over 4x4.
	for _, o := range m.Ops {
		if o.Type == models.OpAveragePool2D && (o.Kernel != [2]int{4, 4} || o.Pad != [4]int{}) {
			t.Errorf("average pool kernel %v pad %v", o.Kernel, o.Pad)
		}
	}
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		pad                tfl.Padding
		in, k, stride, dil int
		out, before, after int
	}{
		{tfl.PaddingSAME, 224, 3, 2, 1, 112, 0, 1},
		{tfl.PaddingSAME, 7, 3, 1, 1, 7, 1, 1},
		{tfl.PaddingSAME, 5, 3, 2, 1, 3, 1, 1},
		{tfl.PaddingSAME, 6, 5, 1, 2, 6, 4, 4},  // k' = 9: total 8
		{tfl.PaddingSAME, 4, 1, 3, 1, 2, 0, 0},  // total (2-1)*3+1-4 = 0
		{tfl.PaddingSAME, 10, 4, 3, 1, 4, 1, 2}, // total 3*3+4-10 = 3
		{tfl.PaddingVALID, 7, 7, 1, 1, 1, 0, 0},
		{tfl.PaddingVALID, 8, 3, 2, 1, 3, 0, 0},
		{tfl.PaddingVALID, 9, 3, 1, 3, 3, 0, 0}, // k' = 7
	} {
		out, b, a, err := window(tc.pad, tc.in, tc.k, tc.stride, tc.dil)
		if err != nil || out != tc.out || b != tc.before || a != tc.after {
			t.Errorf("window(%s, in %d, k %d, s %d, d %d) = %d, %d, %d, %v; want %d, %d, %d",
				tc.pad, tc.in, tc.k, tc.stride, tc.dil, out, b, a, err, tc.out, tc.before, tc.after)
		}
	}
	if _, _, _, err := window(tfl.PaddingVALID, 2, 3, 1, 1); err == nil {
		t.Error("VALID window larger than the input: no error")
	}
	if _, _, _, err := window(tfl.PaddingSAME, 2, 3, 0, 1); err == nil {
		t.Error("stride 0: no error")
	}
}

func TestPerChannel(t *testing.T) {
	m, err := ReadFile(dataPath(t, "mlperf_tiny/pretrainedResnet_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range m.Ops {
		if o.Type != models.OpConv2D && o.Type != models.OpFullyConnected {
			continue
		}
		f := &m.Tensors[o.Inputs[1]]
		if o.Type == models.OpConv2D {
			n++
			if f.Quant == nil || f.Quant.Axis != 0 || len(f.Quant.Scale) != f.Shape[0] || f.Shape[0] < 2 {
				t.Errorf("conv %q filter %v quant %+v: want per-channel along axis 0", o.Name, f.Shape, f.Quant)
			}
			if f.Quant != nil && slices.ContainsFunc(f.Quant.ZeroPoint, func(z int32) bool { return z != 0 }) {
				t.Errorf("conv %q filter: non-zero zero points %v", o.Name, f.Quant.ZeroPoint)
			}
		}
		if b := &m.Tensors[o.Inputs[2]]; b.Type != models.Int32 || len(b.Data) != 4*f.Shape[0] {
			t.Errorf("op %q bias %s of %d bytes", o.Name, b.Type, len(b.Data))
		}
	}
	if n != 9 {
		t.Errorf("%d convolutions, want 9", n)
	}
	in := &m.Tensors[m.Inputs[0]]
	if in.Quant == nil || in.Quant.Scale[0] != 1 || in.Quant.ZeroAt(0) != -128 {
		t.Errorf("input quant %+v, want scale 1 zero point -128", in.Quant)
	}
}

func TestFloatModel(t *testing.T) {
	m, err := ReadFile(dataPath(t, "mlperf_tiny/pretrainedResnet.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range m.Tensors {
		if tt.Type != models.Float32 && tt.Type != models.Int32 || tt.Quant != nil {
			t.Errorf("tensor %d %q: %s quant %v", i, tt.Name, tt.Type, tt.Quant)
		}
	}
	sm := m.Ops[len(m.Ops)-1]
	if sm.Type != models.OpSoftmax || sm.Beta != 1 {
		t.Errorf("last op %s beta %v", sm.Type, sm.Beta)
	}
}

func TestCorrupt(t *testing.T) {
	b, err := os.ReadFile(dataPath(t, "mlperf_tiny/pretrainedResnet_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, data []byte) {
		t.Helper()
		m, err := Read(data, "bad.tflite")
		if err == nil {
			t.Errorf("%s: no error (model with %d ops)", what, len(m.Ops))
			return
		}
		if !strings.HasPrefix(err.Error(), "tflite: bad.tflite: ") {
			t.Errorf("%s: error %q lacks the prefix", what, err)
		}
		var pe *panicError
		if errors.As(err, &pe) {
			t.Errorf("%s: caught a panic instead of a precise error: %v", what, err)
		}
	}
	check("empty", nil)
	check("7 bytes", b[:7])
	// A file cut short names its full path and says truncated.
	cut := filepath.Join(t.TempDir(), "cut.tflite")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	if _, err := ReadFile(cut); err == nil || !strings.HasPrefix(err.Error(), "tflite: "+cut+": truncated or corrupt (") {
		t.Errorf("file cut in half: error %v", err)
	}
	for _, n := range []int{8, 16, 100, 1000, len(b) / 2, len(b) - 1} {
		check("truncated", b[:n])
	}
	bad := slices.Clone(b)
	copy(bad[4:], "XXXX")
	check("identifier", bad)
	bad = slices.Clone(b)
	bad[0], bad[1], bad[2] = 0xff, 0xff, 0x7f // root offset far outside
	check("root offset", bad)

	// Garble: every 997th byte of the file's first 4 KiB (tables, vtables, offsets) in turn. Most
	// garbles must fail with a precise error or import (a changed value can be valid); none panics.
	for off := 8; off < 4096; off += 7 {
		bad = slices.Clone(b)
		bad[off] ^= 0xa5
		if _, err := Read(bad, "bad.tflite"); err != nil {
			var pe *panicError
			if errors.As(err, &pe) {
				t.Errorf("garbled byte %d: caught a panic: %v", off, err)
			}
		}
	}
}

func TestUnsupportedOp(t *testing.T) {
	tanh := convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorTANH},
		tTensor{name: "tanh", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 4, 4, 3}})
	_, err := Read(tanh.build(), "tiny.tflite")
	if err == nil || err.Error() != "tflite: tiny.tflite: op 1 (TANH): unsupported operator" {
		t.Errorf("TANH: error %v", err)
	}

	custom := convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorCUSTOM, custom: "MyOp"},
		tTensor{name: "custom", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 4, 4, 3}})
	_, err = Read(custom.build(), "tiny.tflite")
	if err == nil || err.Error() != `tflite: tiny.tflite: op 1 (CUSTOM "MyOp"): unsupported operator` {
		t.Errorf("custom: error %v", err)
	}

	_, err = Read(convModel(tfl.ActivationFunctionTypeTANH).build(), "tiny.tflite")
	if err == nil || !strings.Contains(err.Error(), "op 0 (CONV_2D): unsupported fused activation TANH") {
		t.Errorf("fused TANH: error %v", err)
	}
}

func TestTinyModels(t *testing.T) {
	f32 := func(name string, shape ...int32) tTensor {
		return tTensor{name: name, typ: tfl.TensorTypeFLOAT32, shape: shape}
	}
	i8 := func(name string, scale float32, zp int64, shape ...int32) tTensor {
		return tTensor{name: name, typ: tfl.TensorTypeINT8, shape: shape, scale: []float32{scale}, zp: []int64{zp}}
	}
	relu := tOp{code: tfl.BuiltinOperatorRELU}
	mean := func(keep bool) tOp {
		return tOp{code: tfl.BuiltinOperatorMEAN, optType: tfl.BuiltinOptionsReducerOptions,
			opts: func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.ReducerOptionsStart(b)
				tfl.ReducerOptionsAddKeepDims(b, keep)
				return tfl.ReducerOptionsEnd(b)
			}}
	}
	concat := func(axis int32) tOp {
		return tOp{code: tfl.BuiltinOperatorCONCATENATION, optType: tfl.BuiltinOptionsConcatenationOptions,
			opts: func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.ConcatenationOptionsStart(b)
				tfl.ConcatenationOptionsAddAxis(b, axis)
				return tfl.ConcatenationOptionsEnd(b)
			}}
	}
	quantConv := func() *tModel {
		m := convModel(tfl.ActivationFunctionTypeNONE)
		m.tensors[0] = i8("input", 0.5, -3, 1, 4, 4, 2)
		m.tensors[1].typ, m.tensors[1].data = tfl.TensorTypeINT8, make([]byte, 3*3*3*2)
		m.tensors[1].scale, m.tensors[1].zp = []float32{0.1, 0.2, 0.3}, []int64{0, 0, 0}
		m.tensors[2].typ = tfl.TensorTypeINT32
		m.tensors[3] = i8("conv", 0.25, 5, 1, 4, 4, 3)
		return m
	}

	for _, tc := range []struct {
		name  string
		model *tModel
		err   string                              // substring of the error; "" for success
		check func(t *testing.T, m *models.Model) // on success
	}{
		{"conv", convModel(tfl.ActivationFunctionTypeRELU6), "", func(t *testing.T, m *models.Model) {
			o := m.Ops[0]
			if o.Type != models.OpConv2D || o.Activation != models.ActReLU6 || o.Pad != [4]int{1, 1, 1, 1} || o.Stride != [2]int{1, 1} || o.Dilation != [2]int{1, 1} {
				t.Errorf("op %+v", o)
			}
			if len(m.Tensors) != 4 || !slices.Equal(m.Tensors[o.Inputs[2]].Float32s(), []float32{1, 2, 3}) {
				t.Errorf("tensors %+v", m.Tensors)
			}
		}},
		{"deprecated opcode", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.ops[0].deprecated = true
			return m
		}(), "", func(t *testing.T, m *models.Model) {
			if m.Ops[0].Type != models.OpConv2D {
				t.Errorf("op %s", m.Ops[0].Type)
			}
		}},
		{"relu fused", convModel(tfl.ActivationFunctionTypeNONE).withOp(relu, f32("relu", 1, 4, 4, 3)), "", func(t *testing.T, m *models.Model) {
			if len(m.Ops) != 1 || m.Ops[0].Activation != models.ActReLU || m.Tensors[m.Ops[0].Outputs[0]].Name != "relu" ||
				m.Outputs[0] != m.Ops[0].Outputs[0] || len(m.Tensors) != 4 {
				t.Errorf("ops %+v, outputs %v", m.Ops, m.Outputs)
			}
		}},
		{"relu6 after fused relu", convModel(tfl.ActivationFunctionTypeRELU).withOp(tOp{code: tfl.BuiltinOperatorRELU6}, f32("relu6", 1, 4, 4, 3)), "", func(t *testing.T, m *models.Model) {
			if len(m.Ops) != 1 || m.Ops[0].Activation != models.ActReLU6 {
				t.Errorf("ops %+v", m.Ops)
			}
		}},
		{"relu_n1 after relu", convModel(tfl.ActivationFunctionTypeRELU).withOp(tOp{code: tfl.BuiltinOperatorRELU_N1_TO_1}, f32("r", 1, 4, 4, 3)),
			"op 1 (RELU_N1_TO_1): relu_n1_to_1 after a fused relu: unsupported", nil},
		{"relu output read twice", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE).withOp(relu, f32("relu", 1, 4, 4, 3))
			m.outputs = append(m.outputs, 3)
			return m
		}(), "op 1 (RELU): input \"conv\" is also read elsewhere", nil},
		{"relu of a graph input", &tModel{tensors: []tTensor{f32("in", 2), f32("out", 2)},
			ops: []tOp{{code: tfl.BuiltinOperatorRELU, in: []int32{0}, out: []int32{1}}}, inputs: []int32{0}, outputs: []int32{1}},
			"op 0 (RELU): input \"in\" is not the output of an op", nil},
		{"quantized relu fused", quantConv().withOp(relu, i8("relu", 0.25, 5, 1, 4, 4, 3)), "", func(t *testing.T, m *models.Model) {
			if len(m.Ops) != 1 || m.Ops[0].Activation != models.ActReLU {
				t.Errorf("ops %+v", m.Ops)
			}
			f := &m.Tensors[m.Ops[0].Inputs[1]]
			if !f.Quant.PerChannel() || f.Quant.Axis != 0 {
				t.Errorf("filter quant %+v", f.Quant)
			}
		}},
		{"quantized relu requantizing", quantConv().withOp(relu, i8("relu", 0.125, 5, 1, 4, 4, 3)),
			"op 1 (RELU): output \"relu\" is quantized unlike input \"conv\"", nil},
		{"conv output shape", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.tensors[3].shape = []int32{1, 2, 2, 3}
			return m
		}(), "op 0 (CONV_2D): output \"conv\" has shape [1 2 2 3], want [1 4 4 3]", nil},
		{"stride 2 VALID", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.ops[0].opts = convOpts(tfl.PaddingVALID, 2, tfl.ActivationFunctionTypeNONE)
			m.tensors[3].shape = []int32{1, 1, 1, 3}
			return m
		}(), "", func(t *testing.T, m *models.Model) {
			if o := m.Ops[0]; o.Pad != [4]int{} || o.Stride != [2]int{2, 2} {
				t.Errorf("op %+v", o)
			}
		}},
		{"mean", convModel(tfl.ActivationFunctionTypeNONE).withOp(mean(false), f32("mean", 1, 3),
			tTensor{name: "axes", typ: tfl.TensorTypeINT32, shape: []int32{3}, data: i32Bytes(-3, 2, 1)}), "", func(t *testing.T, m *models.Model) {
			o := m.Ops[1]
			if o.Type != models.OpMean || !slices.Equal(o.Axes, []int{1, 2}) || o.KeepDims || len(o.Inputs) != 1 {
				t.Errorf("op %+v", o)
			}
		}},
		{"mean keep_dims", convModel(tfl.ActivationFunctionTypeNONE).withOp(mean(true), f32("mean", 1, 1, 1, 3),
			tTensor{name: "axes", typ: tfl.TensorTypeINT32, shape: []int32{2}, data: i32Bytes(1, 2)}), "", func(t *testing.T, m *models.Model) {
			if o := m.Ops[1]; !o.KeepDims || !slices.Equal(o.Axes, []int{1, 2}) {
				t.Errorf("op %+v", o)
			}
		}},
		{"mean axis out of range", convModel(tfl.ActivationFunctionTypeNONE).withOp(mean(false), f32("mean", 1, 3),
			tTensor{name: "axes", typ: tfl.TensorTypeINT32, shape: []int32{1}, data: i32Bytes(4)}), "op 1 (MEAN): axis 4 out of range", nil},
		{"concat", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.withOp(concat(-1), f32("cat", 1, 4, 4, 5), f32("other", 1, 4, 4, 2))
			m.inputs = append(m.inputs, 4)
			return m
		}(), "", func(t *testing.T, m *models.Model) {
			if o := m.Ops[1]; o.Type != models.OpConcatenation || o.Axis != 3 || len(o.Inputs) != 2 {
				t.Errorf("op %+v", o)
			}
		}},
		{"concat bad shape", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.withOp(concat(3), f32("cat", 1, 4, 4, 5), f32("other", 1, 4, 3, 2))
			m.inputs = append(m.inputs, 4)
			return m
		}(), "op 1 (CONCATENATION): input \"other\" has shape [1 4 3 2]", nil},
		{"pad", convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorPAD}, f32("pad", 1, 7, 5, 3),
			tTensor{name: "paddings", typ: tfl.TensorTypeINT32, shape: []int32{4, 2}, data: i32Bytes(0, 0, 1, 2, 0, 1, 0, 0)}), "", func(t *testing.T, m *models.Model) {
			if o := m.Ops[1]; o.Type != models.OpPad || !slices.Equal(o.Paddings, []int{0, 0, 1, 2, 0, 1, 0, 0}) || len(o.Inputs) != 1 {
				t.Errorf("op %+v", o)
			}
		}},
		{"padv2 zero point", quantConv().withOp(tOp{code: tfl.BuiltinOperatorPADV2}, i8("pad", 0.25, 5, 1, 5, 5, 3),
			tTensor{name: "paddings", typ: tfl.TensorTypeINT64, shape: []int32{4, 2}, data: append(i32Bytes(0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0), make([]byte, 16)...)},
			tTensor{name: "value", typ: tfl.TensorTypeINT8, shape: []int32{}, data: []byte{5}, scale: []float32{0.25}, zp: []int64{5}}), "", func(t *testing.T, m *models.Model) {
			if o := m.Ops[1]; o.Type != models.OpPad || !slices.Equal(o.Paddings, []int{0, 0, 1, 0, 1, 0, 0, 0}) {
				t.Errorf("op %+v", o)
			}
		}},
		{"padv2 other value", quantConv().withOp(tOp{code: tfl.BuiltinOperatorPADV2}, i8("pad", 0.25, 5, 1, 5, 5, 3),
			tTensor{name: "paddings", typ: tfl.TensorTypeINT32, shape: []int32{4, 2}, data: i32Bytes(0, 0, 1, 0, 1, 0, 0, 0)},
			tTensor{name: "value", typ: tfl.TensorTypeINT8, shape: []int32{1}, data: []byte{7}, scale: []float32{0.25}, zp: []int64{5}}),
			"op 1 (PADV2): constant value 7 is not the output zero point 5", nil},
		{"squeeze", convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorSQUEEZE}, f32("sq", 4, 4, 3)), "", func(t *testing.T, m *models.Model) {
			if o := m.Ops[1]; o.Type != models.OpReshape || len(o.Inputs) != 1 {
				t.Errorf("op %+v", o)
			}
		}},
		{"reshape count", convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorRESHAPE}, f32("r", 1, 47),
			tTensor{name: "shape", typ: tfl.TensorTypeINT32, shape: []int32{2}, data: i32Bytes(1, 47)}), "op 1 (RESHAPE): output \"r\" of shape [1 47] has not the element count", nil},
		{"string tensor", convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorRESHAPE}, tTensor{name: "s", typ: tfl.TensorTypeSTRING, shape: []int32{48}}),
			"tensor 4 \"s\": unsupported type STRING", nil},
		{"external buffer", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.tensors[2].extern = true
			return m
		}(), "", func(t *testing.T, m *models.Model) {
			if b := &m.Tensors[m.Ops[0].Inputs[2]]; !slices.Equal(b.Float32s(), []float32{1, 2, 3}) {
				t.Errorf("bias %v", b.Float32s())
			}
		}},
		{"data length", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.tensors[2].data = f32Bytes(1, 2)
			return m
		}(), "op 0 (CONV_2D): input 2: tensor 2 \"bias\": data of 8 bytes, want 12", nil},
		{"negative dimension", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.tensors[0].shape = []int32{1, -4, 4, 2}
			return m
		}(), "graph input 0: tensor 0 \"input\": shape [1 -4 4 2] has a negative dimension", nil},
		{"huge shape", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.tensors[3].shape = []int32{1 << 30, 1 << 30, 1 << 30, 3}
			return m
		}(), "tensor 3 \"conv\": shape [1073741824 1073741824 1073741824 3] has more than", nil},
		{"tensor index", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.ops[0].in[1] = 99
			return m
		}(), "op 0 (CONV_2D): input 1: tensor index 99 out of range [0, 4)", nil},
		{"not topological", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorSOFTMAX, optType: tfl.BuiltinOptionsSoftmaxOptions,
				opts: func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
					tfl.SoftmaxOptionsStart(b)
					tfl.SoftmaxOptionsAddBeta(b, 1)
					return tfl.SoftmaxOptionsEnd(b)
				}}, f32("softmax", 1, 4, 4, 3))
			m.ops[0], m.ops[1] = m.ops[1], m.ops[0]
			return m
		}(), "op 0 (SOFTMAX): input 0 \"conv\" is not computed before the op", nil},
		{"float16 weights", func() *tModel {
			m := convModel(tfl.ActivationFunctionTypeNONE)
			m.tensors = append(m.tensors, tTensor{name: "filter16", typ: tfl.TensorTypeFLOAT16, shape: []int32{3, 3, 3, 2}, data: make([]byte, 3*3*3*2*2)})
			m.ops = append([]tOp{{code: tfl.BuiltinOperatorDEQUANTIZE, in: []int32{4}, out: []int32{1}}}, m.ops...)
			m.tensors[1].data = nil
			return m
		}(), "", func(t *testing.T, m *models.Model) {
			if len(m.Ops) != 1 {
				t.Fatalf("%d ops, want the conv only", len(m.Ops))
			}
			if f := &m.Tensors[m.Ops[0].Inputs[1]]; f.Type != models.Float16 || f.Name != "filter16" || len(f.Data) != 3*3*3*2*2 {
				t.Errorf("filter %s %q", f.Type, f.Name)
			}
		}},
		{"uint8 io", &tModel{
			tensors: []tTensor{{name: "in", typ: tfl.TensorTypeUINT8, shape: []int32{1, 3}, scale: []float32{0.5}, zp: []int64{100}},
				{name: "out", typ: tfl.TensorTypeUINT8, shape: []int32{1, 3}, scale: []float32{0.5}, zp: []int64{100}}},
			ops:    []tOp{{code: tfl.BuiltinOperatorRESHAPE, in: []int32{0}, out: []int32{1}}},
			inputs: []int32{0}, outputs: []int32{1}}, "", func(t *testing.T, m *models.Model) {
			if len(m.Ops) != 3 || m.Ops[0].Type != models.OpQuantize || m.Ops[2].Type != models.OpQuantize {
				t.Fatalf("ops %+v", m.Ops)
			}
			in, out := &m.Tensors[m.Inputs[0]], &m.Tensors[m.Outputs[0]]
			if in.Name != "in" || in.Type != models.UInt8 || in.Quant.ZeroAt(0) != 100 || out.Name != "out" || out.Type != models.UInt8 || out.Quant.ZeroAt(0) != 100 {
				t.Errorf("input %+v output %+v", in, out)
			}
			r := m.Ops[1]
			if a, b := &m.Tensors[r.Inputs[0]], &m.Tensors[r.Outputs[0]]; a.Name != "in/int8" || a.Type != models.Int8 || a.Quant.ZeroAt(0) != -28 ||
				b.Name != "out/int8" || b.Type != models.Int8 || b.Quant.ZeroAt(0) != -28 {
				t.Errorf("reshape %+v -> %+v", a, b)
			}
			if m.Ops[0].Name != "in/int8" || m.Ops[2].Name != "out" || m.Ops[1].Name != "out" {
				t.Errorf("op names %q %q %q", m.Ops[0].Name, m.Ops[1].Name, m.Ops[2].Name)
			}
		}},
		{"uint8 zero point range", &tModel{
			tensors: []tTensor{{name: "in", typ: tfl.TensorTypeUINT8, shape: []int32{3}, scale: []float32{0.5}, zp: []int64{256}},
				{name: "out", typ: tfl.TensorTypeUINT8, shape: []int32{3}, scale: []float32{0.5}, zp: []int64{0}}},
			ops:    []tOp{{code: tfl.BuiltinOperatorRESHAPE, in: []int32{0}, out: []int32{1}}},
			inputs: []int32{0}, outputs: []int32{1}}, "tensor 0 \"in\": zero point 0 (256) out of range [0, 255]", nil},
		{"int64 zero point", &tModel{
			tensors: []tTensor{{name: "in", typ: tfl.TensorTypeINT32, shape: []int32{3}, scale: []float32{0.5}, zp: []int64{1 << 40}},
				{name: "out", typ: tfl.TensorTypeINT32, shape: []int32{3}}},
			ops:    []tOp{{code: tfl.BuiltinOperatorRESHAPE, in: []int32{0}, out: []int32{1}}},
			inputs: []int32{0}, outputs: []int32{1}}, "tensor 0 \"in\": zero point 0 (1099511627776) out of the int32 range", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Read(tc.model.build(), "tiny.tflite")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "tflite: tiny.tflite: ") {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != "tiny" {
				t.Errorf("Name %q", m.Name)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestOpcodeIndex(t *testing.T) {
	b := convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorRELU},
		tTensor{name: "relu", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 4, 4, 3}}).build()
	m := tfl.GetRootAsModel(b, 0)
	var sg tfl.SubGraph
	var op tfl.Operator
	if !m.Subgraphs(&sg, 0) || !sg.Operators(&op, 1) || !op.MutateOpcodeIndex(7) {
		t.Fatal("cannot mutate the opcode index")
	}
	_, err := Read(b, "tiny.tflite")
	if err == nil || err.Error() != "tflite: tiny.tflite: op 1: opcode index 7 out of range [0, 2)" {
		t.Errorf("error %v", err)
	}
}

func TestConstantsAliasFile(t *testing.T) {
	b := convModel(tfl.ActivationFunctionTypeNONE).build()
	m, err := Read(b, "tiny.tflite")
	if err != nil {
		t.Fatal(err)
	}
	bias := &m.Tensors[m.Ops[0].Inputs[2]]
	if cap(bias.Data) != len(bias.Data) {
		t.Errorf("bias data has capacity %d beyond its %d bytes", cap(bias.Data), len(bias.Data))
	}
	// Constants alias the file's bytes (no copy): a change to the file shows.
	i := strings.Index(string(b), string(f32Bytes(1, 2, 3)))
	if i < 0 {
		t.Fatal("bias bytes not found in the file")
	}
	b[i] ^= 1
	if bias.Float32s()[0] == 1 {
		t.Error("bias does not alias the file")
	}
}

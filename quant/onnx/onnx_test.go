package onnx_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x448/float16"
	"google.golang.org/protobuf/proto"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	pb "github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

func mustBytes(t testing.TB, b *onnxtest.Builder) []byte {
	t.Helper()
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// small returns a builder with input x [1, 2, 4, 4] and a Relu node "r" (node 0).
func small(opset int64) *onnxtest.Builder {
	b := onnxtest.New("small", opset)
	b.Input("x", 1, 2, 4, 4)
	b.Op("Relu", "r", nil, "x")
	return b
}

func TestReadErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name  string
		build func() *onnxtest.Builder
		want  []string
	}{
		{"unsupported op", func() *onnxtest.Builder {
			b := small(13)
			b.Op("LRN", "sm", nil, "r")
			b.Output("sm")
			return b
		}, []string{`onnx: m.onnx: node 1 "sm" (LRN): op not supported`}},
		{"unsupported attribute", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Conv", "c", onnxtest.Attrs{"bogus": 1}, "r", b.Random(rng, "w", 1, 2, 2, 1, 1))
			b.Output("c")
			return b
		}, []string{`node 1 "c" (Conv): attribute "bogus" not supported`}},
		{"3-D convolution", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Conv", "c3", nil, "r", b.Random(rng, "w", 1, 2, 2, 1, 1, 1))
			b.Output("c3")
			return b
		}, []string{`node 1 "c3" (Conv): weights [2 2 1 1 1]: only 2-D convolution is not supported`}},
		{"opset 10", func() *onnxtest.Builder { b := small(10); b.Output("r"); return b }, []string{"opset 10 not supported (supported are 11 to 17)"}},
		{"opset 18", func() *onnxtest.Builder { b := small(18); b.Output("r"); return b }, []string{"opset 18 not supported (supported are 11 to 17)"}},
		{"other domain", func() *onnxtest.Builder {
			b := small(13)
			b.Model.Graph.Node[0].Domain = proto.String("com.microsoft")
			b.Output("r")
			return b
		}, []string{`node 0 "r" (Relu): domain "com.microsoft": not supported`}},
		{"unknown op", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Sin", "s", nil, "r")
			b.Output("s")
			return b
		}, []string{`node 1 "s" (Sin): op not supported`}},
		{"computed gather indices", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Gather", "g", nil, "r", "x")
			b.Output("g")
			return b
		}, []string{`node 1 "g" (Gather): indices "x": computed indices are not supported`}},
		{"layernorm before opset 17", func() *onnxtest.Builder {
			b := small(13)
			b.Op("LayerNormalization", "ln", nil, "r", b.Random(rng, "lg", 1, 4))
			b.Output("ln")
			return b
		}, []string{`node 1 "ln" (LayerNormalization): LayerNormalization needs opset 17`}},
		{"softmax axis before opset 13", func() *onnxtest.Builder {
			b := small(11)
			b.Op("Softmax", "sm", onnxtest.Attrs{"axis": 1}, "r")
			b.Output("sm")
			return b
		}, []string{`node 1 "sm" (Softmax): axis 1 before opset 13`}},
		{"computed reshape", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Reshape", "rs", nil, "r", "x")
			b.Output("rs")
			return b
		}, []string{`node 1 "rs" (Reshape): shape: "x" is not a constant`}},
		{"integer into the graph", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Add", "a", nil, "r", b.Ints("k", 1))
			b.Output("a")
			return b
		}, []string{`node 1 "a" (Add): input "k" is an integer tensor`}},
		{"dropout training", func() *onnxtest.Builder {
			b := small(13)
			b.Init(&pb.TensorProto{Name: proto.String("train"), DataType: proto.Int32(int32(pb.TensorProto_BOOL)), RawData: []byte{1}})
			b.Op("Dropout", "d", nil, "r", "", "train")
			b.Output("d")
			return b
		}, []string{`node 1 "d" (Dropout): training_mode must be a constant false`}},
		{"string tensor", func() *onnxtest.Builder {
			b := small(13)
			b.Init(&pb.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(pb.TensorProto_STRING))})
			b.Output("r")
			return b
		}, []string{`initializer 0 "s": data type STRING is not supported`}},
		{"dropout mask", func() *onnxtest.Builder {
			b := small(13)
			b.Node("Dropout", "d", []string{"r"}, []string{"d", "mask"}, nil)
			b.Output("d")
			return b
		}, []string{`node 1 "d" (Dropout): optional output "mask" is not supported`}},
		{"batchnorm training", func() *onnxtest.Builder {
			b := small(14)
			p := b.Random(rng, "p", 1, 2)
			b.Op("BatchNormalization", "bn", onnxtest.Attrs{"training_mode": 1}, "r", p, p, p, p)
			b.Output("bn")
			return b
		}, []string{`node 1 "bn" (BatchNormalization): training_mode 1: not supported`}},
		{"pad wrap", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Pad", "p", onnxtest.Attrs{"mode": "wrap"}, "r", b.Ints("pads", 0, 0, 1, 1, 0, 0, 1, 1))
			b.Output("p")
			return b
		}, []string{`node 1 "p" (Pad): mode "wrap" not supported`}},
		{"external data", func() *onnxtest.Builder {
			b := small(13)
			w := onnxtest.FloatTensor("w", []int64{1}, nil)
			w.RawData = nil
			w.DataLocation = pb.TensorProto_EXTERNAL.Enum()
			b.Init(w)
			b.Output("r")
			return b
		}, []string{`initializer 0 "w": external data is not supported`}},
		{"short raw data", func() *onnxtest.Builder {
			b := small(13)
			w := onnxtest.FloatTensor("w", []int64{2, 3}, make([]float32, 5))
			b.Init(w)
			b.Output("r")
			return b
		}, []string{`initializer 0 "w": FLOAT: raw_data has 20 bytes, shape [2 3] needs 24`}},
		{"empty operand", func() *onnxtest.Builder {
			b := small(13)
			p := b.Random(rng, "p", 1, 2)
			b.Op("BatchNormalization", "bn", nil, "r", p, "", p, p)
			b.Output("bn")
			return b
		}, []string{`node 1 "bn" (BatchNormalization): input 2 is empty`}},
		{"undefined input", func() *onnxtest.Builder {
			b := small(13)
			b.Op("Relu", "r2", nil, "nowhere")
			b.Output("r2")
			return b
		}, []string{`node 1 "r2" (Relu): input "nowhere" is not produced before it`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := onnx.Read(mustBytes(t, tc.build()), "m.onnx")
			if err == nil {
				t.Fatal("Read succeeded, want an error")
			}
			if unsupported := strings.Contains(err.Error(), "not supported"); unsupported != errors.Is(err, onnx.ErrUnsupported) {
				t.Errorf("error %q: errors.Is(err, ErrUnsupported) = %v", err, !unsupported)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestReadNormalises(t *testing.T) {
	b := onnxtest.New("norm", 12)
	b.Input("x", -1, 4)
	b.Model.Graph.Input[0].Type.GetTensorType().Shape.Dim[0].Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}
	lo := b.Op("Constant", "lo", onnxtest.Attrs{"value_float": float32(-1)})
	c := b.Op("Clip", "c", nil, "x", lo, b.Float("hi", []int64{}, []float32{2}))
	b.Init(&pb.TensorProto{Name: proto.String("train"), DataType: proto.Int32(int32(pb.TensorProto_BOOL)), Int32Data: []int32{0}})
	d := b.Node("Dropout", "d", []string{c, b.Float("ratio", []int64{}, []float32{0.3}), "train"}, []string{"d", ""}, onnxtest.Attrs{"seed": 3})
	r := b.Op("Reshape", "rs", nil, d, b.Ints("shape", -1))
	// A FLOAT16 initializer: three values exact in half precision, one rounded.
	h := b.Init(onnxtest.Float16Tensor("h", []int64{4}, []float32{0.5, -1.25, 3, 0.1}))
	b.Op("Add", "y", nil, r, h)
	b.Output("y")
	g, err := onnx.Read(mustBytes(t, b), "norm.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Inputs[0].Shape; len(got) != 2 || got[0] != -1 || got[1] != 4 {
		t.Errorf("input shape %v, want [-1 4]", got)
	}
	var ops []string
	for _, n := range g.Nodes {
		ops = append(ops, n.Op)
	}
	if strings.Join(ops, " ") != "Clip Identity Reshape Add" {
		t.Fatalf("ops %v, want Clip Identity Reshape Add", ops)
	}
	clip := g.Nodes[0]
	if len(clip.Inputs) != 1 || clip.Attrs["min"].Float != -1 || clip.Attrs["max"].Float != 2 {
		t.Errorf("Clip inputs %v attrs %v: want one input, min -1, max 2", clip.Inputs, clip.Attrs)
	}
	if a := g.Nodes[2].Attrs["shape"]; len(g.Nodes[2].Inputs) != 1 || len(a.Ints) != 1 || a.Ints[0] != -1 {
		t.Errorf("Reshape inputs %v shape %v", g.Nodes[2].Inputs, a)
	}
	hc := g.Const("h")
	want := []float32{0.5, -1.25, 3, float16.Fromfloat32(0.1).Float32()}
	for i, v := range want {
		if hc.Data[i] != v {
			t.Errorf("FLOAT16 h[%d] = %v, want %v", i, hc.Data[i], v)
		}
	}
	if want[3] == 0.1 {
		t.Error("0.1 should round in half precision")
	}
	out, err := g.Run(map[string]*graph.Tensor{"x": {Shape: []int{1, 4}, Data: []float32{-5, 0.5, 7, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	y := out["y"]
	wantY := []float32{-1 + 0.5, 0.5 - 1.25, 2 + 3, 1 + want[3]}
	if len(y.Shape) != 1 || y.Shape[0] != 4 {
		t.Fatalf("y shape %v, want [4]", y.Shape)
	}
	for i, v := range wantY {
		if y.Data[i] != v {
			t.Errorf("y[%d] = %v, want %v", i, y.Data[i], v)
		}
	}
	if _, err := g.Run(map[string]*graph.Tensor{"x": {Shape: []int{1, 3}, Data: make([]float32, 3)}}); err == nil {
		t.Error("Run accepted an input of the wrong shape")
	}
}

func TestReadFile(t *testing.T) {
	b := small(11)
	b.Output("r")
	// IR 3 lists initializers among the graph inputs: they stay constants.
	b.Model.IrVersion = proto.Int64(3)
	b.Float("unused", []int64{2}, []float32{1, 2})
	b.Input("unused", 2)
	path := filepath.Join(t.TempDir(), "small.onnx")
	if err := os.WriteFile(path, mustBytes(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "small" || len(g.Inputs) != 1 || g.Inputs[0].Name != "x" || g.Const("unused") == nil {
		t.Errorf("graph %q inputs %v, constant unused %v: want small, [x], a constant", g.Name, g.Inputs, g.Const("unused"))
	}
	_, err = onnx.ReadFile(filepath.Join(t.TempDir(), "missing.onnx"))
	if err == nil || !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: error %v", err)
	}
}

// TestReadTruncated cuts a model at every length: Read must return an error or a valid graph,
// never panic, and the model without its last byte must fail.
func TestReadTruncated(t *testing.T) {
	c, err := onnxtest.Find("conv_bn_relu")
	if err != nil {
		t.Fatal(err)
	}
	model, err := c.Build(13, 1)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for n := range len(model) {
		g, err := onnx.Read(model[:n], "cut.onnx")
		if err != nil {
			failed++
			continue
		}
		if err := g.Validate(); err != nil {
			t.Errorf("cut at %d: Read returned an invalid graph: %v", n, err)
		}
	}
	if _, err := onnx.Read(model[:len(model)-1], "cut.onnx"); err == nil {
		t.Error("model without its last byte was accepted")
	}
	// Cut inside its graph (the weights), a file says "truncated" and its full path.
	path := filepath.Join(t.TempDir(), "cut.onnx")
	os.WriteFile(path, model[:len(model)/2], 0o644)
	if _, err := onnx.ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), "onnx: "+path+": truncated: ") {
		t.Errorf("model cut in half: error %v, want %q", err, "onnx: "+path+": truncated: ...")
	}
	t.Logf("%d of %d prefixes rejected", failed, len(model))
}

func FuzzRead(f *testing.F) {
	for _, c := range onnxtest.Cases() {
		for _, opset := range []int64{11, 17} {
			model, err := c.Build(opset, 3)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(onnxtest.StripWeights(model))
		}
	}
	for _, v := range vitVariants {
		model, err := onnxtest.ViTTiny(v.opset, 3, onnxtest.ViTOptions{LayerNorm: v.opt.LayerNorm, Gelu: v.opt.Gelu, Pool: v.opt.Pool, FusedQKV: v.opt.FusedQKV, Dim: 8, Heads: 2, Blocks: 1}).Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(onnxtest.StripWeights(model))
	}
	// The folds of PyTorch's shape arithmetic, good and bad (shapes_test.go).
	for _, c := range foldCases {
		f.Add(c.model(f))
	}
	// Inputs are models with their larger weights stripped (the engine crawls on inputs of tens of
	// kilobytes); each is read as it is, and with weights of the sizes it declares.
	f.Fuzz(func(t *testing.T, b []byte) {
		read(t, b)
		if full, ok := onnxtest.FillWeights(b, 1<<20); ok {
			read(t, full)
		}
	})
}

// read checks one fuzz input: an error with the package prefix, or a valid graph.
func read(t *testing.T, b []byte) {
	g, err := onnx.Read(b, "fuzz.onnx")
	if err != nil {
		if !strings.HasPrefix(err.Error(), "onnx: ") {
			t.Fatalf("error without prefix: %v", err)
		}
		return
	}
	if err := g.Validate(); err != nil {
		t.Fatalf("Read returned an invalid graph: %v", err)
	}
}

package quantize_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
)

// The channel-shuffle, concat and pooling families (issue 13) quantized with the default method and
// run by the runtime: every layer close to float, the top-1 class the same on most images, and the
// channel shuffles lowered as one Transpose each.
func TestQuantizeShuffleFamily(t *testing.T) {
	set := synthetic{n: 200, size: 16}
	nets := []struct {
		name       string
		b          *onnxtest.Builder
		transposes int // Transpose ops in the int8 model
	}{
		{"shufflenetv2", onnxtest.ShuffleNetV2Net(13, 5), 3},
		{"shufflenetv2_opset11", onnxtest.ShuffleNetV2Net(11, 6), 3},
		{"inception", onnxtest.InceptionNet(13, 5), 0},
		// DenseNet-BC's pre-activation BatchNormalization reads a concatenation and folds into no
		// convolution: transform.FoldBatchNorm makes it a 1x1 depthwise Conv (ReLU fused).
		{"densenet_bc", onnxtest.DenseNetNet(true, 13, 5), 0},
		{"densenet_post", onnxtest.DenseNetNet(false, 13, 5), 0},
		{"resnet", onnxtest.ResNetNet(13, 5), 0},
	}
	for _, net := range nets {
		t.Run(net.name, func(t *testing.T) {
			g := prepare(t, net.b)
			cal := calibrate(t, g, set, 64)
			m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The model file keeps the new ops (Transpose's permutation, Slice's bounds).
			var file bytes.Buffer
			if err := models.Encode(&file, m, models.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			back, err := models.Decode(file.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Ops, m.Ops) {
				t.Error("the ops read back from the model file differ")
			}
			ops := map[models.OpType]int{}
			for _, op := range m.Ops {
				ops[op.Type]++
			}
			if ops[models.OpTranspose] != net.transposes {
				t.Errorf("%d Transpose ops, want %d (all: %v)", ops[models.OpTranspose], net.transposes, ops)
			}
			stats, err := quantize.CompareLayers(context.Background(), cal, m, 16)
			if err != nil {
				t.Fatal(err)
			}
			worst, at := math.Inf(1), ""
			reshapes := 0 // the channel shuffles' outputs, compared in the graph's order
			for _, s := range stats {
				if s.Op == "Reshape" {
					reshapes++
				}
				if s.Cosine < worst {
					worst, at = s.Cosine, s.Tensor+" ("+s.Op+")"
				}
			}
			last := stats[len(stats)-1]
			agree := agreement(t, g, cal, m, set, dataset.Spread(set.Len(), 100)[1:])
			t.Logf("%d ops %v; %d layers compared, worst cosine %.4f at %s, output SQNR %.1f dB, top-1 agreement %.0f%%",
				len(m.Ops), ops, len(stats), worst, at, last.SQNR, 100*agree)
			if net.transposes > 0 && reshapes < net.transposes {
				t.Errorf("%d Reshape outputs compared with float, want the %d channel shuffles'", reshapes, net.transposes)
			}
			if worst < 0.98 || last.SQNR < 15 || agree < 0.85 {
				t.Errorf("worst cosine %.4f, output SQNR %.1f dB, agreement %.2f: want >= 0.98, 15 dB, 0.85", worst, last.SQNR, agree)
			}
		})
	}
}

// Layouts: reshapes and transposes the NHWC model cannot follow without moving data, slices and
// splits of tensors in other layouts, and such tensors as graph outputs. Every output (compared in
// the graph's order by CompareLayers) must match float.
func TestLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := onnxtest.New("layouts", 13)
	b.Input("x", 1, 3, 16, 16)
	c := b.Op("Relu", "c", nil, b.Op("Conv", "conv", onnxtest.Attrs{"pads": []int64{1, 1, 1, 1}, "strides": []int64{2, 2}},
		"x", b.Random(rng, "w", 0.4, 8, 3, 3, 3), b.Random(rng, "bias", 0.1, 8))) // [1, 8, 8, 8]
	conv := func(name, in string, cin int64) string {
		return b.Op("Conv", name, nil, in, b.Random(rng, name+"_w", 0.4, 4, cin, 1, 1))
	}
	// NCHW -> NHWC in the graph: a graph output.
	b.Output(b.Op("Transpose", "to_nhwc", onnxtest.Attrs{"perm": []int64{0, 2, 3, 1}}, c))
	// Tokens, as a vision transformer makes them: [1, 8, 64] -> [1, 64, 8].
	tok := b.Op("Reshape", "tokens", nil, c, b.Ints("s1", 1, 8, 64))
	b.Output(b.Op("Transpose", "tokens_t", onnxtest.Attrs{"perm": []int64{0, 2, 1}}, tok))
	// Channels and rows mixed: [1, 8, 8, 8] -> [1, 16, 4, 8], then a convolution.
	mixed := b.Op("Reshape", "mixed", nil, c, b.Ints("s2", 1, 16, 4, 8))
	b.Output(conv("mixed_conv", mixed, 16))
	// Rows and columns swapped, then a convolution.
	sw := b.Op("Transpose", "swap_hw", onnxtest.Attrs{"perm": []int64{0, 1, 3, 2}}, c)
	b.Output(conv("swap_conv", sw, 8))
	// A strided slice of channels and rows of a swapped tensor, as a graph output.
	b.Output(b.Op("Slice", "sliced", nil, sw, b.Ints("st", 1, 1), b.Ints("en", 7, 8), b.Ints("ax", 1, 3), b.Ints("sp", 2, 3)))
	// Split along the rows: two parts are graph outputs, one feeds a convolution.
	b.Node("Split", "rows", []string{c, b.Ints("sizes", 2, 3, 3)}, []string{"rows0", "rows1", "rows2"}, onnxtest.Attrs{"axis": 2})
	b.Output("rows0")
	b.Output("rows1")
	b.Output(conv("rows_conv", "rows2", 8))
	// The channel shuffle with 4 groups, as a graph output.
	r := b.Op("Reshape", "v1", nil, c, b.Ints("s3", 1, 4, 2, 8, 8))
	tr := b.Op("Transpose", "t1", onnxtest.Attrs{"perm": []int64{0, 2, 1, 3, 4}}, r)
	b.Output(b.Op("Reshape", "shuffled", nil, tr, b.Ints("s4", 1, 8, 8, 8)))
	// A classifier output, as Calibrate expects one (any output is fine for the comparison).
	f := b.Op("Flatten", "flat", nil, b.Op("GlobalAveragePool", "gap", nil, c))
	b.Op("Gemm", "logits", onnxtest.Attrs{"transB": 1}, f, b.Random(rng, "fw", 0.3, 10, 8), b.Random(rng, "fb", 0.1, 10))
	b.Output("logits")
	g := prepare(t, b)
	set := synthetic{n: 40, size: 16}
	cal := calibrate(t, g, set, 20)
	m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := quantize.CompareLayers(context.Background(), cal, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]quantize.LayerStat{}
	for _, s := range stats {
		byName[s.Tensor] = s
	}
	for _, o := range g.Outputs {
		s, ok := byName[o.Name]
		if !ok {
			t.Errorf("output %s: not compared", o.Name)
			continue
		}
		t.Logf("output %s (%s): cosine %.5f, SQNR %.1f dB", o.Name, s.Op, s.Cosine, s.SQNR)
		if s.Cosine < 0.995 {
			t.Errorf("output %s: cosine %.4f with float, want >= 0.995", o.Name, s.Cosine)
		}
	}
	ops := map[models.OpType]int{}
	for _, op := range m.Ops {
		ops[op.Type]++
	}
	t.Logf("ops: %v", ops)
}

// Negative steps have no int8 form: the error names the node.
func TestSliceNegativeStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	b := onnxtest.New("negstep", 13)
	b.Input("x", 1, 3, 16, 16)
	c := b.Op("Conv", "conv", nil, "x", b.Random(rng, "w", 0.4, 8, 3, 1, 1))
	s := b.Op("Slice", "flip", nil, c, b.Ints("st", -1), b.Ints("en", -100), b.Ints("ax", 3), b.Ints("sp", -1))
	f := b.Op("Flatten", "flat", nil, b.Op("GlobalAveragePool", "gap", nil, s))
	b.Op("Gemm", "logits", onnxtest.Attrs{"transB": 1}, f, b.Random(rng, "fw", 0.3, 10, 8))
	b.Output("logits")
	g := prepare(t, b)
	cal := calibrate(t, g, synthetic{n: 4, size: 16}, 2)
	_, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
	if err == nil || !strings.Contains(err.Error(), `"flip"`) || !strings.Contains(err.Error(), "only positive steps") {
		t.Fatalf("err = %v, want one naming node flip and its negative step", err)
	}
}

func TestReshapeGroups(t *testing.T) {
	for _, tc := range []struct{ in, out []int }{
		{[]int{1, 8, 4, 4}, []int{1, 2, 4, 4, 4}},
		{[]int{2, 1, 3}, []int{2, 3, 1, 1}},
		{[]int{1, 1}, []int{1}},
		{[]int{6, 4}, []int{4, 6}},
	} {
		groups, err := quantize.ReshapeGroups(tc.in, tc.out)
		if err != nil {
			t.Errorf("%v -> %v: %v", tc.in, tc.out, err)
			continue
		}
		ni, no := 0, 0
		for _, g := range groups {
			pi, po := 1, 1
			for _, a := range g[0] {
				if a != ni {
					t.Errorf("%v -> %v: groups %v skip or repeat input dimensions", tc.in, tc.out, groups)
				}
				ni++
				pi *= tc.in[a]
			}
			for _, a := range g[1] {
				if a != no {
					t.Errorf("%v -> %v: groups %v skip or repeat output dimensions", tc.in, tc.out, groups)
				}
				no++
				po *= tc.out[a]
			}
			if pi != po {
				t.Errorf("%v -> %v: group %v has products %d and %d", tc.in, tc.out, g, pi, po)
			}
		}
		if ni != len(tc.in) || no != len(tc.out) {
			t.Errorf("%v -> %v: groups %v do not cover every dimension", tc.in, tc.out, groups)
		}
	}
	if _, err := quantize.ReshapeGroups([]int{2, 3}, []int{7}); err == nil {
		t.Error("shapes of 6 and 7 elements grouped")
	}
	if _, err := quantize.ReshapeGroups([]int{2, 3}, []int{5, 2}); err == nil {
		t.Error("shapes of 6 and 10 elements grouped")
	}
}

// The other calibration methods and bias correction handle Split's several outputs and the
// layouts too.
func TestShuffleNetMethods(t *testing.T) {
	set := synthetic{n: 100, size: 16}
	g := prepare(t, onnxtest.ShuffleNetV2Net(13, 8))
	cal := calibrate(t, g, set, 32)
	for _, opt := range []quantize.Options{
		{Method: quantize.Percentile}, {Method: quantize.KL}, {Method: quantize.EQ}, {Method: quantize.MinMax, BiasCorrection: true},
	} {
		m, err := quantize.Quantize(context.Background(), cal, opt)
		if err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		stats, err := quantize.CompareLayers(context.Background(), cal, m, 8)
		if err != nil {
			t.Fatal(err)
		}
		last := stats[len(stats)-1]
		t.Logf("%s bc=%v: output SQNR %.1f dB, cosine %.4f", opt.Method, opt.BiasCorrection, last.SQNR, last.Cosine)
		if last.Cosine < 0.98 {
			t.Errorf("%+v: output cosine %.4f, want >= 0.98", opt, last.Cosine)
		}
	}
}

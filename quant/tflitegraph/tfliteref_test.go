package tflitegraph_test

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/tflitegraph"
)

func floats(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// nchw reorders an N, H, W, C input for the graph.
func nchw(v []float32, n, h, w, c int) []float32 {
	out := make([]float32, len(v))
	for b := range n {
		for y := range h {
			for x := range w {
				for ch := range c {
					out[((b*c+ch)*h+y)*w+x] = v[((b*h+y)*w+x)*c+ch]
				}
			}
		}
	}
	return out
}

// compare runs g and real TensorFlow Lite on the same N, H, W, C input and returns the largest
// absolute difference of output 0.
func compare(t *testing.T, r *tfliteref.Runner, model []byte, g *graph.Graph, in []float32, shape [4]int) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref, err := r.Run(ctx, model, tfliteref.Float32Data(in))
	if err != nil {
		t.Fatal(err)
	}
	want := floats(ref)
	gin := &graph.Tensor{Name: g.Inputs[0].Name, Shape: []int{shape[0], shape[3], shape[1], shape[2]}, Data: nchw(in, shape[0], shape[1], shape[2], shape[3])}
	outs, err := g.Run(map[string]*graph.Tensor{gin.Name: gin})
	if err != nil {
		t.Fatal(err)
	}
	o := outs[g.Outputs[0].Name]
	got := o.Data
	if len(o.Shape) == 4 { // the graph is N, C, H, W; TensorFlow Lite N, H, W, C
		n, c, h, w := o.Shape[0], o.Shape[1], o.Shape[2], o.Shape[3]
		got = make([]float32, len(o.Data))
		for b := range n {
			for ch := range c {
				for y := range h {
					for x := range w {
						got[((b*h+y)*w+x)*c+ch] = o.Data[((b*c+ch)*h+y)*w+x]
					}
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("graph output has %d values, TensorFlow Lite %d", len(got), len(want))
	}
	var worst float64
	for i := range got {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
	}
	return worst
}

// TestResNet8FloatAgainstTFLite imports MLPerf Tiny's float ResNet8 and compares the graph's
// outputs with real TensorFlow Lite's on CIFAR-10 test images (input = pixels 0..255, N, H, W, C).
func TestResNet8FloatAgainstTFLite(t *testing.T) {
	path := shareddata.Path(t, "mlperf_tiny/pretrainedResnet.tflite")
	cifar := shareddata.Path(t, "cifar10/test_batch.bin")
	r := tfliteref.Require(t)
	model, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := tflitegraph.Read(model, "pretrainedResnet.tflite")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cifar)
	if err != nil {
		t.Fatal(err)
	}
	const images = 8
	var worst float64
	for k := range images {
		rec := data[k*3073 : (k+1)*3073]
		in := make([]float32, 32*32*3)
		for p := range 1024 {
			for ch := range 3 {
				in[p*3+ch] = float32(rec[1+ch*1024+p])
			}
		}
		worst = max(worst, compare(t, r, model, g, in, [4]int{1, 32, 32, 3}))
	}
	t.Logf("ResNet8 float: largest |graph - TensorFlow Lite| over %d images: %.3g", images, worst)
	if worst > 1e-4 {
		t.Errorf("largest difference %.3g, want < 1e-4", worst)
	}
}

func randFloats(rng *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (rng.Float32()*2 - 1) * scale
	}
	return v
}

// buildAll writes a float model with every op the importer maps, including a fully connected op on
// a flattened 4x4x6 tensor (the case that needs its weight columns permuted).
func buildAll(t *testing.T) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	b := tfliteref.NewBuilder()
	f32 := tfl.TensorTypeFLOAT32
	x := b.Input("x", f32, []int{1, 9, 9, 3}, nil)
	w1 := b.Const("w1", f32, []int{4, 3, 3, 3}, nil, tfliteref.Float32Data(randFloats(rng, 4*27, 0.5)))
	b1 := b.Const("b1", f32, []int{4}, nil, tfliteref.Float32Data(randFloats(rng, 4, 0.2)))
	c1 := b.Tensor("c1", f32, []int{1, 5, 5, 4}, nil)
	b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 2, StrideW: 2,
		FusedActivationFunction: tfl.ActivationFunctionTypeRELU, DilationHFactor: 1, DilationWFactor: 1}, []int32{x, w1, b1}, c1)
	w2 := b.Const("w2", f32, []int{1, 3, 3, 8}, nil, tfliteref.Float32Data(randFloats(rng, 72, 0.5)))
	b2 := b.Const("b2", f32, []int{8}, nil, tfliteref.Float32Data(randFloats(rng, 8, 0.2)))
	d2 := b.Tensor("d2", f32, []int{1, 5, 5, 8}, nil)
	b.Op(tfl.BuiltinOperatorDEPTHWISE_CONV_2D, 1, &tfl.DepthwiseConv2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 1, StrideW: 1,
		DepthMultiplier: 2, FusedActivationFunction: tfl.ActivationFunctionTypeRELU6, DilationHFactor: 1, DilationWFactor: 1}, []int32{c1, w2, b2}, d2)
	w3 := b.Const("w3", f32, []int{8, 1, 1, 4}, nil, tfliteref.Float32Data(randFloats(rng, 32, 0.5)))
	b3 := b.Const("b3", f32, []int{8}, nil, tfliteref.Float32Data(randFloats(rng, 8, 0.2)))
	p3 := b.Tensor("p3", f32, []int{1, 5, 5, 8}, nil)
	b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingVALID, StrideH: 1, StrideW: 1,
		DilationHFactor: 1, DilationWFactor: 1}, []int32{c1, w3, b3}, p3)
	sum := b.Tensor("sum", f32, []int{1, 5, 5, 8}, nil)
	b.Op(tfl.BuiltinOperatorADD, 1, &tfl.AddOptionsT{}, []int32{d2, p3}, sum)
	mp := b.Tensor("mp", f32, []int{1, 5, 5, 8}, nil)
	b.Op(tfl.BuiltinOperatorMAX_POOL_2D, 1, &tfl.Pool2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 1, StrideW: 1, FilterHeight: 3, FilterWidth: 3}, []int32{sum}, mp)
	cat := b.Tensor("cat", f32, []int{1, 5, 5, 16}, nil)
	b.Op(tfl.BuiltinOperatorCONCATENATION, 1, &tfl.ConcatenationOptionsT{Axis: 3}, []int32{sum, mp}, cat)
	pads := b.Const("pads", tfl.TensorTypeINT32, []int{4, 2}, nil, tfliteref.Int32Data([]int32{0, 0, 1, 2, 2, 1, 0, 0}))
	pd := b.Tensor("pd", f32, []int{1, 8, 8, 16}, nil)
	b.Op(tfl.BuiltinOperatorPAD, 1, nil, []int32{cat, pads}, pd)
	ap := b.Tensor("ap", f32, []int{1, 4, 4, 16}, nil)
	b.Op(tfl.BuiltinOperatorAVERAGE_POOL_2D, 1, &tfl.Pool2DOptionsT{Padding: tfl.PaddingVALID, StrideH: 2, StrideW: 2, FilterHeight: 2, FilterWidth: 2}, []int32{pd}, ap)
	shape := b.Const("shape", tfl.TensorTypeINT32, []int{2}, nil, tfliteref.Int32Data([]int32{1, 256}))
	flat := b.Tensor("flat", f32, []int{1, 256}, nil)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, nil, []int32{ap, shape}, flat)
	w4 := b.Const("w4", f32, []int{10, 256}, nil, tfliteref.Float32Data(randFloats(rng, 2560, 0.2)))
	b4 := b.Const("b4", f32, []int{10}, nil, tfliteref.Float32Data(randFloats(rng, 10, 0.2)))
	fc := b.Tensor("fc", f32, []int{1, 10}, nil)
	b.Op(tfl.BuiltinOperatorFULLY_CONNECTED, 1, &tfl.FullyConnectedOptionsT{}, []int32{flat, w4, b4}, fc)
	sm := b.Tensor("sm", f32, []int{1, 10}, nil)
	b.Op(tfl.BuiltinOperatorSOFTMAX, 1, &tfl.SoftmaxOptionsT{Beta: 1}, []int32{fc}, sm)
	b.Output(sm)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func TestOpsAgainstTFLite(t *testing.T) {
	r := tfliteref.Require(t)
	model := buildAll(t)
	g, err := tflitegraph.Read(model, "all.tflite")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var worst float64
	for range 3 {
		worst = max(worst, compare(t, r, model, g, randFloats(rng, 9*9*3, 2), [4]int{1, 9, 9, 3}))
	}
	t.Logf("largest |graph - TensorFlow Lite|: %.3g", worst)
	if worst > 1e-5 {
		t.Errorf("largest difference %.3g, want < 1e-5", worst)
	}
}

func TestQuantizedModelRejected(t *testing.T) {
	path := shareddata.Path(t, "mlperf_tiny/pretrainedResnet_quant.tflite")
	_, err := tflitegraph.ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), "int8") {
		t.Fatalf("error %v, want one saying the model is int8", err)
	}
	t.Log(err)
}

func TestNonFiniteWeightsRejected(t *testing.T) {
	b := tfliteref.NewBuilder()
	f32 := tfl.TensorTypeFLOAT32
	x := b.Input("x", f32, []int{1, 2, 2, 1}, nil)
	w := b.Const("w", f32, []int{1, 1, 1, 1}, nil, tfliteref.Float32Data([]float32{float32(math.NaN())}))
	y := b.Tensor("y", f32, []int{1, 2, 2, 1}, nil)
	b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingVALID, StrideH: 1, StrideW: 1, DilationHFactor: 1, DilationWFactor: 1}, []int32{x, w, -1}, y)
	b.Output(y)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	_, err = tflitegraph.Read(file, "nan.tflite")
	if err == nil {
		t.Fatal("a NaN weight was accepted")
	}
	t.Log(err)
}

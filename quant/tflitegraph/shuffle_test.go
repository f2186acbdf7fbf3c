package tflitegraph_test

import (
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/quant/tflitegraph"
	"github.com/edgeinfer/edgeinfer/quant/transform"
)

// buildShuffle writes a float model of the channel-shuffle family on a [1, 4, 5, 8] input: the
// shuffle (RESHAPE to 5-D, TRANSPOSE, RESHAPE back), SPLIT joined in reverse order, STRIDED_SLICE
// with strides, a 4-D TRANSPOSE, SLICE, and a RESHAPE to 3-D as the output.
func buildShuffle(t *testing.T) []byte {
	t.Helper()
	b := tfliteref.NewBuilder()
	f32 := tfl.TensorTypeFLOAT32
	i32 := func(name string, v ...int32) int32 {
		return b.Const(name, tfl.TensorTypeINT32, []int{len(v)}, nil, tfliteref.Int32Data(v))
	}
	x := b.Input("x", f32, []int{1, 4, 5, 8}, nil)
	r5 := b.Tensor("r5", f32, []int{1, 4, 5, 2, 4}, nil)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, nil, []int32{x, i32("s5", 1, 4, 5, 2, 4)}, r5)
	t5 := b.Tensor("t5", f32, []int{1, 4, 5, 4, 2}, nil)
	b.Op(tfl.BuiltinOperatorTRANSPOSE, 1, nil, []int32{r5, i32("p5", 0, 1, 2, 4, 3)}, t5)
	sh := b.Tensor("shuffled", f32, []int{1, 4, 5, 8}, nil)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, nil, []int32{t5, i32("s4", 1, 4, 5, 8)}, sh)
	axis := b.Const("axis", tfl.TensorTypeINT32, []int{}, nil, tfliteref.Int32Data([]int32{3}))
	h0 := b.Tensor("h0", f32, []int{1, 4, 5, 4}, nil)
	h1 := b.Tensor("h1", f32, []int{1, 4, 5, 4}, nil)
	b.Op(tfl.BuiltinOperatorSPLIT, 1, &tfl.SplitOptionsT{NumSplits: 2}, []int32{axis, sh}, h0, h1)
	cat := b.Tensor("cat", f32, []int{1, 4, 5, 8}, nil)
	b.Op(tfl.BuiltinOperatorCONCATENATION, 1, &tfl.ConcatenationOptionsT{Axis: 3}, []int32{h1, h0}, cat)
	ss := b.Tensor("ss", f32, []int{1, 3, 3, 4}, nil)
	b.Op(tfl.BuiltinOperatorSTRIDED_SLICE, 1, &tfl.StridedSliceOptionsT{}, []int32{cat, i32("b", 0, 1, 0, 1), i32("e", 1, 4, 5, 8), i32("st", 1, 1, 2, 2)}, ss)
	tr := b.Tensor("tr", f32, []int{1, 4, 3, 3}, nil)
	b.Op(tfl.BuiltinOperatorTRANSPOSE, 1, nil, []int32{ss, i32("p4", 0, 3, 1, 2)}, tr)
	sl := b.Tensor("sl", f32, []int{1, 3, 3, 2}, nil)
	b.Op(tfl.BuiltinOperatorSLICE, 1, nil, []int32{tr, i32("sb", 0, 1, 0, 1), i32("sz", -1, -1, 3, 2)}, sl)
	y := b.Tensor("y", f32, []int{1, 9, 2}, nil)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, nil, []int32{sl, i32("s3", 1, 9, 2)}, y)
	b.Output(y)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func TestShuffleAgainstTFLite(t *testing.T) {
	r := tfliteref.Require(t)
	model := buildShuffle(t)
	g, err := tflitegraph.Read(model, "shuffle.tflite")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var worst float64
	for range 2 {
		worst = max(worst, compare(t, r, model, g, randFloats(rng, 4*5*8, 2), [4]int{1, 4, 5, 8}))
	}
	t.Logf("largest |graph - TensorFlow Lite|: %.3g", worst)
	if worst != 0 {
		t.Errorf("largest difference %.3g: data movement must be exact", worst)
	}
}

// A float ShuffleNet-like .tflite (conv, the shuffle in NHWC, SPLIT, CONCATENATION, MEAN, fully
// connected) quantizes, and the transposes between the file's order and the graph's cost nothing:
// the int8 model has the shuffle's one Transpose.
func TestShuffleQuantizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	b := tfliteref.NewBuilder()
	f32 := tfl.TensorTypeFLOAT32
	i32 := func(name string, v ...int32) int32 {
		return b.Const(name, tfl.TensorTypeINT32, []int{len(v)}, nil, tfliteref.Int32Data(v))
	}
	x := b.Input("x", f32, []int{1, 16, 16, 3}, nil)
	w1 := b.Const("w1", f32, []int{8, 3, 3, 3}, nil, tfliteref.Float32Data(randFloats(rng, 8*27, 0.5)))
	b1 := b.Const("b1", f32, []int{8}, nil, tfliteref.Float32Data(randFloats(rng, 8, 0.2)))
	c1 := b.Tensor("c1", f32, []int{1, 8, 8, 8}, nil)
	b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 2, StrideW: 2,
		FusedActivationFunction: tfl.ActivationFunctionTypeRELU, DilationHFactor: 1, DilationWFactor: 1}, []int32{x, w1, b1}, c1)
	axis := b.Const("axis", tfl.TensorTypeINT32, []int{}, nil, tfliteref.Int32Data([]int32{3}))
	h0 := b.Tensor("h0", f32, []int{1, 8, 8, 4}, nil)
	h1 := b.Tensor("h1", f32, []int{1, 8, 8, 4}, nil)
	b.Op(tfl.BuiltinOperatorSPLIT, 1, &tfl.SplitOptionsT{NumSplits: 2}, []int32{axis, c1}, h0, h1)
	w2 := b.Const("w2", f32, []int{4, 1, 1, 4}, nil, tfliteref.Float32Data(randFloats(rng, 16, 0.5)))
	b2 := b.Const("b2", f32, []int{4}, nil, tfliteref.Float32Data(randFloats(rng, 4, 0.2)))
	c2 := b.Tensor("c2", f32, []int{1, 8, 8, 4}, nil)
	b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 1, StrideW: 1,
		FusedActivationFunction: tfl.ActivationFunctionTypeRELU, DilationHFactor: 1, DilationWFactor: 1}, []int32{h1, w2, b2}, c2)
	cat := b.Tensor("cat", f32, []int{1, 8, 8, 8}, nil)
	b.Op(tfl.BuiltinOperatorCONCATENATION, 1, &tfl.ConcatenationOptionsT{Axis: 3}, []int32{h0, c2}, cat)
	r5 := b.Tensor("r5", f32, []int{1, 8, 8, 2, 4}, nil)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, nil, []int32{cat, i32("s5", 1, 8, 8, 2, 4)}, r5)
	t5 := b.Tensor("t5", f32, []int{1, 8, 8, 4, 2}, nil)
	b.Op(tfl.BuiltinOperatorTRANSPOSE, 1, nil, []int32{r5, i32("p5", 0, 1, 2, 4, 3)}, t5)
	sh := b.Tensor("shuffled", f32, []int{1, 8, 8, 8}, nil)
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, nil, []int32{t5, i32("s4", 1, 8, 8, 8)}, sh)
	w3 := b.Const("w3", f32, []int{8, 1, 1, 8}, nil, tfliteref.Float32Data(randFloats(rng, 64, 0.5)))
	c3 := b.Tensor("c3", f32, []int{1, 8, 8, 8}, nil)
	b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 1, StrideW: 1,
		FusedActivationFunction: tfl.ActivationFunctionTypeRELU, DilationHFactor: 1, DilationWFactor: 1},
		[]int32{sh, w3, b.Const("b3", f32, []int{8}, nil, tfliteref.Float32Data(randFloats(rng, 8, 0.2)))}, c3)
	m := b.Tensor("mean", f32, []int{1, 8}, nil)
	b.Op(tfl.BuiltinOperatorMEAN, 1, &tfl.ReducerOptionsT{}, []int32{c3, i32("axes", 1, 2)}, m)
	w4 := b.Const("w4", f32, []int{10, 8}, nil, tfliteref.Float32Data(randFloats(rng, 80, 0.5)))
	fc := b.Tensor("fc", f32, []int{1, 10}, nil)
	b.Op(tfl.BuiltinOperatorFULLY_CONNECTED, 1, &tfl.FullyConnectedOptionsT{}, []int32{m, w4, -1}, fc)
	b.Output(fc)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	g, err := tflitegraph.Read(file, "shufflenet.tflite")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transform.Simplify(g); err != nil {
		t.Fatal(err)
	}
	in, err := quantize.ImageInput(g, models.Preprocess{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	set := gradients{n: 32, size: 16}
	cal, err := quantize.Calibrate(context.Background(), g, in, set, dataset.Spread(set.n, 32), quantize.CalibrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	qm, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[models.OpType]int{}
	for _, op := range qm.Ops {
		ops[op.Type]++
	}
	t.Logf("int8 ops: %v", ops)
	if ops[models.OpTranspose] != 1 {
		t.Errorf("%d Transpose ops, want the shuffle's one", ops[models.OpTranspose])
	}
	stats, err := quantize.CompareLayers(context.Background(), cal, qm, 8)
	if err != nil {
		t.Fatal(err)
	}
	last := stats[len(stats)-1]
	t.Logf("output %s: cosine %.5f, SQNR %.1f dB", last.Tensor, last.Cosine, last.SQNR)
	if last.Cosine < 0.99 {
		t.Errorf("output cosine %.4f with float, want >= 0.99", last.Cosine)
	}
}

// gradients is a set of smooth random images.
type gradients struct{ n, size int }

func (s gradients) Len() int          { return s.n }
func (s gradients) Classes() []string { return nil }
func (s gradients) Name() string      { return "gradients" }
func (s gradients) Image(i int) (image.Image, int, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 1))
	img := image.NewRGBA(image.Rect(0, 0, s.size, s.size))
	var base, gx [3]float64
	for c := range 3 {
		base[c], gx[c] = 255*rng.Float64(), 300*(rng.Float64()-0.5)
	}
	for y := range s.size {
		for x := range s.size {
			var px [3]uint8
			for c := range 3 {
				px[c] = uint8(max(0, min(255, base[c]+gx[c]*float64(x+y)/float64(2*s.size))))
			}
			img.Set(x, y, color.RGBA{px[0], px[1], px[2], 255})
		}
	}
	return img, 0, nil
}

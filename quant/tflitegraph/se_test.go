package tflitegraph_test

import (
	"math/rand/v2"
	"testing"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
	"github.com/edgeinfer/edgeinfer/quant/tflitegraph"
)

// buildSE writes a float model of the squeeze-excitation family as Keras converts it: a convolution
// with HARD_SWISH, a squeeze-excitation block (MEAN, 1x1 convolutions, LOGISTIC, MUL broadcast over
// the pixels), swish written as LOGISTIC and MUL, and MUL by a per-channel constant.
func buildSE(t *testing.T) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	b := tfliteref.NewBuilder()
	f32 := tfl.TensorTypeFLOAT32
	conv := func(in int32, name string, cin, cout, hw, k int, act tfl.ActivationFunctionType) int32 {
		w := b.Const(name+"_w", f32, []int{cout, k, k, cin}, nil, tfliteref.Float32Data(randFloats(rng, cout*k*k*cin, 0.5)))
		bias := b.Const(name+"_b", f32, []int{cout}, nil, tfliteref.Float32Data(randFloats(rng, cout, 0.2)))
		y := b.Tensor(name, f32, []int{1, hw, hw, cout}, nil)
		b.Op(tfl.BuiltinOperatorCONV_2D, 1, &tfl.Conv2DOptionsT{Padding: tfl.PaddingSAME, StrideH: 1, StrideW: 1,
			FusedActivationFunction: act, DilationHFactor: 1, DilationWFactor: 1}, []int32{in, w, bias}, y)
		return y
	}
	x := b.Input("x", f32, []int{1, 6, 6, 3}, nil)
	c1 := conv(x, "c1", 3, 8, 6, 3, tfl.ActivationFunctionTypeNONE)
	hs := b.Tensor("hs", f32, []int{1, 6, 6, 8}, nil)
	b.Op(tfl.BuiltinOperatorHARD_SWISH, 1, nil, []int32{c1}, hs)
	axes := b.Const("axes", tfl.TensorTypeINT32, []int{2}, nil, tfliteref.Int32Data([]int32{1, 2}))
	pool := b.Tensor("pool", f32, []int{1, 1, 1, 8}, nil)
	b.Op(tfl.BuiltinOperatorMEAN, 1, &tfl.ReducerOptionsT{KeepDims: true}, []int32{hs, axes}, pool)
	sq := conv(pool, "squeeze", 8, 4, 1, 1, tfl.ActivationFunctionTypeRELU)
	ex := conv(sq, "excite", 4, 8, 1, 1, tfl.ActivationFunctionTypeNONE)
	gate := b.Tensor("gate", f32, []int{1, 1, 1, 8}, nil)
	b.Op(tfl.BuiltinOperatorLOGISTIC, 1, nil, []int32{ex}, gate)
	scaled := b.Tensor("scaled", f32, []int{1, 6, 6, 8}, nil)
	b.Op(tfl.BuiltinOperatorMUL, 1, &tfl.MulOptionsT{}, []int32{hs, gate}, scaled)
	sig := b.Tensor("sig", f32, []int{1, 6, 6, 8}, nil)
	b.Op(tfl.BuiltinOperatorLOGISTIC, 1, nil, []int32{scaled}, sig)
	swish := b.Tensor("swish", f32, []int{1, 6, 6, 8}, nil)
	b.Op(tfl.BuiltinOperatorMUL, 1, &tfl.MulOptionsT{}, []int32{scaled, sig}, swish)
	k := b.Const("k", f32, []int{8}, nil, tfliteref.Float32Data(randFloats(rng, 8, 1.5)))
	y := b.Tensor("y", f32, []int{1, 6, 6, 8}, nil)
	b.Op(tfl.BuiltinOperatorMUL, 1, &tfl.MulOptionsT{FusedActivationFunction: tfl.ActivationFunctionTypeRELU6}, []int32{swish, k}, y)
	b.Output(y)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// TestSqueezeExcitationAgainstTFLite is the Keras route of issue 13's squeeze-excitation family: the
// float file imports and runs as real TensorFlow Lite computes it.
func TestSqueezeExcitationAgainstTFLite(t *testing.T) {
	r := tfliteref.Require(t)
	model := buildSE(t)
	g, err := tflitegraph.Read(model, "se.tflite")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var worst float64
	for range 3 {
		worst = max(worst, compare(t, r, model, g, randFloats(rng, 6*6*3, 2), [4]int{1, 6, 6, 3}))
	}
	t.Logf("largest |graph - TensorFlow Lite|: %.3g", worst)
	if worst > 1e-5 {
		t.Errorf("largest difference %.3g, want < 1e-5", worst)
	}
}

package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/internal/tfliteref"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// Differential tests against real TensorFlow Lite (package tfliteref: its WebAssembly build, XNNPACK
// on) on small models of one op each, built here with the shapes, types, quantizations and options
// the reference networks of conformance_test.go do not cover. For every case and several seeded
// random inputs: XNNPACK requantization (the default) must give TensorFlow Lite's output bytes
// exactly, with the generic kernels and with the fast ones; Reference requantization must stay within
// one step of them on every element. One kind of case is known not to match, and says why: where
// this TensorFlow Lite build has a bug (quirk: its output is pinned down instead).
//
// Each case runs real TensorFlow Lite once per input (node, about 0.3 s), several at a time; the
// whole test takes about 20 s. It skips when node or the npm install is missing
// (.ci/tflite-ref-setup.sh installs them), and fails instead when EDGEINFER_REQUIRE_DATA=1.

// refInputs is the number of random inputs per case: one node process each.
const refInputs = 3

// refCase is one model to compare.
type refCase struct {
	name  string
	build func(b *tfliteref.Builder, rng *rand.Rand)
	// input makes a special input (float32 with exact ties); nil: random bytes.
	input func(rng *rand.Rand, n int) []byte
	// quirk, when set, is what this TensorFlow Lite build computes instead of its own kernels'
	// semantics (a bug fixed in later versions): its output must be quirk(input), and ours, which
	// keeps the kernels' semantics, is only compared for the record.
	quirk func(m *models.Model, in []byte) []byte
	why   string
}

// qp is a per-tensor quantization in the file's terms (the zero point is the file's: 0..255 for
// UINT8).
type qp struct {
	scale float32
	zero  int64
}

func (q qp) q() *tfliteref.Quant { return tfliteref.PerTensor(q.scale, q.zero) }

// tensorType returns the file type of 8-bit activations.
func tensorType(u8 bool) tfl.TensorType {
	if u8 {
		return tfl.TensorTypeUINT8
	}
	return tfl.TensorTypeINT8
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// randBytes returns n random bytes (int8 or uint8 values alike).
func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

// convSpec describes a CONV_2D or DEPTHWISE_CONV_2D case.
type convSpec struct {
	depthwise  bool
	u8         bool // UINT8 activations and weights (per-tensor, non-zero weight zero point)
	perChannel bool // INT8 per-channel weights (else per-tensor, zero point 0)
	h, w, c    int
	kh, kw     int
	outC       int // filters (CONV_2D) or depth multiplier (DEPTHWISE_CONV_2D)
	stride     [2]int
	dilation   int
	noBias     bool // no bias input (-1)
	// hugeChannel, if not 0, is 1 + the index of an output channel given a requantization scale
	// (inScale*wScale/outScale) of about 700, which XNNPACK is not meant to take.
	hugeChannel int
	pad         tfl.Padding
	act         tfl.ActivationFunctionType
}

func (s convSpec) build(b *tfliteref.Builder, rng *rand.Rand) {
	in := qp{0.0417, -7}
	if s.u8 {
		in = qp{0.0309, 121}
	}
	x := b.Input("input", tensorType(s.u8), []int{1, s.h, s.w, s.c}, in.q())
	y, _ := s.add(b, rng, x, in)
	b.Output(y)
}

// add appends the convolution to b, reading x quantized as in, and returns its output.
func (s convSpec) add(b *tfliteref.Builder, rng *rand.Rand, x int32, in qp) (int32, qp) {
	typ := tensorType(s.u8)
	oc, k := s.outC, s.kh*s.kw*s.c
	fshape := []int{s.outC, s.kh, s.kw, s.c}
	axis := 0
	if s.depthwise {
		oc, k = s.c*s.outC, s.kh*s.kw
		fshape = []int{1, s.kh, s.kw, oc}
		axis = 3
	}
	// Weights: int8 in [-127, 127] (per-channel scales around 0.012), or uint8 around zero point 117.
	var wq *tfliteref.Quant
	wdata := randBytes(rng, prod(fshape))
	wScale := make([]float32, oc)
	switch {
	case s.u8:
		wq = qp{0.0123, 117}.q()
		for c := range wScale {
			wScale[c] = wq.Scale[0]
		}
	case s.perChannel:
		zeros := make([]int64, oc)
		for c := range wScale {
			wScale[c] = 0.006 + 0.012*rng.Float32()
		}
		if s.hugeChannel > 0 {
			wScale[s.hugeChannel-1] *= 5e5
		}
		wq = tfliteref.PerChannel(wScale, zeros, axis)
	default:
		wq = qp{0.0123, 0}.q()
		for c := range wScale {
			wScale[c] = wq.Scale[0]
		}
	}
	if !s.u8 {
		for i := range wdata {
			wdata[i] = byte(int8(rng.IntN(255) - 127))
		}
	}
	w := b.Const("filter", typ, fshape, wq, wdata)
	// Bias in accumulator units, the accumulator's typical size; its scale is inScale*wScale[c].
	spread := math.Sqrt(float64(k)) * 74 * 73
	bias := make([]int32, oc)
	bScale := make([]float32, oc)
	for c := range bias {
		bias[c] = int32((rng.Float64() - 0.5) * spread)
		bScale[c] = in.scale * wScale[c]
	}
	bq := tfliteref.PerChannel(bScale, make([]int64, oc), 0)
	if len(wq.Scale) == 1 {
		bq = qp{bScale[0], 0}.q()
	}
	// Without a bias the op has two inputs: TensorFlow Lite rejects an absent (-1) third one.
	ins := []int32{x, w}
	if !s.noBias {
		ins = append(ins, b.Const("bias", tfl.TensorTypeINT32, []int{oc}, bq, tfliteref.Int32Data(bias)))
	}
	// Output: about 40 steps per standard deviation of the accumulator.
	out := qp{float32(float64(in.scale) * 0.0123 * spread / 40), 3}
	if s.u8 {
		out.zero = 131
	}
	oh, ow := outDim(s.pad, s.h, s.kh, s.stride[0], s.dilation), outDim(s.pad, s.w, s.kw, s.stride[1], s.dilation)
	y := b.Tensor(fmt.Sprintf("conv%d", len(ins)), typ, []int{1, oh, ow, oc}, out.q())
	d := max(s.dilation, 1)
	if s.depthwise {
		b.Op(tfl.BuiltinOperatorDEPTHWISE_CONV_2D, opVersion(s.u8, 3), &tfl.DepthwiseConv2DOptionsT{
			Padding: s.pad, StrideH: int32(s.stride[0]), StrideW: int32(s.stride[1]), DepthMultiplier: int32(s.outC),
			FusedActivationFunction: s.act, DilationHFactor: int32(d), DilationWFactor: int32(d),
		}, ins, y)
	} else {
		b.Op(tfl.BuiltinOperatorCONV_2D, opVersion(s.u8, 3), &tfl.Conv2DOptionsT{
			Padding: s.pad, StrideH: int32(s.stride[0]), StrideW: int32(s.stride[1]),
			FusedActivationFunction: s.act, DilationHFactor: int32(d), DilationWFactor: int32(d),
		}, ins, y)
	}
	return y, out
}

// opVersion is the operator version the converter writes: 1 for uint8, v for int8.
func opVersion(u8 bool, v int32) int32 {
	if u8 {
		return 1
	}
	return v
}

// outDim is TensorFlow Lite's output size for SAME or VALID padding.
func outDim(p tfl.Padding, in, k, stride, dilation int) int {
	eff := (k-1)*max(dilation, 1) + 1
	if p == tfl.PaddingSAME {
		return (in + stride - 1) / stride
	}
	return (in - eff + stride) / stride
}

// fcSpec describes a FULLY_CONNECTED case.
type fcSpec struct {
	u8         bool
	perChannel bool
	noBias     bool
	inShape    []int // the input's shape: rows of depth elements
	depth      int
	units      int
	act        tfl.ActivationFunctionType
}

func fcCase(u8 bool, batch, depth, units int, act tfl.ActivationFunctionType) func(*tfliteref.Builder, *rand.Rand) {
	return fcSpec{u8: u8, inShape: []int{batch, depth}, depth: depth, units: units, act: act}.build
}

func (s fcSpec) build(b *tfliteref.Builder, rng *rand.Rand) {
	in := qp{0.0371, 5}
	if s.u8 {
		in = qp{0.0283, 119}
	}
	x := b.Input("input", tensorType(s.u8), s.inShape, in.q())
	y, _ := s.add(b, rng, x, in)
	b.Output(y)
}

// add appends the fully connected layer to b, reading x quantized as in, and returns its output.
func (s fcSpec) add(b *tfliteref.Builder, rng *rand.Rand, x int32, in qp) (int32, qp) {
	typ := tensorType(s.u8)
	wq := qp{0.0093, 0}
	if s.u8 {
		wq = qp{0.0107, 131}
	}
	wdata := randBytes(rng, s.units*s.depth)
	if !s.u8 {
		for i := range wdata {
			wdata[i] = byte(int8(rng.IntN(255) - 127))
		}
	}
	wquant, bquant := wq.q(), qp{in.scale * wq.scale, 0}.q()
	if s.perChannel {
		ws, bs := make([]float32, s.units), make([]float32, s.units)
		for i := range ws {
			ws[i] = wq.scale * (0.5 + rng.Float32())
			bs[i] = in.scale * ws[i]
		}
		wquant = tfliteref.PerChannel(ws, make([]int64, s.units), 0)
		bquant = tfliteref.PerChannel(bs, make([]int64, s.units), 0)
	}
	w := b.Const("weights", typ, []int{s.units, s.depth}, wquant, wdata)
	spread := math.Sqrt(float64(s.depth)) * 74 * 73
	bs := int32(-1)
	if !s.noBias {
		bias := make([]int32, s.units)
		for i := range bias {
			bias[i] = int32((rng.Float64() - 0.5) * spread)
		}
		bs = b.Const("bias", tfl.TensorTypeINT32, []int{s.units}, bquant, tfliteref.Int32Data(bias))
	}
	out := qp{float32(float64(in.scale) * float64(wq.scale) * spread / 40), -4}
	if s.u8 {
		out.zero = 124
	}
	y := b.Tensor("fc", typ, []int{prod(s.inShape) / s.depth, s.units}, out.q())
	b.Op(tfl.BuiltinOperatorFULLY_CONNECTED, opVersion(s.u8, 4), &tfl.FullyConnectedOptionsT{FusedActivationFunction: s.act}, []int32{x, w, bs}, y)
	return y, out
}

// chainCase is a small classifier: convolution, a standalone RELU (which the importer folds into
// it), depthwise convolution, mean over H and W, fully connected, softmax.
func chainCase(u8 bool) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, rng *rand.Rand) {
		typ := tensorType(u8)
		in := qp{0.0417, -7}
		if u8 {
			in = qp{0.0309, 121}
		}
		x := b.Input("input", typ, []int{1, 12, 11, 3}, in.q())
		y, q := convSpec{u8: u8, perChannel: !u8, h: 12, w: 11, c: 3, kh: 3, kw: 3, outC: 8, stride: [2]int{2, 2}, pad: same}.add(b, rng, x, in)
		r := b.Tensor("relu", typ, []int{1, 6, 6, 8}, q.q())
		b.Op(tfl.BuiltinOperatorRELU, 1, nil, []int32{y}, r)
		y, q = convSpec{depthwise: true, u8: u8, perChannel: !u8, h: 6, w: 6, c: 8, kh: 3, kw: 3, outC: 1, stride: [2]int{1, 1}, pad: same, act: relu6}.add(b, rng, r, q)
		axes := b.Const("axes", tfl.TensorTypeINT32, []int{2}, nil, tfliteref.Int32Data([]int32{1, 2}))
		mq := qp{q.scale * 0.6, q.zero}
		m := b.Tensor("mean", typ, []int{1, 8}, mq.q())
		b.Op(tfl.BuiltinOperatorMEAN, opVersion(u8, 2), &tfl.ReducerOptionsT{}, []int32{y, axes}, m)
		y, q = fcSpec{u8: u8, inShape: []int{1, 8}, depth: 8, units: 10}.add(b, rng, m, mq)
		sq := qp{1.0 / 256, -128}
		if u8 {
			sq.zero = 0
		}
		sm := b.Tensor("softmax", typ, []int{1, 10}, sq.q())
		// beta makes one standard deviation of the logits (about 40 steps) one unit.
		beta := float32(1 / (40 * float64(q.scale)))
		b.Op(tfl.BuiltinOperatorSOFTMAX, opVersion(u8, 2), &tfl.SoftmaxOptionsT{Beta: beta}, []int32{y}, sm)
		b.Output(sm)
	}
}

func poolCase(code tfl.BuiltinOperator, u8 bool, h, w, c, k, stride int, pad tfl.Padding, act tfl.ActivationFunctionType) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		q := qp{0.0517, -3}
		if u8 {
			q = qp{0.0517, 125}
		}
		x := b.Input("input", typ, []int{1, h, w, c}, q.q())
		y := b.Tensor("output", typ, []int{1, outDim(pad, h, k, stride, 1), outDim(pad, w, k, stride, 1), c}, q.q())
		b.Op(code, opVersion(u8, 2), &tfl.Pool2DOptionsT{Padding: pad, StrideH: int32(stride), StrideW: int32(stride),
			FilterHeight: int32(k), FilterWidth: int32(k), FusedActivationFunction: act}, []int32{x}, y)
		b.Output(y)
	}
}

// meanCase reduces a [1, 6, 7, 40] tensor over axes (42 elements, so that the mean of one channel
// can be halfway between two steps when the scales are equal).
func meanCase(u8, keep bool, axes []int32, in, out qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		shape := []int{1, 6, 7, 40}
		x := b.Input("input", typ, shape, in.q())
		at := b.Const("axes", tfl.TensorTypeINT32, []int{len(axes)}, nil, tfliteref.Int32Data(axes))
		var oshape []int
		for d, n := range shape {
			switch {
			case !slices.Contains(axes, int32(d)):
				oshape = append(oshape, n)
			case keep:
				oshape = append(oshape, 1)
			}
		}
		y := b.Tensor("output", typ, oshape, out.q())
		b.Op(tfl.BuiltinOperatorMEAN, opVersion(u8, 2), &tfl.ReducerOptionsT{KeepDims: keep}, []int32{x, at}, y)
		b.Output(y)
	}
}

func addCase(u8 bool, a, c, out qp, act tfl.ActivationFunctionType) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, rng *rand.Rand) {
		typ := tensorType(u8)
		shape := []int{1, 5, 6, 7}
		x := b.Input("input", typ, shape, a.q())
		k := b.Const("addend", typ, shape, c.q(), randBytes(rng, prod(shape)))
		y := b.Tensor("output", typ, shape, out.q())
		b.Op(tfl.BuiltinOperatorADD, opVersion(u8, 2), &tfl.AddOptionsT{FusedActivationFunction: act}, []int32{x, k}, y)
		b.Output(y)
	}
}

// concatCase joins a constant, the input and another constant along axis 3, each with its own
// quantization.
func concatCase(u8 bool, c0, in, c2, out qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, rng *rand.Rand) {
		typ := tensorType(u8)
		k0 := b.Const("const0", typ, []int{1, 4, 5, 2}, c0.q(), randBytes(rng, 40))
		x := b.Input("input", typ, []int{1, 4, 5, 3}, in.q())
		k2 := b.Const("const2", typ, []int{1, 4, 5, 4}, c2.q(), randBytes(rng, 80))
		y := b.Tensor("output", typ, []int{1, 4, 5, 9}, out.q())
		b.Op(tfl.BuiltinOperatorCONCATENATION, opVersion(u8, 2), &tfl.ConcatenationOptionsT{Axis: 3}, []int32{k0, x, k2}, y)
		b.Output(y)
	}
}

func padCase(u8 bool, q qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		x := b.Input("input", typ, []int{1, 5, 4, 3}, q.q())
		p := b.Const("paddings", tfl.TensorTypeINT32, []int{4, 2}, nil, tfliteref.Int32Data([]int32{0, 0, 1, 2, 2, 1, 0, 1}))
		y := b.Tensor("output", typ, []int{1, 8, 7, 4}, q.q())
		b.Op(tfl.BuiltinOperatorPAD, opVersion(u8, 2), &tfl.PadOptionsT{}, []int32{x, p}, y)
		b.Output(y)
	}
}

func softmaxCase(u8 bool, shape []int, in qp, beta float32) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		typ := tensorType(u8)
		out := qp{1.0 / 256, -128}
		if u8 {
			out.zero = 0
		}
		x := b.Input("input", typ, shape, in.q())
		y := b.Tensor("output", typ, shape, out.q())
		b.Op(tfl.BuiltinOperatorSOFTMAX, opVersion(u8, 2), &tfl.SoftmaxOptionsT{Beta: beta}, []int32{x}, y)
		b.Output(y)
	}
}

// quantizeCase converts between types: from FLOAT32 or an 8-bit type to an 8-bit type.
func quantizeCase(from, to tfl.TensorType, in, out qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		shape := []int{1, 4, 4, 8}
		var iq *tfliteref.Quant
		if from != tfl.TensorTypeFLOAT32 {
			iq = in.q()
		}
		x := b.Input("input", from, shape, iq)
		y := b.Tensor("output", to, shape, out.q())
		b.Op(tfl.BuiltinOperatorQUANTIZE, 1, nil, []int32{x}, y)
		b.Output(y)
	}
}

func dequantizeCase(u8 bool, q qp) func(*tfliteref.Builder, *rand.Rand) {
	return func(b *tfliteref.Builder, _ *rand.Rand) {
		shape := []int{1, 3, 5, 7}
		x := b.Input("input", tensorType(u8), shape, q.q())
		y := b.Tensor("output", tfl.TensorTypeFLOAT32, shape, nil)
		b.Op(tfl.BuiltinOperatorDEQUANTIZE, opVersion(u8, 2), nil, []int32{x}, y)
		b.Output(y)
	}
}

func reshapeCase(b *tfliteref.Builder, _ *rand.Rand) {
	q := qp{0.07, 9}
	x := b.Input("input", tfl.TensorTypeINT8, []int{1, 4, 5, 6}, q.q())
	s := b.Const("shape", tfl.TensorTypeINT32, []int{2}, nil, tfliteref.Int32Data([]int32{1, 120}))
	y := b.Tensor("output", tfl.TensorTypeINT8, []int{1, 120}, q.q())
	b.Op(tfl.BuiltinOperatorRESHAPE, 1, &tfl.ReshapeOptionsT{NewShape: []int32{1, 120}}, []int32{x, s}, y)
	b.Output(y)
}

// floatTies returns n float32 inputs for a quantization of scale s: random values in about
// [-160s, 160s], a third of them exactly halfway between two quantization steps, and a few extremes.
func floatTies(s float32) func(rng *rand.Rand, n int) []byte {
	return func(rng *rand.Rand, n int) []byte {
		v := make([]float32, n)
		for i := range v {
			k := float32(rng.IntN(321) - 160)
			switch i % 3 {
			case 0:
				v[i] = (k + 0.5) * s
			case 1:
				v[i] = k * s
			default:
				v[i] = (k + rng.Float32()) * s
			}
		}
		v[0], v[1] = 1e6, -1e6
		return tfliteref.Float32Data(v)
	}
}

var (
	same  = tfl.PaddingSAME
	valid = tfl.PaddingVALID
	none  = tfl.ActivationFunctionTypeNONE
	relu  = tfl.ActivationFunctionTypeRELU
	relu6 = tfl.ActivationFunctionTypeRELU6
)

var refCases = []refCase{
	// CONV_2D: odd sizes, strides, SAME (asymmetric padding) and VALID, dilation, per-channel int8 and
	// per-tensor uint8 with a non-zero weight zero point, fused activations.
	{name: "conv/i8/perchannel/same/s1/relu", build: convSpec{perChannel: true, h: 9, w: 11, c: 3, kh: 3, kw: 3, outC: 5, stride: [2]int{1, 1}, pad: same, act: relu}.build},
	{name: "conv/i8/perchannel/same/s1/c16", build: convSpec{perChannel: true, h: 10, w: 9, c: 16, kh: 3, kw: 3, outC: 12, stride: [2]int{1, 1}, pad: same, act: relu}.build},
	{name: "conv/i8/perchannel/valid/s1/c8", build: convSpec{perChannel: true, h: 9, w: 12, c: 8, kh: 3, kw: 3, outC: 8, stride: [2]int{1, 1}, pad: valid, act: none}.build},
	{name: "conv/i8/perchannel/same/s2/relu6", build: convSpec{perChannel: true, h: 9, w: 10, c: 4, kh: 3, kw: 3, outC: 6, stride: [2]int{2, 2}, pad: same, act: relu6}.build},
	{name: "conv/i8/perchannel/valid/s2/5x3", build: convSpec{perChannel: true, h: 13, w: 12, c: 3, kh: 5, kw: 3, outC: 7, stride: [2]int{2, 2}, pad: valid, act: none}.build},
	{name: "conv/i8/perchannel/same/dilation2", build: convSpec{perChannel: true, h: 11, w: 12, c: 3, kh: 3, kw: 3, outC: 4, stride: [2]int{1, 1}, dilation: 2, pad: same, act: none}.build},
	{name: "conv/i8/pertensor/valid/1x1", build: convSpec{h: 7, w: 5, c: 9, kh: 1, kw: 1, outC: 6, stride: [2]int{1, 1}, pad: valid, act: relu}.build},
	{name: "conv/u8/same/s1/relu6", build: convSpec{u8: true, h: 9, w: 9, c: 3, kh: 3, kw: 3, outC: 6, stride: [2]int{1, 1}, pad: same, act: relu6}.build},
	{name: "conv/u8/valid/s2/5x5/relu", build: convSpec{u8: true, h: 13, w: 11, c: 2, kh: 5, kw: 5, outC: 5, stride: [2]int{2, 2}, pad: valid, act: relu}.build},
	{name: "conv/u8/same/dilation2", build: convSpec{u8: true, h: 10, w: 9, c: 3, kh: 3, kw: 3, outC: 4, stride: [2]int{1, 1}, dilation: 2, pad: same, act: none}.build},
	{name: "conv/u8/relu_n1", build: convSpec{u8: true, h: 7, w: 8, c: 3, kh: 3, kw: 3, outC: 4, stride: [2]int{1, 1}, pad: same, act: tfl.ActivationFunctionTypeRELU_N1_TO_1}.build},
	// One channel's scale out of XNNPACK's range.
	{name: "conv/i8/perchannel/huge-scale-last-channel", build: convSpec{perChannel: true, hugeChannel: 8, h: 12, w: 12, c: 3, kh: 3, kw: 3, outC: 8, stride: [2]int{1, 1}, pad: same, act: none}.build},
	{name: "conv/i8/perchannel/huge-scale-first-channel", build: convSpec{perChannel: true, hugeChannel: 1, h: 12, w: 12, c: 3, kh: 3, kw: 3, outC: 8, stride: [2]int{1, 1}, pad: same, act: none}.build},
	// DEPTHWISE_CONV_2D: depth multiplier 1 and 2, stride 1 and 2, 3x3 and 5x5.
	{name: "depthwise/i8/m1/s1/3x3/same/relu6", build: convSpec{depthwise: true, perChannel: true, h: 9, w: 10, c: 5, kh: 3, kw: 3, outC: 1, stride: [2]int{1, 1}, pad: same, act: relu6}.build},
	{name: "depthwise/i8/m2/s2/3x3/same", build: convSpec{depthwise: true, perChannel: true, h: 11, w: 9, c: 3, kh: 3, kw: 3, outC: 2, stride: [2]int{2, 2}, pad: same, act: none}.build},
	{name: "depthwise/i8/m1/s2/5x5/valid/relu", build: convSpec{depthwise: true, perChannel: true, h: 13, w: 12, c: 4, kh: 5, kw: 5, outC: 1, stride: [2]int{2, 2}, pad: valid, act: relu}.build},
	{name: "depthwise/i8/m2/s1/5x5/same", build: convSpec{depthwise: true, perChannel: true, h: 8, w: 9, c: 2, kh: 5, kw: 5, outC: 2, stride: [2]int{1, 1}, pad: same, act: none}.build},
	{name: "depthwise/u8/m1/s1/3x3/same/relu", build: convSpec{depthwise: true, u8: true, h: 9, w: 9, c: 4, kh: 3, kw: 3, outC: 1, stride: [2]int{1, 1}, pad: same, act: relu}.build},
	{name: "depthwise/u8/m2/s2/5x5/same/relu6", build: convSpec{depthwise: true, u8: true, h: 11, w: 10, c: 3, kh: 5, kw: 5, outC: 2, stride: [2]int{2, 2}, pad: same, act: relu6}.build},
	{name: "depthwise/i8/m1/s1/3x3/dilation2", build: convSpec{depthwise: true, perChannel: true, h: 10, w: 11, c: 3, kh: 3, kw: 3, outC: 1, stride: [2]int{1, 1}, dilation: 2, pad: same, act: none}.build},
	// Without a bias (TensorFlow Lite's CONV_2D requires one; its DEPTHWISE_CONV_2D does not).
	{name: "depthwise/i8/nobias", build: convSpec{depthwise: true, perChannel: true, noBias: true, h: 15, w: 14, c: 8, kh: 3, kw: 3, outC: 1, stride: [2]int{1, 1}, pad: same, act: none}.build},
	// FULLY_CONNECTED.
	{name: "fc/i8/relu", build: fcCase(false, 1, 37, 19, relu)},
	{name: "fc/i8/batch2", build: fcCase(false, 2, 20, 11, none)},
	{name: "fc/u8", build: fcCase(true, 1, 40, 13, none)},
	{name: "fc/i8/perchannel", build: fcSpec{perChannel: true, inShape: []int{1, 29}, depth: 29, units: 9}.build},
	{name: "fc/i8/nobias/rank4", build: fcSpec{noBias: true, inShape: []int{1, 6, 5, 8}, depth: 16, units: 97, act: relu6}.build},
	{name: "fc/u8/nobias", build: fcSpec{u8: true, noBias: true, inShape: []int{1, 33}, depth: 33, units: 5}.build},
	// Pooling with partial windows at the borders (SAME).
	{name: "avgpool/i8/3x3/s2/same", build: poolCase(tfl.BuiltinOperatorAVERAGE_POOL_2D, false, 9, 10, 3, 3, 2, same, none)},
	{name: "avgpool/u8/3x3/s2/same", build: poolCase(tfl.BuiltinOperatorAVERAGE_POOL_2D, true, 9, 10, 3, 3, 2, same, none)},
	{name: "avgpool/i8/2x2/s2/same/relu", build: poolCase(tfl.BuiltinOperatorAVERAGE_POOL_2D, false, 7, 7, 2, 2, 2, same, relu)},
	{name: "maxpool/i8/3x3/s2/same", build: poolCase(tfl.BuiltinOperatorMAX_POOL_2D, false, 9, 10, 3, 3, 2, same, none)},
	{name: "maxpool/u8/2x2/s2/same/relu6", build: poolCase(tfl.BuiltinOperatorMAX_POOL_2D, true, 7, 7, 2, 2, 2, same, relu6)},
	{name: "maxpool/i8/3x3/s2/valid", build: poolCase(tfl.BuiltinOperatorMAX_POOL_2D, false, 9, 10, 3, 3, 2, valid, none)},
	{name: "avgpool/u8/3x3/s1/same/relu6", build: poolCase(tfl.BuiltinOperatorAVERAGE_POOL_2D, true, 6, 7, 3, 3, 1, same, relu6)},
	// MEAN over H and W.
	{name: "mean/i8/keepdims", build: meanCase(false, true, []int32{1, 2}, qp{0.0413, -5}, qp{0.0213, 7})},
	{name: "mean/i8/keepdims/samescale", build: meanCase(false, true, []int32{2, 1}, qp{0.0413, -5}, qp{0.0413, -5})},
	{name: "mean/i8/nokeepdims/samescale", build: meanCase(false, false, []int32{1, 2}, qp{0.0413, -5}, qp{0.0413, -5})},
	{name: "mean/u8/keepdims", build: meanCase(true, true, []int32{1, 2}, qp{0.0413, 120}, qp{0.0307, 135})},
	{name: "mean/u8/nokeepdims/samescale", build: meanCase(true, false, []int32{1, 2}, qp{0.0413, 120}, qp{0.0413, 120})},
	// The width alone: XNNPACK's 1-D global average pooling.
	{name: "mean/i8/axis2", build: meanCase(false, true, []int32{2}, qp{0.0413, -5}, qp{0.0413, -5})},
	{name: "mean/i8/axis2/nokeepdims", build: meanCase(false, false, []int32{2}, qp{0.0413, -5}, qp{0.0213, 7})},
	// Other axes: TensorFlow Lite's kernels, which truncate when the quantization does not change and
	// compute in float32 otherwise.
	{name: "mean/i8/axis1/samescale", build: meanCase(false, true, []int32{1}, qp{0.0413, -5}, qp{0.0413, -5})},
	{name: "mean/i8/axis3", build: meanCase(false, false, []int32{3}, qp{0.0413, -5}, qp{0.0213, 7})},
	{name: "mean/i8/axis3/samescale", build: meanCase(false, true, []int32{3}, qp{0.0413, -5}, qp{0.0413, -5})},
	{name: "mean/u8/axis3", build: meanCase(true, false, []int32{3}, qp{0.0413, 123}, qp{0.0213, 135})},
	// TensorFlow Lite's uint8 kernel truncates the (non-negative) uint8 sum: Op.UInt8Rounding.
	{name: "mean/u8/axis3/samescale", build: meanCase(true, false, []int32{3}, qp{0.0413, 123}, qp{0.0413, 123})},
	// ADD with a constant second operand and three different scales.
	{name: "add/i8/relu", build: addCase(false, qp{0.0517, -3}, qp{0.0931, 11}, qp{0.1093, -9}, relu)},
	{name: "add/u8", build: addCase(true, qp{0.0417, 131}, qp{0.0213, 117}, qp{0.0593, 127}, none)},
	// Input-to-output scale ratios outside XNNPACK's [2^-10, 2^8): TensorFlow Lite's own kernel.
	{name: "add/i8/small-ratio", build: addCase(false, qp{0.0001, -3}, qp{0.0931, 11}, qp{0.2093, -9}, none)},
	{name: "add/u8/relu6", build: addCase(true, qp{0.0417, 131}, qp{0.0213, 117}, qp{0.0593, 127}, relu6)},
	// CONCATENATION with constants of other scales.
	// TensorFlow Lite's INT8 CONCATENATION requires every input quantized as the output.
	{name: "concat/i8", build: concatCase(false, qp{0.0613, -1}, qp{0.0613, -1}, qp{0.0613, -1}, qp{0.0613, -1})},
	{name: "concat/u8", build: concatCase(true, qp{0.0613, 128}, qp{0.0613, 128}, qp{0.0613, 128}, qp{0.0613, 128})},
	// UINT8 inputs quantized unlike the output are rescaled by TensorFlow Lite's kernel
	// (ConcatenationWithScaling) and by ours; this build's XNNPACK delegate takes the op anyway and
	// copies the bytes (see concatGeneric).
	{name: "concat/u8/rescale", build: concatCase(true, qp{0.0311, 130}, qp{0.0517, 125}, qp{0.0771, 119}, qp{0.0613, 128}),
		quirk: concatRaw, why: "XNNPACK delegate of this TensorFlow Lite build concatenates bytes, ignoring the inputs' quantization"},
	{name: "pad/i8", build: padCase(false, qp{0.043, -11})},
	{name: "pad/u8", build: padCase(true, qp{0.043, 137})},
	{name: "softmax/i8/beta0.7", build: softmaxCase(false, []int{1, 37}, qp{0.0123, 3}, 0.7)},
	{name: "softmax/u8/beta1.3", build: softmaxCase(true, []int{2, 10}, qp{0.0171, 131}, 1.3)},
	{name: "quantize/f32-i8", build: quantizeCase(tfl.TensorTypeFLOAT32, tfl.TensorTypeINT8, qp{}, qp{0.0625, 3}), input: floatTies(0.0625)},
	{name: "quantize/f32-i8/scale0.0517", build: quantizeCase(tfl.TensorTypeFLOAT32, tfl.TensorTypeINT8, qp{}, qp{0.0517, -5}), input: floatTies(0.0517)},
	{name: "quantize/f32-u8", build: quantizeCase(tfl.TensorTypeFLOAT32, tfl.TensorTypeUINT8, qp{}, qp{0.03125, 131}), input: floatTies(0.03125)},
	{name: "quantize/i8-i8/rescale", build: quantizeCase(tfl.TensorTypeINT8, tfl.TensorTypeINT8, qp{0.0517, -3}, qp{0.0419, 6})},
	{name: "quantize/u8-u8/rescale", build: quantizeCase(tfl.TensorTypeUINT8, tfl.TensorTypeUINT8, qp{0.0517, 125}, qp{0.0731, 131})},
	// Ratio 1/300, below XNNPACK's 2^-8: TensorFlow Lite's own Requantize.
	{name: "quantize/i8-i8/small-ratio", build: quantizeCase(tfl.TensorTypeINT8, tfl.TensorTypeINT8, qp{0.01, -3}, qp{3, 6})},
	{name: "quantize/i8-u8", build: quantizeCase(tfl.TensorTypeINT8, tfl.TensorTypeUINT8, qp{0.0517, -3}, qp{0.0517, 125})},
	// TensorFlow Lite requantizes INT8 to UINT8 and back with its own kernel: at the graph's edges the
	// importer keeps these ops mixed-type, so the runtime does the same.
	{name: "quantize/i8-u8/rescale", build: quantizeCase(tfl.TensorTypeINT8, tfl.TensorTypeUINT8, qp{0.0517, -3}, qp{0.0419, 121})},
	{name: "quantize/u8-i8/rescale", build: quantizeCase(tfl.TensorTypeUINT8, tfl.TensorTypeINT8, qp{0.0517, 125}, qp{0.0731, 2})},
	{name: "dequantize/i8", build: dequantizeCase(false, qp{0.0517, -3})},
	{name: "dequantize/u8", build: dequantizeCase(true, qp{0.0517, 131})},
	{name: "reshape/i8", build: reshapeCase},
	// A few ops in a row.
	{name: "chain/i8", build: chainCase(false)},
	{name: "chain/u8", build: chainCase(true)},
}

// concatRaw is the UINT8 model's CONCATENATION done on bytes, the quantization of its inputs ignored:
// the constants' bytes (held as int8 by the model) and the input's, joined along the axis.
func concatRaw(m *models.Model, in []byte) []byte {
	var op *models.Op
	for i := range m.Ops {
		if m.Ops[i].Type == models.OpConcatenation {
			op = &m.Ops[i]
		}
	}
	out := m.Tensors[op.Outputs[0]].Shape
	outer := prod(out[:op.Axis])
	inner := prod(out[op.Axis+1:])
	var dst []byte
	for o := 0; o < outer; o++ {
		for _, k := range op.Inputs {
			t := &m.Tensors[k]
			n := t.Shape[op.Axis] * inner
			if t.IsConst() {
				for _, b := range t.Data[o*n : (o+1)*n] {
					dst = append(dst, b^0x80) // int8 back to the file's uint8
				}
			} else {
				dst = append(dst, in[o*n:(o+1)*n]...)
			}
		}
	}
	return dst
}

// refNodeSlots bounds the node processes running at once (they spend most of their time starting).
var refNodeSlots = make(chan struct{}, 4)

func TestTFLiteReference(t *testing.T) {
	runner := tfliteref.Require(t)
	start := time.Now()
	for _, c := range refCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			testRefCase(t, runner, c)
		})
	}
	t.Cleanup(func() {
		t.Logf("%d cases x %d inputs in %v", len(refCases), refInputs, time.Since(start).Round(time.Millisecond))
	})
}

func testRefCase(t *testing.T, runner *tfliteref.Runner, c refCase) {
	// Seeded by the case's name: adding a case changes no other.
	h := fnv.New64a()
	h.Write([]byte(c.name))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x7f1e))
	b := tfliteref.NewBuilder()
	c.build(b, rng)
	file, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := tflite.Read(file, strings.ReplaceAll(c.name, "/", "_")+".tflite")
	if err != nil {
		t.Fatal(err)
	}
	interps := map[string]*runtime.Interpreter{}
	for name, opt := range map[string]runtime.Options{
		"xnnpack":         {},
		"xnnpack/generic": {Generic: true},
		"reference":       {Requantization: runtime.Reference, Generic: true},
	} {
		it, err := runtime.New(m, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer it.Close()
		interps[name] = it
	}
	inSize := len(interps["xnnpack"].Input(0).Bytes())
	inputs := make([][]byte, refInputs)
	for i := range inputs {
		if c.input != nil {
			inputs[i] = c.input(rng, inSize/4)
		} else {
			inputs[i] = randBytes(rng, inSize)
		}
	}

	// Real TensorFlow Lite, one process per input.
	want := make([][]byte, len(inputs))
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	for i := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refNodeSlots <- struct{}{}
			defer func() { <-refNodeSlots }()
			want[i], errs[i] = runner.Run(context.Background(), file, inputs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	kind := interps["xnnpack"].Output(0).Type
	if c.quirk != nil {
		// Pin down what this TensorFlow Lite build computes, and only record how far ours is.
		for i, in := range inputs {
			if q := c.quirk(m, in); !bytes.Equal(want[i], q) {
				t.Errorf("input %d: TensorFlow Lite no longer computes what the case expects of it (%s): %s", i, c.why, describeDiff(want[i], q, kind, in))
			}
			for _, name := range []string{"xnnpack", "reference"} {
				it := interps[name]
				copy(it.Input(0).Bytes(), in)
				if err := it.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				d, n := elementDiff(it.Output(0).Bytes(), want[i], kind)
				t.Logf("%s: input %d: %d elements differ, by up to %d, from TensorFlow Lite's: known divergence, %s", name, i, n, d, c.why)
			}
		}
		return
	}
	const tol = 1 // Reference mode
	worstRef, refDiffering, elems, saturated := 0, 0, 0, 0
	for i, in := range inputs {
		for _, name := range []string{"xnnpack", "xnnpack/generic", "reference"} {
			it := interps[name]
			copy(it.Input(0).Bytes(), in)
			if err := it.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := it.Output(0).Bytes()
			if len(got) != len(want[i]) {
				t.Fatalf("%s: input %d: %d output bytes, TensorFlow Lite %d", name, i, len(got), len(want[i]))
			}
			if name != "reference" {
				if !bytes.Equal(got, want[i]) {
					t.Errorf("%s: input %d: output differs from TensorFlow Lite's: %s", name, i, describeDiff(got, want[i], kind, in))
				}
				continue
			}
			d, n := elementDiff(got, want[i], kind)
			worstRef = max(worstRef, d)
			refDiffering += n
			if d > tol {
				t.Errorf("reference: input %d: an element differs by %d from TensorFlow Lite's (allowed %d): %s", i, d, tol, describeDiff(got, want[i], kind, in))
			}
		}
		elems += len(want[i]) / kind.Size()
		saturated += countExtremes(want[i], kind)
	}
	// A case whose outputs are mostly at the ends of the range would test little.
	if kind != models.Float32 && saturated*2 > elems {
		t.Errorf("%d of %d TensorFlow Lite outputs are at the ends of the range: choose other scales", saturated, elems)
	}
	t.Logf("%d inputs; reference mode: largest difference %d, %d of %d elements differ; %d outputs at the range ends",
		len(inputs), worstRef, refDiffering, elems, saturated)
}

// elementDiff returns the largest absolute difference between elements of a and b and the number of
// elements that differ; kind is the element type (uint8 and int8 are compared as bytes of that
// signedness; float32 by value).
func elementDiff(a, b []byte, kind models.DType) (worst, n int) {
	for i := 0; i < len(a); i += kind.Size() {
		var d int
		switch kind {
		case models.Int8:
			d = int(int8(a[i])) - int(int8(b[i]))
		case models.UInt8:
			d = int(a[i]) - int(b[i])
		default:
			if !bytes.Equal(a[i:i+kind.Size()], b[i:i+kind.Size()]) {
				d = math.MaxInt32
			}
		}
		if d != 0 {
			n++
		}
		worst = max(worst, d, -d)
	}
	return worst, n
}

func countExtremes(b []byte, kind models.DType) int {
	n := 0
	for _, v := range b {
		switch {
		case kind == models.Int8 && (int8(v) == -128 || int8(v) == 127),
			kind == models.UInt8 && (v == 0 || v == 255):
			n++
		}
	}
	return n
}

// describeDiff lists the first differing elements: index, ours, TensorFlow Lite's (and the input
// element at the same index, when the shapes match).
func describeDiff(got, want []byte, kind models.DType, in []byte) string {
	var s []string
	total := 0
	size := kind.Size()
	for i := 0; i+size <= len(got); i += size {
		if bytes.Equal(got[i:i+size], want[i:i+size]) {
			continue
		}
		total++
		if len(s) >= 6 {
			continue
		}
		g, w := element(got[i:], kind), element(want[i:], kind)
		e := fmt.Sprintf("[%d] %s vs %s", i/size, g, w)
		if len(in) == len(got) && size == 1 {
			e += fmt.Sprintf(" (input byte %d)", in[i])
		}
		s = append(s, e)
	}
	return fmt.Sprintf("%d elements differ: %s", total, strings.Join(s, ", "))
}

func element(b []byte, kind models.DType) string {
	switch kind {
	case models.Int8:
		return fmt.Sprint(int8(b[0]))
	case models.UInt8:
		return fmt.Sprint(b[0])
	case models.Float32:
		return fmt.Sprint(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return fmt.Sprintf("% x", b[:kind.Size()])
}

package tflite

import (
	"errors"
	"os"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
)

// FuzzRead feeds arbitrary bytes to Read: it must return a model or an error, never panic, and a
// panic of the flatbuffer accessors caught by Read's recover counts as a failure too (the checks
// before them should have reported the fault precisely).
func FuzzRead(f *testing.F) {
	// The smallest real model (98 KB); the builder-made ones are a few hundred bytes.
	if p, err := dataFile("mlperf_tiny/pretrainedResnet_quant.tflite"); err == nil {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	} else if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
		f.Fatal(err)
	}
	f.Add(convModel(tfl.ActivationFunctionTypeRELU6).build())
	f.Add(convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorRELU},
		tTensor{name: "relu", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 4, 4, 3}}).build())
	f.Add(convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorPAD},
		tTensor{name: "pad", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 7, 5, 3}},
		tTensor{name: "paddings", typ: tfl.TensorTypeINT32, shape: []int32{4, 2}, data: i32Bytes(0, 0, 1, 2, 0, 1, 0, 0)}).build())
	f.Add(convModel(tfl.ActivationFunctionTypeNONE).withOp(tOp{code: tfl.BuiltinOperatorMEAN, optType: tfl.BuiltinOptionsReducerOptions,
		opts: func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
			tfl.ReducerOptionsStart(b)
			tfl.ReducerOptionsAddKeepDims(b, true)
			return tfl.ReducerOptionsEnd(b)
		}}, tTensor{name: "mean", typ: tfl.TensorTypeFLOAT32, shape: []int32{1, 1, 1, 3}},
		tTensor{name: "axes", typ: tfl.TensorTypeINT32, shape: []int32{2}, data: i32Bytes(1, 2)}).build())
	ext := convModel(tfl.ActivationFunctionTypeNONE)
	ext.tensors[2].extern = true
	f.Add(ext.build())
	f.Add((&tModel{
		tensors: []tTensor{{name: "in", typ: tfl.TensorTypeUINT8, shape: []int32{1, 3}, scale: []float32{0.5}, zp: []int64{100}},
			{name: "out", typ: tfl.TensorTypeUINT8, shape: []int32{1, 3}, scale: []float32{0.5}, zp: []int64{100}}},
		ops:    []tOp{{code: tfl.BuiltinOperatorRESHAPE, in: []int32{0}, out: []int32{1}}},
		inputs: []int32{0}, outputs: []int32{1}}).build())

	for _, b := range shuffleSeeds(f) { // TRANSPOSE, STRIDED_SLICE, SPLIT_V
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Read(b, "fuzz.tflite")
		if err != nil {
			var pe *panicError
			if errors.As(err, &pe) {
				t.Fatalf("%v\n%s", err, pe.stack)
			}
			if !strings.HasPrefix(err.Error(), "tflite: fuzz.tflite: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if err := check(m); err != nil {
			t.Fatalf("model fails its own check: %v", err)
		}
	})
}

// FuzzBuiltModel builds a well-formed flatbuffer from the fuzzer's bytes (tensors of random types,
// shapes, data and quantization; ops of the supported kinds and a few others with random operands
// and options) so that the fuzzer exercises the conversion rather than the flatbuffer checks.
func FuzzBuiltModel(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 4, 1, 4, 4, 2, 0, 0, 4, 3, 3, 3, 2, 1, 0, 1, 3, 1, 0, 0, 0, 0, 3, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := modelFromBytes(data)
		b := m.build()
		got, err := Read(b, "built.tflite")
		if err != nil {
			var pe *panicError
			if errors.As(err, &pe) {
				t.Fatalf("%v\n%s", err, pe.stack)
			}
			return
		}
		if err := check(got); err != nil {
			t.Fatalf("model fails its own check: %v", err)
		}
	})
}

type byteSource []byte

func (s *byteSource) next() int {
	if len(*s) == 0 {
		return 0
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return int(b)
}

func modelFromBytes(data []byte) *tModel {
	s := byteSource(data)
	types := []tfl.TensorType{tfl.TensorTypeFLOAT32, tfl.TensorTypeINT8, tfl.TensorTypeUINT8, tfl.TensorTypeINT32,
		tfl.TensorTypeINT64, tfl.TensorTypeFLOAT16, tfl.TensorTypeSTRING}
	sizes := []int{4, 1, 1, 4, 8, 2, 1}
	codes := []tfl.BuiltinOperator{tfl.BuiltinOperatorCONV_2D, tfl.BuiltinOperatorDEPTHWISE_CONV_2D,
		tfl.BuiltinOperatorFULLY_CONNECTED, tfl.BuiltinOperatorAVERAGE_POOL_2D, tfl.BuiltinOperatorMAX_POOL_2D,
		tfl.BuiltinOperatorMEAN, tfl.BuiltinOperatorADD, tfl.BuiltinOperatorCONCATENATION, tfl.BuiltinOperatorRESHAPE,
		tfl.BuiltinOperatorSQUEEZE, tfl.BuiltinOperatorPAD, tfl.BuiltinOperatorPADV2, tfl.BuiltinOperatorSOFTMAX,
		tfl.BuiltinOperatorQUANTIZE, tfl.BuiltinOperatorDEQUANTIZE, tfl.BuiltinOperatorRELU, tfl.BuiltinOperatorRELU6,
		tfl.BuiltinOperatorRELU_N1_TO_1, tfl.BuiltinOperatorTANH, tfl.BuiltinOperatorCUSTOM,
		tfl.BuiltinOperatorBATCH_MATMUL, tfl.BuiltinOperatorGELU}
	m := &tModel{}
	nt := 1 + s.next()%8
	for i := range nt {
		k := s.next() % len(types)
		tt := tTensor{name: string(rune('a' + i)), typ: types[k], shape: make([]int32, s.next()%5)}
		n := 1
		for d := range tt.shape {
			tt.shape[d] = int32(s.next() % 6)
			n *= int(tt.shape[d])
		}
		switch s.next() % 4 {
		case 1:
			tt.data = make([]byte, n*sizes[k])
			for j := range tt.data {
				tt.data[j] = byte(s.next())
			}
		case 2:
			tt.data = make([]byte, s.next()%9)
		}
		if q := s.next() % 4; q > 0 {
			ns := 1
			if q == 2 && len(tt.shape) > 0 {
				tt.qdim = int32(s.next() % len(tt.shape))
				ns = int(tt.shape[tt.qdim])
			}
			for range ns {
				tt.scale = append(tt.scale, float32(1+s.next())/64)
				tt.zp = append(tt.zp, int64(s.next()-128))
			}
			if q == 3 {
				tt.zp = tt.zp[:0]
			}
		}
		m.tensors = append(m.tensors, tt)
	}
	ref := func() int32 { return int32(s.next()%(nt+1)) - 1 }
	for range s.next() % 5 {
		o := tOp{code: codes[s.next()%len(codes)]}
		if o.code == tfl.BuiltinOperatorCUSTOM {
			o.custom = "x"
		}
		for range s.next() % 4 {
			o.in = append(o.in, ref())
		}
		o.out = []int32{ref()}
		pad, stride, act, a, b := tfl.Padding(s.next()%3), int32(s.next()%4), tfl.ActivationFunctionType(s.next()%5), int32(s.next()%7-3), int32(s.next()%4)
		switch o.code {
		case tfl.BuiltinOperatorCONV_2D:
			o.optType, o.opts = tfl.BuiltinOptionsConv2DOptions, convOpts(pad, stride, act)
		case tfl.BuiltinOperatorDEPTHWISE_CONV_2D:
			o.optType, o.opts = tfl.BuiltinOptionsDepthwiseConv2DOptions, func(bl *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.DepthwiseConv2DOptionsStart(bl)
				tfl.DepthwiseConv2DOptionsAddPadding(bl, pad)
				tfl.DepthwiseConv2DOptionsAddStrideH(bl, stride)
				tfl.DepthwiseConv2DOptionsAddStrideW(bl, stride)
				tfl.DepthwiseConv2DOptionsAddDepthMultiplier(bl, b)
				tfl.DepthwiseConv2DOptionsAddDilationHFactor(bl, a)
				tfl.DepthwiseConv2DOptionsAddDilationWFactor(bl, 1)
				tfl.DepthwiseConv2DOptionsAddFusedActivationFunction(bl, act)
				return tfl.DepthwiseConv2DOptionsEnd(bl)
			}
		case tfl.BuiltinOperatorAVERAGE_POOL_2D, tfl.BuiltinOperatorMAX_POOL_2D:
			o.optType, o.opts = tfl.BuiltinOptionsPool2DOptions, func(bl *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.Pool2DOptionsStart(bl)
				tfl.Pool2DOptionsAddPadding(bl, pad)
				tfl.Pool2DOptionsAddStrideH(bl, stride)
				tfl.Pool2DOptionsAddStrideW(bl, stride)
				tfl.Pool2DOptionsAddFilterHeight(bl, b)
				tfl.Pool2DOptionsAddFilterWidth(bl, a)
				tfl.Pool2DOptionsAddFusedActivationFunction(bl, act)
				return tfl.Pool2DOptionsEnd(bl)
			}
		case tfl.BuiltinOperatorCONCATENATION:
			o.optType, o.opts = tfl.BuiltinOptionsConcatenationOptions, func(bl *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.ConcatenationOptionsStart(bl)
				tfl.ConcatenationOptionsAddAxis(bl, a)
				return tfl.ConcatenationOptionsEnd(bl)
			}
		case tfl.BuiltinOperatorSOFTMAX:
			o.optType, o.opts = tfl.BuiltinOptionsSoftmaxOptions, func(bl *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.SoftmaxOptionsStart(bl)
				tfl.SoftmaxOptionsAddBeta(bl, float32(a))
				return tfl.SoftmaxOptionsEnd(bl)
			}
		case tfl.BuiltinOperatorFULLY_CONNECTED:
			o.optType, o.opts = tfl.BuiltinOptionsFullyConnectedOptions, func(bl *flatbuffers.Builder) flatbuffers.UOffsetT {
				tfl.FullyConnectedOptionsStart(bl)
				tfl.FullyConnectedOptionsAddKeepNumDims(bl, b == 1)
				tfl.FullyConnectedOptionsAddFusedActivationFunction(bl, act)
				return tfl.FullyConnectedOptionsEnd(bl)
			}
		}
		m.ops = append(m.ops, o)
	}
	for range 1 + s.next()%2 {
		m.inputs = append(m.inputs, ref())
	}
	for range 1 + s.next()%2 {
		m.outputs = append(m.outputs, ref())
	}
	return m
}

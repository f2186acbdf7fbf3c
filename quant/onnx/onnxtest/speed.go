package onnxtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	"github.com/edgeinfer/edgeinfer/models/arch"
	pb "github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
)

// MobileNetV2Full builds MobileNetV2 1.0 224 in its deploy form (BatchNorm folded into biased
// convolutions, ReLU6 as Clip), with random weights: the layers of models/arch's mobilenet_v2_1.0_224
// (Sandler et al. 2018, table 2; 300 M MACs), for timing ONNX Runtime against edgeinfer on the same
// network. Input x [1, 3, 224, 224], output prob [1, 1001] (Softmax of the logits).
func MobileNetV2Full(seed uint64) *Builder {
	rng := rand.New(rand.NewPCG(seed, 224))
	b := New("mobilenet_v2_1.0_224", 13)
	x := b.Input("x", 1, 3, 224, 224)
	k := 0
	name := func(s string) string { k++; return fmt.Sprintf("%s%d", s, k) }
	zero := b.Float("zero", []int64{}, []float32{0})
	six := b.Float("six", []int64{}, []float32{6})
	conv := func(in string, cin, cout, ksize, stride, group int64, relu6 bool) string {
		n := name("conv")
		attrs := Attrs{"pads": []int64{ksize / 2, ksize / 2, ksize / 2, ksize / 2}, "strides": []int64{stride, stride},
			"kernel_shape": []int64{ksize, ksize}, "group": group}
		w := b.Random(rng, n+"_w", float32(2/math.Sqrt(float64(cin/group*ksize*ksize))), cout, cin/group, ksize, ksize)
		h := b.Op("Conv", n, attrs, in, w, b.Random(rng, n+"_b", 0.1, cout))
		if relu6 {
			h = b.Op("Clip", name("relu6"), nil, h, zero, six)
		}
		return h
	}
	h := conv(x, 3, 32, 3, 2, 1, true)
	in := int64(32)
	for _, st := range mobileNetV2Stages() {
		for i := int64(0); i < st.n; i++ {
			s := int64(1)
			if i == 0 {
				s = st.s
			}
			y := h
			if st.t != 1 {
				y = conv(y, in, in*st.t, 1, 1, 1, true)
			}
			y = conv(y, in*st.t, in*st.t, 3, s, in*st.t, true)
			y = conv(y, in*st.t, st.c, 1, 1, 1, false)
			if s == 1 && in == st.c {
				y = b.Op("Add", name("add"), nil, h, y)
			}
			h, in = y, st.c
		}
	}
	h = conv(h, in, 1280, 1, 1, 1, true)
	gp := b.Op("GlobalAveragePool", "gap", nil, h)
	f := b.Op("Flatten", "flat", nil, gp)
	l := b.Op("Gemm", "logits", Attrs{"transB": 1}, f, b.Random(rng, "fcw", 0.05, 1001, 1280), b.Random(rng, "fcb", 0.1, 1001))
	b.Op("Softmax", "prob", Attrs{"axis": int64(1)}, l)
	b.Output("prob", 1, 1001)
	return b
}

// MobileNetV2FullQDQ is MobileNetV2Full in ONNX's QDQ form, as ONNX Runtime's static quantizer
// writes it, so that ONNX Runtime runs it with its int8 kernels (QLinearConv, QLinearAdd, …, fused
// from the DequantizeLinear → op → QuantizeLinear units): int8 weights with per-channel scales,
// int32 biases at the input scale times the weight scale, int8 activations (ReLU6 outputs at scale
// 6/255 and zero point -128, so that the Clip folds into the QuantizeLinear; the others at 0.1 and
// 0). The weights are random; the network is timed, not evaluated.
func MobileNetV2FullQDQ(seed uint64) *Builder {
	rng := rand.New(rand.NewPCG(seed, 225))
	b := New("mobilenet_v2_1.0_224_qdq", 13)
	x := b.Input("x", 1, 3, 224, 224)
	k := 0
	name := func(s string) string { k++; return fmt.Sprintf("%s%d", s, k) }
	zero := b.Float("zero", []int64{}, []float32{0})
	six := b.Float("six", []int64{}, []float32{6})
	scalar := func(s float32, z int8) (string, string) {
		n := name("q")
		return b.Float(n+"_s", []int64{}, []float32{s}), b.Init(int8Tensor(n+"_z", []int64{}, []int8{z}))
	}
	// qdq quantizes h at (s, z) and dequantizes it again: the int8 tensor between the ops.
	qdq := func(h string, s float32, z int8) string {
		sn, zn := scalar(s, z)
		q := b.Op("QuantizeLinear", name("quant"), nil, h, sn, zn)
		return b.Op("DequantizeLinear", name("dequant"), nil, q, sn, zn)
	}
	const reluScale, linScale = float32(6.0 / 255), float32(0.1)
	conv := func(in string, sx float32, cin, cout, ksize, stride, group int64, relu6 bool) (string, float32) {
		n := name("conv")
		fan := cin / group * ksize * ksize
		wq := make([]int8, cout*fan)
		for i := range wq {
			wq[i] = int8(rng.IntN(255) - 127)
		}
		ws, bq := make([]float32, cout), make([]int32, cout)
		bs, wz, bz := make([]float32, cout), make([]int8, cout), make([]int32, cout)
		for c := range ws {
			ws[c] = float32(2/math.Sqrt(float64(fan))) / 127
			bs[c] = sx * ws[c]
			bq[c] = int32(rng.IntN(201) - 100)
		}
		w := b.Op("DequantizeLinear", n+"_wdq", Attrs{"axis": int64(0)}, b.Init(int8Tensor(n+"_wq", []int64{cout, cin / group, ksize, ksize}, wq)),
			b.Float(n+"_ws", []int64{cout}, ws), b.Init(int8Tensor(n+"_wz", []int64{cout}, wz)))
		bias := b.Op("DequantizeLinear", n+"_bdq", Attrs{"axis": int64(0)}, b.Init(int32Tensor(n+"_bq", []int64{cout}, bq)),
			b.Float(n+"_bs", []int64{cout}, bs), b.Init(int32Tensor(n+"_bz", []int64{cout}, bz)))
		attrs := Attrs{"pads": []int64{ksize / 2, ksize / 2, ksize / 2, ksize / 2}, "strides": []int64{stride, stride},
			"kernel_shape": []int64{ksize, ksize}, "group": group}
		h := b.Op("Conv", n, attrs, in, w, bias)
		if relu6 {
			h = b.Op("Clip", name("relu6"), nil, h, zero, six)
			return qdq(h, reluScale, -128), reluScale
		}
		return qdq(h, linScale, 0), linScale
	}
	const inScale = float32(1.0 / 128)
	h, s := conv(qdq(x, inScale, 0), inScale, 3, 32, 3, 2, 1, true)
	in := int64(32)
	for _, st := range mobileNetV2Stages() {
		for i := int64(0); i < st.n; i++ {
			stride := int64(1)
			if i == 0 {
				stride = st.s
			}
			y, sy := h, s
			if st.t != 1 {
				y, sy = conv(y, sy, in, in*st.t, 1, 1, 1, true)
			}
			y, sy = conv(y, sy, in*st.t, in*st.t, 3, stride, in*st.t, true)
			y, sy = conv(y, sy, in*st.t, st.c, 1, 1, 1, false)
			if stride == 1 && in == st.c {
				y, sy = qdq(b.Op("Add", name("add"), nil, h, y), linScale, 0), linScale
			}
			h, s, in = y, sy, st.c
		}
	}
	h, s = conv(h, s, in, 1280, 1, 1, 1, true)
	gp := qdq(b.Op("GlobalAveragePool", "gap", nil, h), s, -128)
	f := b.Op("Flatten", "flat", nil, gp)
	wq := make([]int8, 1001*1280)
	for i := range wq {
		wq[i] = int8(rng.IntN(255) - 127)
	}
	bq := make([]int32, 1001)
	for i := range bq {
		bq[i] = int32(rng.IntN(201) - 100)
	}
	const fcScale = float32(0.05 / 127)
	fw := b.Op("DequantizeLinear", "fc_wdq", nil, b.Init(int8Tensor("fc_wq", []int64{1001, 1280}, wq)),
		b.Float("fc_ws", []int64{}, []float32{fcScale}), b.Init(int8Tensor("fc_wz", []int64{}, []int8{0})))
	fb := b.Op("DequantizeLinear", "fc_bdq", nil, b.Init(int32Tensor("fc_bq", []int64{1001}, bq)),
		b.Float("fc_bs", []int64{}, []float32{s * fcScale}), b.Init(int32Tensor("fc_bz", []int64{}, []int32{0})))
	l := qdq(b.Op("Gemm", "logits", Attrs{"transB": 1}, f, fw, fb), linScale, 0)
	b.Op("Softmax", "prob", Attrs{"axis": int64(1)}, l)
	b.Output("prob", 1, 1001)
	return b
}

type stage struct{ t, c, n, s int64 }

// mobileNetV2Stages are models/arch's MobileNetV2Stages (Sandler et al. 2018, table 2) in the int64s
// of ONNX shapes.
func mobileNetV2Stages() []stage {
	var sts []stage
	for _, st := range arch.MobileNetV2Stages {
		sts = append(sts, stage{int64(st.T), int64(st.C), int64(st.N), int64(st.S)})
	}
	return sts
}

// int8Tensor returns an INT8 tensor proto with data in raw_data.
func int8Tensor(name string, shape []int64, data []int8) *pb.TensorProto {
	raw := make([]byte, len(data))
	for i, v := range data {
		raw[i] = byte(v)
	}
	return &pb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(int32(pb.TensorProto_INT8)), RawData: raw}
}

// int32Tensor returns an INT32 tensor proto with data in raw_data.
func int32Tensor(name string, shape []int64, data []int32) *pb.TensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(v))
	}
	return &pb.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(int32(pb.TensorProto_INT32)), RawData: raw}
}

package kernels

import "testing"

// Benchmarks of the layers of TestInsnHarness on the path init chose (native timing only: never in a
// pass/fail test; under qemu count instructions instead, README.md).

func BenchmarkConv1x1(b *testing.B)     { benchConv1x1(b, nil) }
func BenchmarkConv1x1FP32(b *testing.B) { benchConv1x1(b, fp32Scales(128)) }

func benchConv1x1(b *testing.B, scale []float32) {
	r := newRand(7)
	c, err := NewConv(ConvParams{InH: 56, InW: 56, InC: 128, OutH: 56, OutW: 56, OutC: 128, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, InZero: -128, Weights: randInt8s(r, 128*128), WeightZero: []int32{0},
		Mult: []int32{1 << 30}, Shift: []int32{-10}, OutZero: -128, ActMin: -128, ActMax: 127, Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	dst, src, scratch := make([]int8, 56*56*128), randInt8s(r, 56*56*128), make([]int8, c.ScratchSize())
	b.SetBytes(56 * 56 * 128 * 128) // MACs
	for b.Loop() {
		c.Run(dst, src, scratch, 0, 56)
	}
}

func BenchmarkDepthwise3x3(b *testing.B) {
	r := newRand(8)
	d, err := NewDepthwise(DepthwiseParams{InH: 112, InW: 112, InC: 32, OutH: 112, OutW: 112, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, Multiplier: 1, InZero: -128, Weights: randInt8s(r, 9*32),
		WeightZero: []int32{0}, Mult: []int32{1 << 30}, Shift: []int32{-6}, OutZero: -128, ActMin: -128, ActMax: 127})
	if err != nil {
		b.Fatal(err)
	}
	dst, src, scratch := make([]int8, 112*112*32), randInt8s(r, 112*112*32), make([]int8, d.ScratchSize())
	b.SetBytes(112 * 112 * 32 * 9)
	for b.Loop() {
		d.Run(dst, src, scratch, 0, 112)
	}
}

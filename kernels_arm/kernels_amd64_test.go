//go:build amd64 && gc && !purego

package kernels

import (
	"math"
	"testing"
)

// TestSumBytesKernel compares sumBytes (the row sums of the weight zero point correction) with the
// plain loop on random rows and on rows of -128 and of 127.
func TestSumBytesKernel(t *testing.T) {
	needAsm(t)
	r := newRand(21)
	for i := 0; i < scale(t, 300); i++ {
		kc := 1 + r.IntN(80)
		a := randInt8s(r, 16*kc+r.IntN(16))
		switch r.IntN(4) {
		case 0:
			for j := range a {
				a[j] = math.MinInt8
			}
		case 1:
			for j := range a {
				a[j] = math.MaxInt8
			}
		}
		stride := 16 * (1 + r.IntN(4))
		a = append(a, randInt8s(r, (kc-1)*(stride-16))...)
		off := r.IntN(len(a) - (kc-1)*stride - 16 + 1)
		var want int32
		for c := 0; c < kc; c++ {
			for _, x := range a[off+c*stride:][:16] {
				want += int32(x)
			}
		}
		if got := sumBytes(&a[off], kc, stride); got != want {
			t.Fatalf("sumBytes kc %d stride %d offset %d: %d, want %d", kc, stride, off, got, want)
		}
	}
}

// TestConvAVX2Loop runs TestConvMatchesNaive and TestConvMobileNetShapes with the AVX2 loop of
// gemmAVX2 where the CPU would take its VNNI loop (the op tests prepare layers with useVNNI as
// x/sys/cpu set it; GODEBUG=cpu.avx512vnni=off does the same for a whole run).
func TestConvAVX2Loop(t *testing.T) {
	if !useVNNI {
		t.Skip("no AVX-512 VNNI: the op tests already run the AVX2 loop")
	}
	defer func() { useVNNI = true }()
	useVNNI = false
	t.Run("MatchesNaive", TestConvMatchesNaive)
	t.Run("MobileNetShapes", TestConvMobileNetShapes)
}

// TestAVX2NoAlloc pins the amd64 drivers (the pointwise rows of gemmRowsAVX2 with a weight zero
// point, the single rows of gemmSDOT1, the tail tile through gemmSDOT4) at zero allocations per Run,
// with the VNNI loop and the AVX2 loop.
func TestAVX2NoAlloc(t *testing.T) {
	if !hwSDOT {
		t.Skip("no AVX2")
	}
	r := newRand(22)
	for _, vnni := range []bool{false, true} {
		if vnni && !hwVNNI {
			continue
		}
		func() {
			defer func(v bool) { useVNNI = v }(useVNNI)
			useVNNI = vnni
			for _, outC := range []int{32, 24} {
				p := ConvParams{InH: 7, InW: 9, InC: 40, OutH: 7, OutW: 9, OutC: outC, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
					DilH: 1, DilW: 1, InZero: 3, Weights: randInt8s(r, outC*40), WeightZero: []int32{5},
					Scale: []float32{0.01}, OutZero: -2, ActMin: -128, ActMax: 127}
				c, err := NewConv(p)
				if err != nil {
					t.Fatal(err)
				}
				dst, src, scratch := make([]int8, 7*9*outC), randInt8s(r, 7*9*40), make([]int8, c.ScratchSize())
				if n := testing.AllocsPerRun(20, func() { c.Run(dst, src, scratch, 0, 7) }); n != 0 {
					t.Errorf("vnni %v OutC %d: %v allocations per Run", vnni, outC, n)
				}
			}
			f, err := NewFullyConnected(FullyConnectedParams{InC: 100, OutC: 20, InZero: -1, Weights: randInt8s(r, 2000),
				WeightZero: []int32{0}, Scale: []float32{0.02}, ActMin: -128, ActMax: 127})
			if err != nil {
				t.Fatal(err)
			}
			dst, src, scratch := make([]int8, 20), randInt8s(r, 100), make([]int8, f.ScratchSize())
			if n := testing.AllocsPerRun(20, func() { f.Run(dst, src, scratch, 0, 1) }); n != 0 {
				t.Errorf("vnni %v fully connected: %v allocations per Run", vnni, n)
			}
		}()
	}
}

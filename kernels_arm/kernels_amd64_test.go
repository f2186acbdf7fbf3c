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

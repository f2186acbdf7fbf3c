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
		off := r.IntN(len(a) - 16*kc + 1)
		var want int32
		for _, x := range a[off : off+16*kc] {
			want += int32(x)
		}
		if got := sumBytes(&a[off], kc); got != want {
			t.Fatalf("sumBytes kc %d offset %d: %d, want %d", kc, off, got, want)
		}
	}
}

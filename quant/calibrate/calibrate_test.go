package calibrate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHistogramGrows(t *testing.T) {
	var s Stats
	s.Observe([]float32{0.5, -1, 0.25})
	s.Observe([]float32{3.9, 0}) // doubles the bound twice: 1 -> 2 -> 4
	if s.Bound != 4 || s.Min != -1 || s.Max != 3.9 || s.Count != 5 {
		t.Fatalf("bound %g min %g max %g count %d", s.Bound, s.Min, s.Max, s.Count)
	}
	var total float64
	for _, c := range s.Hist {
		total += c
	}
	if total+float64(s.Zeros) != 5 {
		t.Fatalf("histogram holds %g values, want 5", total)
	}
	// |−1| landed in the last bin of [0, 1], now bin 511 of [0, 4]; 3.9 in bin 3.9*512.
	if s.Hist[511] != 1 || s.Hist[1996] != 1 {
		t.Fatalf("bins 511 %g, 1996 %g", s.Hist[511], s.Hist[1996])
	}
}

func gaussianWithOutliers() *Stats {
	rng := rand.New(rand.NewPCG(1, 2))
	var s Stats
	data := make([]float32, 100000)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	data[0], data[1] = 40, -25
	s.Observe(data)
	return &s
}

func TestMethods(t *testing.T) {
	s := gaussianWithOutliers()
	for _, c := range []struct {
		m      Method
		lo, hi float32 // bounds on the chosen hi
	}{
		{MinMax, 40, 40},
		{Percentile, 3.5, 4.5}, // 99.99% of |N(0,1)| lies below 3.89
		{KL, 2, 12},
		// Two outliers carry 2% of the energy: cosine similarity keeps part of them.
		{Cosine, 2, 39},
	} {
		lo, hi, err := Choose(s, Options{Method: c.m})
		if err != nil {
			t.Fatal(err)
		}
		if hi < c.lo || hi > c.hi || lo > 0 || lo < -25 {
			t.Errorf("%s: range [%g, %g], want hi in [%g, %g]", c.m, lo, hi, c.lo, c.hi)
		}
		t.Logf("%s: [%g, %g]", c.m, lo, hi)
	}
	if _, _, err := Choose(s, Options{Method: "bogus"}); err == nil {
		t.Error("unknown method accepted")
	}
	if _, _, err := Choose(&Stats{}, Options{}); err == nil {
		t.Error("empty statistics accepted")
	}
	var nan Stats
	nan.Observe([]float32{1, float32(math.NaN())})
	if _, _, err := Choose(&nan, Options{}); err == nil {
		t.Error("NaN statistics accepted")
	}
}

// Non-negative tensors (after ReLU) keep lo = 0 and use 256 levels.
func TestUnsigned(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s Stats
	data := make([]float32, 50000)
	for i := range data {
		data[i] = float32(rng.ExpFloat64())
	}
	s.Observe(data)
	lo, hi, err := Choose(&s, Options{Method: KL})
	if err != nil {
		t.Fatal(err)
	}
	if lo != 0 || hi < 3 || hi > s.Max {
		t.Errorf("KL range [%g, %g] for Exp(1) with max %g", lo, hi, s.Max)
	}
}

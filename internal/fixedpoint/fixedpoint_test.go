package fixedpoint

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exact computes round-half-away-from-zero(x * m * 2^shift / 2^31) with big rationals: the value the
// double rounding approximates. The double rounding may differ from it by one in rare ties, never more.
func exact(x, m int32, shift int) int64 {
	r := new(big.Rat).SetFrac(big.NewInt(int64(x)*int64(m)), big.NewInt(1<<31))
	if shift > 0 {
		r.Mul(r, new(big.Rat).SetInt64(1<<uint(shift)))
	} else {
		r.Quo(r, new(big.Rat).SetInt64(1<<uint(-shift)))
	}
	f, _ := r.Float64()
	return int64(math.Round(f))
}

func TestSaturatingRoundingDoublingHighMul(t *testing.T) {
	cases := []struct{ a, b, want int32 }{
		{math.MinInt32, math.MinInt32, math.MaxInt32},
		{1 << 30, 1 << 30, 1 << 29},
		{-(1 << 30), 1 << 30, -(1 << 29)},
		{3, 1 << 30, 2},   // 1.5 rounds up
		{-3, 1 << 30, -1}, // -1.5 rounds up (toward +inf), as SQRDMULH does
		{1, 1 << 30, 1},   // 0.5 -> 1
		{-1, 1 << 30, 0},  // -0.5 -> 0
		{0, 12345, 0},
	}
	for _, c := range cases {
		if got := SaturatingRoundingDoublingHighMul(c.a, c.b); got != c.want {
			t.Errorf("SRDHM(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestRoundingDivideByPOT(t *testing.T) {
	cases := []struct {
		x    int32
		e    int
		want int32
	}{
		{5, 1, 3}, {-5, 1, -3}, {4, 1, 2}, {6, 2, 2}, {-6, 2, -2}, {7, 0, 7},
		{math.MaxInt32, 31, 1}, {math.MinInt32, 31, -1}, {-1, 1, -1}, {1, 1, 1},
	}
	for _, c := range cases {
		if got := RoundingDivideByPOT(c.x, c.e); got != c.want {
			t.Errorf("RoundingDivideByPOT(%d, %d) = %d, want %d", c.x, c.e, got, c.want)
		}
	}
}

func TestQuantizeMultiplier(t *testing.T) {
	for _, real := range []float64{0.5, 0.75, 1, 1.5, 3.9e-3, 2.3e-5, 0.99999999999, 1 << 20} {
		m, s := QuantizeMultiplier(real)
		if m < 1<<30 {
			t.Fatalf("QuantizeMultiplier(%g): multiplier %d below 2^30", real, m)
		}
		back := float64(m) * math.Pow(2, float64(s)) / (1 << 31)
		if math.Abs(back-real)/real > 1e-9 {
			t.Errorf("QuantizeMultiplier(%g) = (%d, %d) = %g", real, m, s, back)
		}
	}
	if m, s := QuantizeMultiplier(0); m != 0 || s != 0 {
		t.Errorf("QuantizeMultiplier(0) = (%d, %d)", m, s)
	}
	if m, s := QuantizeMultiplier(1e-12); m != 0 || s != 0 {
		t.Errorf("QuantizeMultiplier(1e-12) = (%d, %d), want flush to zero", m, s)
	}
	// 0.99999999999 rounds up to 2^31 and renormalises.
	if m, s := QuantizeMultiplier(0.99999999999); m != 1<<30 || s != 1 {
		t.Errorf("QuantizeMultiplier(0.99999999999) = (%d, %d), want (2^30, 1)", m, s)
	}
}

func TestMultiplyByQuantizedMultiplierNearExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		real := math.Exp(rng.Float64()*14 - 12) // 6e-6 .. 7
		m, s := QuantizeMultiplier(real)
		x := int32(rng.IntN(1<<22) - 1<<21)
		got := int64(MultiplyByQuantizedMultiplier(x, m, s))
		want := exact(x, m, s)
		if d := got - want; d < -1 || d > 1 {
			t.Fatalf("MBQM(%d, %d, %d) = %d, exact %d", x, m, s, got, want)
		}
	}
}

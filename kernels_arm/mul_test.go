package kernels

import (
	"fmt"
	"math"
	"testing"
)

// naiveMulXNNPACK is XNNPACK's scalar qs8-vmul fp32 requantization as XNNPACK writes it: clamp in
// float32, then round by adding the magic bias 0x1.8p23 and reading the low mantissa bits.
func naiveMulXNNPACK(a, b int8, az, bz, oz, lo, hi int32, scale float32) int8 {
	acc := (int32(a) - az) * (int32(b) - bz)
	f := min(max(float32(acc)*scale, float32(lo-oz)), float32(hi-oz))
	f += 12582912.0
	return int8(int32(math.Float32bits(f)&0x7fffff) - 0x400000 + oz)
}

// TestMul compares Mul on every path with XNNPACK's formula: lengths 0-100 (blocks and tails),
// unaligned buffers with guard bands, random zero points, bounds and scales over XNNPACK's range,
// and scales 1/2, 1/4 with odd products (ties, rounded half to even).
func TestMul(t *testing.T) {
	r := newRand(40)
	ties := 0
	for i := 0; i < scale(t, 400); i++ {
		n := r.IntN(101)
		az, bz, oz := int32(r.IntN(256)-128), int32(r.IntN(256)-128), int32(r.IntN(256)-128)
		lo, hi := int32(-128), int32(127)
		if r.IntN(2) == 0 {
			lo, hi = int32(r.IntN(256)-128), int32(r.IntN(256)-128)
			lo, hi = min(lo, hi), max(lo, hi)
		}
		sc := float32(math.Ldexp(1+r.Float64(), r.IntN(24)-17)) // [2^-17, 2^7]: clipped below
		switch r.IntN(4) {
		case 0:
			sc = 0.5
		case 1:
			sc = 0.25
		}
		sc = min(max(sc, 0x1p-16), 255.9)
		p, err := NewMulParams(az, bz, oz, lo, hi, sc)
		if err != nil {
			t.Fatal(err)
		}
		a, b := newGuarded(r, n), newGuarded(r, n)
		copy(a.data(), randInt8s(r, n))
		copy(b.data(), randInt8s(r, n))
		want := make([]int8, n)
		for j := range want {
			want[j] = naiveMulXNNPACK(a.data()[j], b.data()[j], az, bz, oz, lo, hi, sc)
			if v := float64(int32(a.data()[j])-az) * float64(int32(b.data()[j])-bz) * float64(sc); v != math.Trunc(v) && v*2 == math.Trunc(v*2) {
				ties++
			}
		}
		for _, pth := range testPaths() {
			dst := newGuarded(r, n)
			withPath(pth, func() { Mul(dst.data(), a.data(), b.data(), p) })
			dst.check(t, "mul dst")
			diffInt8(t, fmt.Sprintf("case %d n %d zero points %d %d %d range [%d, %d] scale %g path %v", i, n, az, bz, oz, lo, hi, sc, pth), dst.data(), want)
		}
	}
	if ties < 100 {
		t.Fatalf("only %d ties: the rounding is not tested", ties)
	}
}

// TestMulXKernel compares mulX with its twin on odd block counts and extreme operands.
func TestMulXKernel(t *testing.T) {
	needAsm(t)
	needNEON(t) // on amd64 the name calls its twin
	r := newRand(41)
	for i := 0; i < scale(t, 200); i++ {
		n := 1 + r.IntN(12)
		a, b := randInt8s(r, 16*n), randInt8s(r, 16*n)
		if r.IntN(4) == 0 {
			for j := range a {
				a[j], b[j] = -128, -128
			}
		}
		sc := float32(math.Ldexp(1+r.Float64(), r.IntN(24)-16))
		p, err := NewMulParams(int32(r.IntN(256)-128), int32(r.IntN(256)-128), int32(r.IntN(256)-128), -128, 127, min(sc, 255))
		if err != nil {
			t.Fatal(err)
		}
		got, want := newGuarded(r, 16*n), make([]int8, 16*n)
		mulX(&got.data()[0], &a[0], &b[0], n, &p.c[0])
		mulXGeneric(&want[0], &a[0], &b[0], n, &p.c[0])
		got.check(t, "mulX")
		diffInt8(t, fmt.Sprintf("mulX n %d params %v", n, p.c), got.data(), want)
	}
}

func TestMulRejects(t *testing.T) {
	for i, c := range []struct {
		az, bz, oz, lo, hi int32
		s                  float32
	}{{128, 0, 0, -128, 127, 1}, {0, -129, 0, -128, 127, 1}, {0, 0, 0, 10, -10, 1}, {0, 0, 0, -128, 127, 0},
		{0, 0, 0, -128, 127, 256}, {0, 0, 0, -128, 127, float32(math.NaN())}, {0, 0, 0, -128, 127, float32(math.Inf(1))}} {
		if _, err := NewMulParams(c.az, c.bz, c.oz, c.lo, c.hi, c.s); err == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
	}
}

func TestMulNoAlloc(t *testing.T) {
	p, _ := NewMulParams(3, -5, 7, -128, 127, 0.01)
	a, b, dst := make([]int8, 1000), make([]int8, 1000), make([]int8, 1000)
	for _, pth := range testPaths() {
		withPath(pth, func() {
			if n := testing.AllocsPerRun(10, func() { Mul(dst[:997], a, b, p) }); n != 0 {
				t.Errorf("path %v: Mul allocates %v times", pth, n)
			}
		})
	}
}

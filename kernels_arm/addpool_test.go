package kernels

import (
	"math"
	"slices"
	"testing"
)

// refAdd is TensorFlow Lite's AddFunc (reference/integer_ops/add.h), written out from its source.
func refAdd(x, y int8, p *AddParams) int8 {
	in1 := (int32(x) - p.In1Zero) * (1 << uint(p.LeftShift))
	in2 := (int32(y) - p.In2Zero) * (1 << uint(p.LeftShift))
	s1 := mulQ(in1, p.In1Mult, int(p.In1Shift))
	s2 := mulQ(in2, p.In2Mult, int(p.In2Shift))
	out := mulQ(s1+s2, p.OutMult, int(p.OutShift)) + p.OutZero
	return int8(max(p.ActMin, min(out, p.ActMax)))
}

func TestAddMatchesReference(t *testing.T) {
	r := newRand(30)
	for i := 0; i < scale(t, 200); i++ {
		var p AddParams
		if i%2 == 0 {
			var err error
			p, err = NewAddParams(0.01+r.Float64(), int32(r.IntN(256)-128), 0.01+r.Float64(), int32(r.IntN(256)-128),
				0.02+2*r.Float64(), int32(r.IntN(256)-128), -128, 127)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			p = randAddParams(r)
		}
		n := r.IntN(70)
		a, b := randInt8s(r, n), randInt8s(r, n)
		for _, pth := range testPaths() {
			dst := newGuarded(r, n)
			var err error
			withPath(pth, func() { err = Add(dst.data(), a, b, &p) })
			if err != nil {
				t.Fatal(err)
			}
			dst.check(t, "add")
			for j := range a {
				if got, want := dst.data()[j], refAdd(a[j], b[j], &p); got != want {
					t.Fatalf("path %v %+v: add(%d, %d) = %d, want %d", pth, p, a[j], b[j], got, want)
				}
			}
		}
	}
	p := randAddParams(r)
	if err := Add(make([]int8, 3), make([]int8, 2), make([]int8, 3), &p); err == nil {
		t.Error("Add accepted different lengths")
	}
	p.OutShift = 1
	if err := Add(nil, nil, nil, &p); err == nil {
		t.Error("Add accepted a left output shift")
	}
	if _, err := NewAddParams(1, 0, 1, 0, 1e-9, 0, -128, 127); err == nil {
		t.Error("NewAddParams accepted an output multiplier >= 1")
	}
}

// naiveAddX is XNNPACK's add as NewAddParamsXNNPACK documents it, in int64 (no wrapping) and with
// the zero points and the rounding term kept apart from the multiplications.
func naiveAddX(x, y int8, p *AddParams) int8 {
	acc := int64(int32(x)-p.In1Zero)*int64(p.XMul1) + int64(int32(y)-p.In2Zero)*int64(p.XMul2) + 1<<(p.XShift-1)
	q := acc >> p.XShift // floor division by 2^shift
	return int8(max(int64(p.ActMin), min(q+int64(p.OutZero), int64(p.ActMax))))
}

func TestAddXNNPACK(t *testing.T) {
	r := newRand(33)
	for i := 0; i < scale(t, 300); i++ {
		s1, s2, so := float32(math.Exp(r.Float64()*8-4)), float32(math.Exp(r.Float64()*8-4)), float32(math.Exp(r.Float64()*8-4))
		z1, z2 := int32(r.IntN(256)-128), int32(r.IntN(256)-128)
		oz, lo, hi := randActRange(r)
		p, err := NewAddParamsXNNPACK(s1, z1, s2, z2, so, oz, lo, hi)
		a, b := s1/so, s2/so
		if in := func(x float32) bool { return x >= 0x1p-10 && x < 0x1p8 }; !in(a) || !in(b) {
			if err == nil {
				t.Fatalf("ratios %g, %g outside [2^-10, 2^8) accepted", a, b)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		// The parameters, computed another way: Frexp's exponent, Ldexp's scaling.
		_, e := math.Frexp(float64(max(a, b)))
		shift := int32(21 - e)
		m1, m2 := int32(math.RoundToEven(math.Ldexp(float64(a), int(shift)))), int32(math.RoundToEven(math.Ldexp(float64(b), int(shift))))
		if p.XShift != shift || p.XMul1 != m1 || p.XMul2 != m2 || p.XBias != 1<<(shift-1)-m1*z1-m2*z2 {
			t.Fatalf("scales %g, %g -> %g: params %+v, want shift %d, multipliers %d, %d", s1, s2, so, p, shift, m1, m2)
		}
		n := r.IntN(70)
		x, y := randInt8s(r, n), randInt8s(r, n)
		for _, pth := range testPaths() {
			dst := newGuarded(r, n)
			withPath(pth, func() { err = Add(dst.data(), x, y, &p) })
			if err != nil {
				t.Fatal(err)
			}
			dst.check(t, "add")
			for j := range x {
				if got, want := dst.data()[j], naiveAddX(x[j], y[j], &p); got != want {
					t.Fatalf("path %v %+v: add(%d, %d) = %d, want %d", pth, p, x[j], y[j], got, want)
				}
			}
		}
	}
	// Equal scales: the exact sum less the zero points.
	p, err := NewAddParamsXNNPACK(0.5, 3, 0.5, -7, 0.5, 10, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	x, y, dst := []int8{1, -50, 100}, []int8{2, 20, 100}, make([]int8, 3)
	if err := Add(dst, x, y, &p); err != nil {
		t.Fatal(err)
	}
	if want := []int8{17, -16, 127}; !slices.Equal(dst, want) {
		t.Errorf("equal scales: %v, want %v", dst, want)
	}
	for _, bad := range [][3]float32{{1, 1, 2048}, {256, 1, 1}, {1, 0, 1}, {1, 1, float32(math.Inf(1))}, {float32(math.NaN()), 1, 1}} {
		if _, err := NewAddParamsXNNPACK(bad[0], 0, bad[1], 0, bad[2], 0, -128, 127); err == nil {
			t.Errorf("NewAddParamsXNNPACK accepted scales %v", bad)
		}
	}
	for _, good := range [][3]float32{{1, 1, 1024}, {255.99998, 1, 1}} {
		if _, err := NewAddParamsXNNPACK(good[0], 0, good[1], 0, good[2], 0, -128, 127); err != nil {
			t.Errorf("NewAddParamsXNNPACK rejected scales %v: %v", good, err)
		}
	}
	p.XMul1 = 1<<22 + 1
	if err := Add(dst, x, y, &p); err == nil {
		t.Error("Add accepted an XNNPACK multiplier above 2^22")
	}
}

// refPool is TensorFlow Lite's AveragePool (reference/integer_ops/pooling.h) for a window covering
// the whole input; with RoundHalfUp, reference_ops::AveragePool's rounding on uint8 values,
// floor(mean + 1/2) = floor((2*sum + n) / (2n)).
func refPool(src []int8, p *PoolParams, ch int) int8 {
	var acc int32
	n := int32(p.H * p.W)
	for i := 0; i < p.H*p.W; i++ {
		acc += int32(src[i*p.C+ch])
	}
	if p.RoundHalfUp {
		q := int32(math.Floor(float64(2*int64(acc)+int64(n)) / float64(2*n)))
		return int8(max(p.ActMin, min(q, p.ActMax)))
	}
	if acc > 0 {
		acc = (acc + n/2) / n
	} else {
		acc = (acc - n/2) / n
	}
	return int8(max(p.ActMin, min(acc, p.ActMax)))
}

func TestGlobalAveragePool(t *testing.T) {
	r := newRand(31)
	for i := 0; i < scale(t, 100); i++ {
		p := PoolParams{H: 1 + r.IntN(33), W: 1 + r.IntN(33), C: 1 + r.IntN(67), ActMin: -128, ActMax: 127, RoundHalfUp: i%2 == 1}
		if i%5 == 0 {
			p.H, p.W = 17, 16 // more than 256 pixels: chunked sums
		}
		if i%3 == 0 {
			p.ActMin, p.ActMax = int32(r.IntN(100)-100), int32(r.IntN(100))
		}
		src := randInt8s(r, p.H*p.W*p.C)
		if i%4 == 0 {
			for j := range src {
				src[j] = int8([]int{-128, 127}[i%8/4])
			}
		}
		for _, pth := range testPaths() {
			dst := newGuarded(r, p.C)
			var err error
			withPath(pth, func() { err = GlobalAveragePool(dst.data(), src, &p) })
			if err != nil {
				t.Fatal(err)
			}
			dst.check(t, "pool")
			for ch := 0; ch < p.C; ch++ {
				if got, want := dst.data()[ch], refPool(src, &p, ch); got != want {
					t.Fatalf("path %v %+v channel %d: %d, want %d", pth, p, ch, got, want)
				}
			}
		}
	}
	// Negative ties: -1/2 rounds to 0 half up, to -1 away from zero; -3/2 to -1 and -2.
	for _, c := range []struct {
		src    []int8
		up     bool
		result int8
	}{{[]int8{-1, 0}, true, 0}, {[]int8{-1, 0}, false, -1}, {[]int8{-1, -2}, true, -1}, {[]int8{-1, -2}, false, -2}, {[]int8{1, 2}, true, 2}} {
		dst := make([]int8, 1)
		for _, pth := range testPaths() {
			withPath(pth, func() {
				GlobalAveragePool(dst, c.src, &PoolParams{H: 2, W: 1, C: 1, ActMin: -128, ActMax: 127, RoundHalfUp: c.up})
			})
			if dst[0] != c.result {
				t.Errorf("path %v: mean of %v, RoundHalfUp %v: %d, want %d", pth, c.src, c.up, dst[0], c.result)
			}
		}
	}
	if err := GlobalAveragePool(make([]int8, 2), make([]int8, 3), &PoolParams{H: 1, W: 1, C: 2}); err == nil {
		t.Error("pool accepted a short input")
	}
}

func TestAddPoolNoAlloc(t *testing.T) {
	r := newRand(32)
	p, px := randAddParams(r), randAddXParams(r)
	a, b, d := randInt8s(r, 100), randInt8s(r, 100), make([]int8, 100)
	pp := PoolParams{H: 7, W: 7, C: 40, ActMin: -128, ActMax: 127}
	src, out := randInt8s(r, 7*7*40), make([]int8, 40)
	if n := testing.AllocsPerRun(10, func() { Add(d, a, b, &p); Add(d, a, b, &px); GlobalAveragePool(out, src, &pp) }); n != 0 {
		t.Errorf("Add/GlobalAveragePool allocate %v times", n)
	}
}

// TestSumChannels compares SumChannels on every path with the sums in Go: channel counts 1-70 (whole
// blocks and tails), pixel counts 0-600 (several calls of 256 pixels), extreme values.
func TestSumChannels(t *testing.T) {
	r := newRand(50)
	for i := 0; i < scale(t, 200); i++ {
		c, n := 1+r.IntN(70), r.IntN(601)
		src := randInt8s(r, n*c)
		if r.IntN(4) == 0 {
			v := int8(-128 + 255*r.IntN(2))
			for j := range src {
				src[j] = v
			}
		}
		want := make([]int32, c)
		for j, v := range src {
			want[j%c] += int32(v)
		}
		for _, pth := range testPaths() {
			got := make([]int32, c+1)
			for j := range got {
				got[j] = int32(r.Uint32())
			}
			last := got[c]
			withPath(pth, func() { SumChannels(got, src, n, c) })
			if got[c] != last {
				t.Fatalf("c %d n %d path %v: wrote past c", c, n, pth)
			}
			for ch := range want {
				if got[ch] != want[ch] {
					t.Fatalf("c %d n %d path %v: channel %d sum %d, want %d", c, n, pth, ch, got[ch], want[ch])
				}
			}
		}
	}
	src, sums := make([]int8, 49*72), make([]int32, 72)
	for _, pth := range testPaths() {
		withPath(pth, func() {
			if a := testing.AllocsPerRun(10, func() { SumChannels(sums, src, 49, 72) }); a != 0 {
				t.Errorf("path %v: SumChannels allocates %v times", pth, a)
			}
		})
	}
}

package kernels

import (
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

// refPool is TensorFlow Lite's AveragePool (reference/integer_ops/pooling.h) for a window covering
// the whole input.
func refPool(src []int8, p *PoolParams, ch int) int8 {
	var acc int32
	n := int32(p.H * p.W)
	for i := 0; i < p.H*p.W; i++ {
		acc += int32(src[i*p.C+ch])
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
		p := PoolParams{H: 1 + r.IntN(33), W: 1 + r.IntN(33), C: 1 + r.IntN(67), ActMin: -128, ActMax: 127}
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
	if err := GlobalAveragePool(make([]int8, 2), make([]int8, 3), &PoolParams{H: 1, W: 1, C: 2}); err == nil {
		t.Error("pool accepted a short input")
	}
}

func TestAddPoolNoAlloc(t *testing.T) {
	r := newRand(32)
	p := randAddParams(r)
	a, b, d := randInt8s(r, 100), randInt8s(r, 100), make([]int8, 100)
	pp := PoolParams{H: 7, W: 7, C: 40, ActMin: -128, ActMax: 127}
	src, out := randInt8s(r, 7*7*40), make([]int8, 40)
	if n := testing.AllocsPerRun(10, func() { Add(d, a, b, &p); GlobalAveragePool(out, src, &pp) }); n != 0 {
		t.Errorf("Add/GlobalAveragePool allocate %v times", n)
	}
}

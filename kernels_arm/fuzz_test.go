package kernels

import (
	"math"
	"testing"
)

// The fuzz targets derive a layer's shape from the fuzzer's small integers and its data from seed,
// and compare every available path with the naive formula (ops) or the twin (kernels). Under qemu
// the seed corpus runs as ordinary tests; fuzz natively with e.g.
//
//	go test -run '^$' -fuzz FuzzConv -fuzztime 1m -parallel 1 ./kernels_arm

func FuzzConv(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(8), uint8(5), uint8(0x33), uint8(0x11), uint8(1))
	f.Add(uint64(2), uint8(32), uint8(17), uint8(7), uint8(0x11), uint8(0x00), uint8(2))
	f.Add(uint64(3), uint8(16), uint8(1), uint8(1), uint8(0x55), uint8(0x22), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, inC, outC, hw, kernel, stride, mode uint8) {
		r := newRand(seed)
		p := ConvParams{InC: 1 + int(inC)%70, OutC: 1 + int(outC)%70, InH: 1 + int(hw)%17, InW: 1 + int(hw>>4)%17 + int(hw)%5,
			KH: 1 + int(kernel)%5, KW: 1 + int(kernel>>4)%5, StrideH: 1 + int(stride)%3, StrideW: 1 + int(stride>>4)%3,
			DilH: 1 + int(mode>>4)%2, DilW: 1 + int(mode>>5)%2, PadTop: int(mode>>2) % 3, PadLeft: int(mode>>6) % 3}
		p.OutH = (p.InH+p.PadTop+1-((p.KH-1)*p.DilH+1))/p.StrideH + 1
		p.OutW = (p.InW+p.PadLeft-((p.KW-1)*p.DilW+1))/p.StrideW + 1
		if p.OutH <= 0 || p.OutW <= 0 {
			t.Skip()
		}
		k := p.KH * p.KW * p.InC
		p.InZero = int32(r.IntN(256) - 128)
		p.Weights = randInt8s(r, p.OutC*k)
		p.WeightZero = []int32{[]int32{0, int32(r.IntN(256) - 128)}[mode%2]}
		p.Mult, p.Shift = make([]int32, p.OutC), make([]int32, p.OutC)
		for i := range p.Mult {
			p.Mult[i], p.Shift[i] = randQuant(r, math.Sqrt(float64(k))*128*128)
		}
		p.OutZero, p.ActMin, p.ActMax = randActRange(r)
		src := randInt8s(r, p.InH*p.InW*p.InC)
		want := naiveConv(&p, src)
		for _, pth := range testPaths() {
			diffInt8(t, p.String()+" path "+pth.String(), runConv(t, r, pth, &p, src), want)
		}
	})
}

func FuzzDepthwise(f *testing.F) {
	f.Add(uint64(1), uint8(1), uint8(0x31))
	f.Add(uint64(2), uint8(5), uint8(0x55))
	f.Fuzz(func(t *testing.T, seed uint64, fast, shape uint8) {
		r := newRand(seed)
		p := randDepthwise(r, fast%2 == 1)
		src := randInt8s(r, p.InH*p.InW*p.InC)
		want := naiveDepthwise(&p, src)
		for _, pth := range testPaths() {
			diffInt8(t, p.String()+" path "+pth.String(), runDepthwise(t, r, pth, &p, src), want)
		}
	})
}

func FuzzGemmKernels(f *testing.F) {
	f.Add(uint64(1), uint8(1), uint8(1), uint8(0))
	f.Add(uint64(2), uint8(6), uint8(3), uint8(3))
	f.Fuzz(func(t *testing.T, seed uint64, kc, ntiles, flags uint8) {
		needAsm(t)
		r := newRand(seed)
		for _, k := range gemmKernels() {
			checkGemm(t, r, k, 1+int(kc)%20, 1+int(ntiles)%4, int(flags)%8)
		}
	})
}

func FuzzAdd(f *testing.F) {
	f.Add(uint64(1), []byte{1, 2, 3}, []byte{200, 100, 0})
	f.Fuzz(func(t *testing.T, seed uint64, a, b []byte) {
		n := min(len(a), len(b))
		x, y := make([]int8, n), make([]int8, n)
		for i := 0; i < n; i++ {
			x[i], y[i] = int8(a[i]), int8(b[i])
		}
		p := randAddParams(newRand(seed))
		for _, pth := range testPaths() {
			got := make([]int8, n)
			withPath(pth, func() {
				if err := Add(got, x, y, &p); err != nil {
					t.Fatal(err)
				}
			})
			for i := range got {
				if want := refAdd(x[i], y[i], &p); got[i] != want {
					t.Fatalf("path %v %+v: add(%d, %d) = %d, want %d", pth, p, x[i], y[i], got[i], want)
				}
			}
		}
	})
}

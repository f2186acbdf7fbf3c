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
	f.Add(uint64(1), uint8(3), uint8(8), uint8(5), uint8(0x33), uint8(0x11), uint8(1), uint8(0))
	f.Add(uint64(2), uint8(32), uint8(17), uint8(7), uint8(0x11), uint8(0x00), uint8(2), uint8(0))
	f.Add(uint64(3), uint8(16), uint8(1), uint8(1), uint8(0x55), uint8(0x22), uint8(0), uint8(0))
	f.Add(uint64(4), uint8(16), uint8(21), uint8(9), uint8(0x33), uint8(0x00), uint8(0), uint8(1))
	f.Add(uint64(5), uint8(5), uint8(33), uint8(6), uint8(0x11), uint8(0x00), uint8(1), uint8(2))
	// quant: 0 TFLite's fixed-point requantization, 1 fp32 (random scales), 2 fp32 with scales 0.5
	// and 0.25 and odd biases (ties).
	f.Fuzz(func(t *testing.T, seed uint64, inC, outC, hw, kernel, stride, mode, quant uint8) {
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
		switch quant % 3 {
		case 1:
			p.Mult, p.Shift, p.Scale = nil, nil, randScales(r, p.OutC, math.Sqrt(float64(k))*128*128)
		case 2:
			p.Mult, p.Shift, p.Scale = nil, nil, smallTieScales(r, p.OutC)
			p.Bias = make([]int32, p.OutC)
			for i := range p.Bias {
				p.Bias[i] = int32(2*r.IntN(1<<16) - 1<<16 + 1)
			}
			for i := range p.Weights {
				p.Weights[i] >>= 4 // smaller accumulators, within reach of the int8 range
			}
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
			checkGemm(t, r, k, 1+int(kc)%20, 1+int(ntiles)%4, int(flags)%16)
		}
	})
}

func FuzzAdd(f *testing.F) {
	f.Add(uint64(1), []byte{1, 2, 3}, []byte{200, 100, 0}, false)
	f.Add(uint64(2), []byte("0123456789abcdefghijklmnopqrstuvwxyz"), []byte("zyxwvutsrqponmlkjihgfedcba9876543210"), true)
	f.Fuzz(func(t *testing.T, seed uint64, a, b []byte, xnnpack bool) {
		n := min(len(a), len(b))
		x, y := make([]int8, n), make([]int8, n)
		for i := 0; i < n; i++ {
			x[i], y[i] = int8(a[i]), int8(b[i])
		}
		p := randAddParams(newRand(seed))
		ref := refAdd
		if xnnpack {
			p, ref = randAddXParams(newRand(seed)), addXWrapping
		}
		for _, pth := range testPaths() {
			got := make([]int8, n)
			withPath(pth, func() {
				if err := Add(got, x, y, &p); err != nil {
					t.Fatal(err)
				}
			})
			for i := range got {
				if want := ref(x[i], y[i], &p); got[i] != want {
					t.Fatalf("path %v %+v: add(%d, %d) = %d, want %d", pth, p, x[i], y[i], got[i], want)
				}
			}
		}
	})
}

// addXWrapping is XNNPACK's add in int32 arithmetic that wraps (AddParams), for parameters that are
// not NewAddParamsXNNPACK's (otherwise naiveAddX).
func addXWrapping(x, y int8, p *AddParams) int8 {
	acc := int32(uint32(p.XBias) + uint32(int32(x)*p.XMul1) + uint32(int32(y)*p.XMul2))
	q := int64(acc>>p.XShift) + int64(p.OutZero)
	return int8(max(int64(p.ActMin), min(q, int64(p.ActMax))))
}

package kernels

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestInsnHarness is a workload for counting executed instructions under qemu (README.md,
// "Measuring"): it runs one kernel or layer reps times and nothing else. Skipped unless
// EDGEINFER_INSN=workload:reps[:args] is set, e.g.
//
//	EDGEINFER_INSN=gemm4:1000:64:8   the 4-row GEMM micro-kernel, kc 64 (K 1024), 8 column tiles
//	EDGEINFER_INSN=gemm4:1000:64:8:8 the same with flags 8 (flagFP32: the fp32 epilogue)
//	EDGEINFER_INSN=gemm1:1000:64:8   the 1-row (FullyConnected) micro-kernel
//	EDGEINFER_INSN=conv1x1:2         Conv 56x56x128 -> 128, 1x1
//	EDGEINFER_INSN=conv1x1:2:0:1     the same with fp32 requantization (args: weight zero point, fp32)
//	EDGEINFER_INSN=dw3x3:2           Depthwise 3x3 stride 1, 112x112x32, SAME padding
//	EDGEINFER_INSN=dw3x3:2:0:1       the same with fp32 requantization
//	EDGEINFER_INSN=dw3x3:2:0:1:1     the same with weights in [-127, 127] (TFLite int8: dw3x3b on neon)
//	EDGEINFER_INSN=conv3x3:2:14:192:192:1  Conv 3x3 stride 1 SAME, 14x14x192 -> 192, fp32; the last
//	                                 argument 0 lets the cost model choose, 1 is direct, 2 Winograd
//
// The kernel path is the one init chose (QEMU_CPU, GODEBUG=cpu.asimddp=off).
func TestInsnHarness(t *testing.T) {
	spec := os.Getenv("EDGEINFER_INSN")
	if spec == "" {
		t.Skip("EDGEINFER_INSN not set: instruction-count workload not requested")
	}
	f := strings.Split(spec, ":")
	arg := func(i, def int) int {
		if i < len(f) {
			if v, err := strconv.Atoi(f[i]); err == nil {
				return v
			}
		}
		return def
	}
	reps := arg(1, 1)
	r := newRand(99)
	switch f[0] {
	case "gemm4", "gemm1":
		kc, ntiles := arg(2, 64), arg(3, 8)
		mr, nr, per := 4, sdotNR, sdotParams
		kern := gemmSDOT4
		if f[0] == "gemm1" {
			mr, kern = 1, gemmSDOT1
		}
		if Path() == "neon" {
			nr, per, kern = mlalNR, mlalParams, gemmMLAL4
			if mr == 1 {
				kern = gemmMLAL1
			}
		} else if Path() != "sdot" {
			t.Skip("gemm workloads need the assembly")
		}
		flags := arg(4, 0)
		a, w := randInt8s(r, kc*16*mr*mr), randInt8s(r, ntiles*kc*16*nr)
		p := make([]int32, ntiles*per)
		if flags&flagFP32 != 0 {
			for i := range p {
				p[i] = int32(math.Float32bits(0x1p-11)) // the scales, and harmless values elsewhere
			}
		}
		hdr, rs := [4]int32{0, -128, 127, 0}, [4]int32{}
		var c [4][]int8
		for m := range c {
			c[m] = make([]int8, ntiles*nr)
		}
		for i := 0; i < reps; i++ {
			kern(&a[0], kc, &w[0], &p[0], &hdr[0], &rs[0], &c[0][0], &c[1][0], &c[2][0], &c[3][0], ntiles, flags)
		}
		t.Logf("%s path %s flags %d: %d calls, %d MACs each", f[0], Path(), flags, reps, mr*16*kc*nr*ntiles)
	case "conv1x1":
		p := ConvParams{InH: 56, InW: 56, InC: 128, OutH: 56, OutW: 56, OutC: 128, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, InZero: -128, Weights: randInt8s(r, 128*128), WeightZero: []int32{0},
			Mult: []int32{1 << 30}, Shift: []int32{-10}, OutZero: -128, ActMin: -128, ActMax: 127}
		for i, w := range p.Weights {
			p.Weights[i] = max(w, -127)
		}
		if f0 := arg(2, 0); f0 != 0 { // a TF1 (uint8) layer: weight zero point
			p.WeightZero = []int32{int32(f0)}
		}
		if arg(3, 0) != 0 { // fp32 requantization, per-channel scales
			p.Mult, p.Shift, p.Scale = nil, nil, fp32Scales(128)
		}
		c, err := NewConv(p)
		if err != nil {
			t.Fatal(err)
		}
		dst, src, scratch := make([]int8, 56*56*128), randInt8s(r, 56*56*128), make([]int8, c.ScratchSize())
		for i := 0; i < reps; i++ {
			c.Run(dst, src, scratch, 0, 56)
		}
		t.Logf("conv1x1 path %s fp32 %v: %d runs, %d MACs each", c.Path(), p.Scale != nil, reps, 56*56*128*128)
	case "dw3x3":
		p := DepthwiseParams{InH: 112, InW: 112, InC: 32, OutH: 112, OutW: 112, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, Multiplier: 1, InZero: -128, Weights: randInt8s(r, 9*32),
			WeightZero: []int32{int32(arg(2, 0))}, Mult: []int32{1 << 30}, Shift: []int32{-6}, OutZero: -128, ActMin: -128, ActMax: 127}
		if arg(3, 0) != 0 {
			p.Mult, p.Shift, p.Scale = nil, nil, fp32Scales(32)
		}
		if arg(4, 0) != 0 { // symmetric int8 weights, as TFLite's int8 models have
			for i, w := range p.Weights {
				p.Weights[i] = max(w, -127)
			}
		}
		d, err := NewDepthwise(p)
		if err != nil {
			t.Fatal(err)
		}
		dst, src, scratch := make([]int8, 112*112*32), randInt8s(r, 112*112*32), make([]int8, d.ScratchSize())
		for i := 0; i < reps; i++ {
			d.Run(dst, src, scratch, 0, 112)
		}
		t.Logf("dw3x3 path %s int8 form %v fp32 %v: %d runs, %d MACs each", d.Path(), d.b8, p.Scale != nil, reps, 112*112*32*9)
	case "conv3x3":
		// args: H (= W), InC, OutC, Winograd (0 auto, 1 off, 2 force): a 3x3 stride-1 SAME layer, fp32.
		hw, inC, outC := arg(2, 14), arg(3, 192), arg(4, 192)
		p := ConvParams{InH: hw, InW: hw, InC: inC, OutH: hw, OutW: hw, OutC: outC, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, InZero: -3, Weights: randInt8s(r, outC*9*inC), WeightZero: []int32{0},
			Scale: fp32Scales(outC), OutZero: 0, ActMin: -128, ActMax: 127}
		var c *Conv
		var err error
		withWinograd(arg(5, wgAuto), func() { c, err = NewConv(p) })
		if err != nil {
			t.Fatal(err)
		}
		dst, src, scratch := make([]int8, hw*hw*outC), randInt8s(r, hw*hw*inC), make([]int8, c.ScratchSize())
		for i := 0; i < reps; i++ {
			c.Run(dst, src, scratch, 0, hw)
		}
		t.Logf("conv3x3 %dx%dx%d->%d path %s Winograd %v: %d runs, %d MACs each", hw, hw, inC, outC, c.Path(), c.Winograd(), reps, hw*hw*outC*9*inC)
	default:
		t.Fatalf("unknown workload %q", f[0])
	}
}

// fp32Scales returns n per-channel scales around 2^-11 (what Mult 2^30, Shift -10 stand for).
func fp32Scales(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 0x1p-11 * (1 + float32(i)/float32(4*n))
	}
	return s
}

package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	"golang.org/x/sys/cpu"
)

// hwSDOT and hwNEON say what this CPU (as golang.org/x/sys/cpu sees it, GODEBUG included) can run:
// on amd64 the sdot path is AVX2's.
var (
	hwNEON = haveAsm && runtime.GOARCH == "arm64" && cpu.ARM64.HasASIMD
	hwSDOT = hwNEON && cpu.ARM64.HasASIMDDP || haveAsm && runtime.GOARCH == "amd64" && cpu.X86.HasAVX2
	hwVNNI = hwSDOT && runtime.GOARCH == "amd64" && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VL
)

// testPaths lists the paths this machine can run: the generic twins always, the assembly paths when
// built and supported by the CPU.
func testPaths() []path {
	if useSDOT != hwSDOT || useNEON != hwNEON {
		panic("kernels: dispatch variables differ from golang.org/x/sys/cpu at test start")
	}
	ps := []path{pathGeneric}
	if haveAsm && hwNEON {
		ps = append(ps, pathNEON)
	}
	if haveAsm && hwSDOT {
		ps = append(ps, pathSDOT)
	}
	return ps
}

// withPath runs f with the dispatch variables set to select p.
func withPath(p path, f func()) {
	defer func(s, n bool) { useSDOT, useNEON = s, n }(useSDOT, useNEON)
	useSDOT, useNEON = p == pathSDOT, p != pathGeneric
	f()
}

// scale returns the test size multiplier: EDGEINFER_KERNELS_SCALE (default 1) times fewer cases
// under -short.
func scale(t testing.TB, n int) int {
	if s, err := strconv.Atoi(os.Getenv("EDGEINFER_KERNELS_SCALE")); err == nil && s > 0 {
		n *= s
	}
	if testing.Short() {
		n = max(n/4, 1)
	}
	return n
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6b65726e656c73)) }

func randInt8s(r *rand.Rand, n int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(r.Uint32())
	}
	return s
}

const guardLen = 64

// guarded is a buffer with guard bands on both sides and an arbitrary offset of the data.
type guarded struct {
	all  []int8
	lo   int
	n    int
	fill int8
}

func newGuarded(r *rand.Rand, n int) *guarded {
	off := r.IntN(8)
	g := &guarded{all: make([]int8, n+off+2*guardLen), lo: guardLen + off, n: n, fill: int8(r.Uint32())}
	for i := range g.all {
		g.all[i] = g.fill
	}
	return g
}

func (g *guarded) data() []int8 { return g.all[g.lo : g.lo+g.n : g.lo+g.n] }

// check fails if a byte outside the data was written.
func (g *guarded) check(t testing.TB, what string) {
	t.Helper()
	for i, v := range g.all {
		if (i < g.lo || i >= g.lo+g.n) && v != g.fill {
			t.Fatalf("%s: byte %d outside the buffer written (%d)", what, i-g.lo, v)
		}
	}
}

// randQuant returns a multiplier and shift for an accumulator of typical magnitude accScale, so that
// outputs are mostly in range; now and then an extreme one (left shifts, tiny or huge multipliers).
func randQuant(r *rand.Rand, accScale float64) (int32, int32) {
	switch r.IntN(20) {
	case 0:
		return int32(r.Uint32() >> 1), int32(r.IntN(8)) // left shift
	case 1:
		return int32(r.Uint32() >> 1), int32(-r.IntN(32))
	case 2:
		return 0, 0
	case 3:
		return math.MaxInt32, int32(r.IntN(5) - 2)
	}
	real := math.Exp(r.Float64()*4-2) * 64 / accScale
	m, s := fixedpoint.QuantizeMultiplier(real)
	if m == 0 {
		m, s = 1<<30, 0
	}
	return m, int32(s)
}

// randScale returns a float32 requantization scale (ConvParams.Scale): mostly one that maps an
// accumulator of typical magnitude accScale into the int8 range; sometimes 0.5 or 0.25 (odd
// accumulators then land on exact ties), another power of two, or an extreme (the smallest
// subnormal, the largest float32, 1, XNNPACK's limits).
func randScale(r *rand.Rand, accScale float64) float32 {
	switch r.IntN(16) {
	case 0:
		return []float32{0.5, 0.25}[r.IntN(2)]
	case 1:
		return float32(math.Ldexp(1, -r.IntN(32)))
	case 2:
		return []float32{math.SmallestNonzeroFloat32, math.MaxFloat32, 1, 0x1p-32, 255.99998}[r.IntN(5)]
	}
	return float32(math.Exp(r.Float64()*4-2) * 64 / accScale)
}

// randScales returns n scales (or 1 for all) for accumulators of typical magnitude accScale.
func randScales(r *rand.Rand, n int, accScale float64) []float32 {
	if r.IntN(3) == 0 {
		n = 1
	}
	s := make([]float32, n)
	for i := range s {
		s[i] = randScale(r, accScale)
	}
	return s
}

// naiveFP32 is XNNPACK's fp32 requantization written as ConvParams states it: the float32 product,
// rounded half to even, plus the zero point, clamped (in float64, where nothing overflows).
func naiveFP32(acc int32, scale float32, oz, lo, hi int32) int8 {
	v := float32(acc) * scale
	q := math.RoundToEven(float64(v)) + float64(oz)
	return int8(max(float64(lo), min(q, float64(hi))))
}

func randActRange(r *rand.Rand) (int32, int32, int32) {
	oz := int32(r.IntN(256) - 128)
	lo, hi := int32(-128), int32(127)
	if r.IntN(3) == 0 {
		lo = oz // ReLU
	}
	if r.IntN(4) == 0 {
		hi = min(127, lo+int32(r.IntN(128)))
	}
	return oz, lo, hi
}

// naiveConv computes the convolution from its defining formula (ConvParams).
func naiveConv(p *ConvParams, src []int8) []int8 {
	return naiveRequant(naiveConvAcc(p, src), p.OutC, p.Mult, p.Shift, p.Scale, p.OutZero, p.ActMin, p.ActMax)
}

// naiveConvAcc computes the convolution's accumulators (ConvParams, acc).
func naiveConvAcc(p *ConvParams, src []int8) []int32 {
	out := make([]int32, p.OutH*p.OutW*p.OutC)
	k := p.KH * p.KW * p.InC
	for oy := 0; oy < p.OutH; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			for oc := 0; oc < p.OutC; oc++ {
				var acc int32
				if p.Bias != nil {
					acc = p.Bias[oc]
				}
				wz := at(p.WeightZero, oc)
				for ky := 0; ky < p.KH; ky++ {
					for kx := 0; kx < p.KW; kx++ {
						iy := oy*p.StrideH - p.PadTop + ky*p.DilH
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilW
						if iy < 0 || iy >= p.InH || ix < 0 || ix >= p.InW {
							continue
						}
						for ic := 0; ic < p.InC; ic++ {
							in := int32(src[(iy*p.InW+ix)*p.InC+ic]) - p.InZero
							w := int32(p.Weights[oc*k+(ky*p.KW+kx)*p.InC+ic]) - wz
							acc += in * w
						}
					}
				}
				out[(oy*p.OutW+ox)*p.OutC+oc] = acc
			}
		}
	}
	return out
}

// naiveRequant maps accumulators (channel innermost, nout channels) to int8 outputs: TFLite's
// MultiplyByQuantizedMultiplier, or XNNPACK's fp32 form when scale is set (naiveFP32).
func naiveRequant(acc []int32, nout int, mult, shift []int32, scale []float32, oz, lo, hi int32) []int8 {
	out := make([]int8, len(acc))
	for i, a := range acc {
		oc := i % nout
		if scale != nil {
			out[i] = naiveFP32(a, atF(scale, oc), oz, lo, hi)
			continue
		}
		v := fixedpoint.MultiplyByQuantizedMultiplier(a, at(mult, oc), int(at(shift, oc))) + oz
		out[i] = int8(fixedpoint.Clamp(v, lo, hi))
	}
	return out
}

func mulQ(x, m int32, shift int) int32 { return fixedpoint.MultiplyByQuantizedMultiplier(x, m, shift) }

package runtime

import (
	"math"
	"math/bits"
	"slices"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpAveragePool2D] = preparePool
	preparers[models.OpMaxPool2D] = preparePool
	preparers[models.OpMean] = prepareMean
}

type poolParams struct {
	convGeom
	lo, hi      int32
	roundHalfUp bool
}

func preparePool(c *opContext, p *preparedOp) error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	in, out := c.input(0), c.output(0)
	if err := c.rank("input", in, 4); err != nil {
		return err
	}
	if in.Shape[0] != 1 {
		return c.unsupported("batch %d; batch 1 only", in.Shape[0])
	}
	inScale, inZero, err := c.quantized("input", in)
	if err != nil {
		return err
	}
	outScale, outZero, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	if inScale != outScale || inZero != outZero {
		return c.unsupported("input and output quantization differ (%g/%d vs %g/%d)", inScale, inZero, outScale, outZero)
	}
	if c.op.Dilation[0] > 1 || c.op.Dilation[1] > 1 {
		return c.unsupported("dilated pooling")
	}
	g, err := c.geometry(in, c.op.Kernel[0], c.op.Kernel[1])
	if err != nil {
		return err
	}
	g.outC = g.inC
	if err := c.wantShape(out, []int{1, g.outH, g.outW, g.outC}); err != nil {
		return err
	}
	pp := &poolParams{convGeom: g, roundHalfUp: c.op.UInt8Rounding}
	if pp.lo, pp.hi, err = c.outputRange(outScale, outZero); err != nil {
		return err
	}
	src, dst := in.Int8s(), out.Int8s()
	// A window over the whole input without padding is a global average pooling.
	if c.op.Type == models.OpAveragePool2D && !c.opt.Generic &&
		g.outH == 1 && g.outW == 1 && g.kh == g.inH && g.kw == g.inW && c.op.Pad == [4]int{} && g.inH*g.inW <= 1<<23 {
		kp := &kernels.PoolParams{H: g.inH, W: g.inW, C: g.inC, ActMin: pp.lo, ActMax: pp.hi, RoundHalfUp: pp.roundHalfUp}
		p.kernel = "pool-" + kernelName(kernels.Path())
		p.run = func() { kernels.GlobalAveragePool(dst, src, kp) }
		return nil
	}
	if c.op.Type == models.OpMaxPool2D {
		p.run = func() { maxPoolGeneric(pp, dst, src) }
	} else {
		p.run = func() { avgPoolGeneric(pp, dst, src) }
	}
	return nil
}

// window clips the pooling window of output (oy, ox) to the input.
func (g *convGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	iy, ix := oy*g.sh-g.padTop, ox*g.sw-g.padLeft
	return max(iy, 0), min(iy+g.kh, g.inH), max(ix, 0), min(ix+g.kw, g.inW)
}

// avgPoolGeneric is reference_integer_ops::AveragePool: the mean of the in-bounds values, rounded
// half away from zero (half up for models converted from uint8: reference_ops::AveragePool).
func avgPoolGeneric(p *poolParams, dst, src []int8) {
	for oy := 0; oy < p.outH; oy++ {
		for ox := 0; ox < p.outW; ox++ {
			y0, y1, x0, x1 := p.window(oy, ox)
			count := int32((y1 - y0) * (x1 - x0))
			o := dst[(oy*p.outW+ox)*p.outC:][:p.outC]
			for ch := range o {
				var sum int32
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						sum += int32(src[(y*p.inW+x)*p.inC+ch])
					}
				}
				if count == 0 {
					o[ch] = int8(fixedpoint.Clamp(0, p.lo, p.hi))
					continue
				}
				if p.roundHalfUp {
					// floor((sum + count/2) / count) with floor division: the uint8 kernel's
					// (acc + count/2) / count on the values shifted by 128.
					sum = floorDiv(sum+count/2, count)
				} else if sum > 0 {
					sum = (sum + count/2) / count
				} else {
					sum = (sum - count/2) / count
				}
				o[ch] = int8(fixedpoint.Clamp(sum, p.lo, p.hi))
			}
		}
	}
}

// maxPoolGeneric is reference_integer_ops::MaxPool.
func maxPoolGeneric(p *poolParams, dst, src []int8) {
	for oy := 0; oy < p.outH; oy++ {
		for ox := 0; ox < p.outW; ox++ {
			y0, y1, x0, x1 := p.window(oy, ox)
			o := dst[(oy*p.outW+ox)*p.outC:][:p.outC]
			for ch := range o {
				m := int32(-128)
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						m = max(m, int32(src[(y*p.inW+x)*p.inC+ch]))
					}
				}
				o[ch] = int8(fixedpoint.Clamp(m, p.lo, p.hi))
			}
		}
	}
}

// meanParams reduce the middle of an [outer, reduced, inner] view of the input: the axes must be
// contiguous (global pooling over H and W of NHWC is axes 1,2).
type meanParams struct {
	outer, reduced, inner int
	inZero, outZero       int32
	mult                  int32
	shift                 int
	// xnnpack selects XNNPACK's global average pooling (meanXNNPACK); scale is its scale, or
	// meanFloat's.
	xnnpack bool
	scale   float32
	sums    []int32 // meanXNNPACK's scratch: the inner sums of one outer index
}

func prepareMean(c *opContext, p *preparedOp) error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	in, out := c.input(0), c.output(0)
	inScale, inZero, err := c.quantized("input", in)
	if err != nil {
		return err
	}
	outScale, outZero, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	axes := slices.Clone(c.op.Axes)
	slices.Sort(axes)
	axes = slices.Compact(axes)
	if len(axes) == 0 {
		return c.errorf("no axes to reduce")
	}
	for i, a := range axes {
		if a < 0 || a >= len(in.Shape) {
			return c.errorf("axis %d out of range for input shape %v", a, in.Shape)
		}
		if i > 0 && a != axes[i-1]+1 {
			return c.unsupported("non-contiguous reduction axes %v", c.op.Axes)
		}
	}
	mp := &meanParams{outer: 1, reduced: 1, inner: 1, inZero: inZero, outZero: outZero}
	var want []int
	for d, n := range in.Shape {
		switch {
		case d < axes[0]:
			mp.outer *= n
		case d > axes[len(axes)-1]:
			mp.inner *= n
		default:
			mp.reduced *= n
			if c.op.KeepDims {
				want = append(want, 1)
			}
			continue
		}
		want = append(want, n)
	}
	if err := c.wantShape(out, want); err != nil {
		return err
	}
	if mp.reduced == 0 {
		return c.errorf("reduces an empty axis of %v", in.Shape)
	}
	// TFLite's QuantizedMeanOrSum: the multiplier of in/out scales absorbs 1/count.
	m, s := fixedpoint.QuantizeMultiplier(float64(inScale) / float64(outScale))
	shift := 63 - bits.LeadingZeros64(uint64(mp.reduced))
	shift = min(shift, 32, 31+s)
	mp.mult = int32((int64(m) << shift) / int64(mp.reduced))
	mp.shift = s - shift
	src, dst := in.Int8s(), out.Int8s()
	if c.opt.Requantization == XNNPACK {
		p.run = c.meanTFLite(mp, in, axes, inScale, outScale, dst, src)
		return nil
	}
	p.run = func() { meanGeneric(mp, dst, src) }
	return nil
}

// meanTFLite chooses what TensorFlow Lite (2.12, with its XNNPACK delegate) runs for an int8 MEAN,
// as measured in runtime/tfliteref_test.go:
//
//   - a 4-D tensor over its two spatial axes, or over the width alone, keep_dims or not: XNNPACK's
//     global average pooling (2-D or 1-D), which XNNPACK creates for input-to-output scale ratios in
//     [2^-8, 2^8) only (meanXNNPACK);
//   - otherwise, with the input quantized as the output: reference_ops::Mean, the sum of the
//     quantized values divided by the count in C integer division, which truncates (meanTrunc);
//   - otherwise: QuantizedMeanOrSum of that version, in float32 (meanFloat).
//
// The global average pooling declined by XNNPACK over axes 1 and 2 with keep_dims runs TensorFlow
// Lite's optimized_integer_ops::Mean, not reproduced: meanGeneric. For models converted from uint8
// (Op.UInt8Rounding) the truncating division of TensorFlow Lite's uint8 kernel is a floor in int8
// terms (meanFloor).
func (c *opContext) meanTFLite(mp *meanParams, in *Tensor, axes []int, inScale, outScale float32, dst, src []int8) func() {
	ratio := inScale / outScale
	if len(in.Shape) == 4 && (slices.Equal(axes, []int{1, 2}) || slices.Equal(axes, []int{2})) &&
		ratio >= 0x1p-8 && ratio < 0x1p8 {
		mp.xnnpack = true
		mp.scale = inScale / (outScale * float32(mp.reduced))
		if c.opt.Generic {
			return func() { meanXNNPACKGeneric(mp, dst, src) }
		}
		mp.sums = make([]int32, mp.inner)
		return func() { meanXNNPACK(mp, dst, src) }
	}
	if inScale == outScale && mp.inZero == mp.outZero {
		if c.op.UInt8Rounding {
			return func() { meanFloor(mp, dst, src) }
		}
		return func() { meanTrunc(mp, dst, src) }
	}
	if c.op.KeepDims && len(in.Shape) == 4 && slices.Equal(axes, []int{1, 2}) {
		return func() { meanGeneric(mp, dst, src) }
	}
	mp.scale = ratio
	return func() { meanFloat(mp, dst, src) }
}

// meanFloor is reference_ops::Mean on uint8 values seen in int8: Σ in / n, rounded toward -infinity
// (the uint8 sum is never negative, so its truncation is a floor, and shifting by 128 keeps it one).
func meanFloor(p *meanParams, dst, src []int8) {
	n := int32(p.reduced)
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			var sum int32
			for r := 0; r < p.reduced; r++ {
				sum += int32(src[(o*p.reduced+r)*p.inner+i])
			}
			dst[o*p.inner+i] = int8(fixedpoint.Clamp(floorDiv(sum, n), -128, 127))
		}
	}
}

// meanTrunc is reference_ops::Mean on quantized values: Σ in / n, truncated toward zero.
func meanTrunc(p *meanParams, dst, src []int8) {
	n := int32(p.reduced)
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			var sum int32
			for r := 0; r < p.reduced; r++ {
				sum += int32(src[(o*p.reduced+r)*p.inner+i])
			}
			dst[o*p.inner+i] = int8(fixedpoint.Clamp(sum/n, -128, 127))
		}
	}
}

// meanFloat is TensorFlow Lite 2.12's QuantizedMeanOrSum for a mean, in float32 (scale is
// inScale/outScale): out = roundHalfAwayFromZero(float32(Σ in)/n * scale - inZero*scale) + outZero,
// clamped.
func meanFloat(p *meanParams, dst, src []int8) {
	n := float32(p.reduced)
	bias := -float32(p.inZero) * p.scale
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			var sum int32
			for r := 0; r < p.reduced; r++ {
				sum += int32(src[(o*p.reduced+r)*p.inner+i])
			}
			// The conversions round each product to float32, as C++ does (no fused multiply-add).
			v := float32(float32(float32(sum)/n)*p.scale) + bias
			q := int32(math.Round(float64(v))) + p.outZero
			dst[o*p.inner+i] = int8(fixedpoint.Clamp(q, -128, 127))
		}
	}
}

// meanXNNPACKGeneric is XNNPACK's QS8 global average pooling with fp32 requantization
// (qs8-gavgpool-minmax-fp32, the variant of x86 and WebAssembly; Arm builds use rndnu):
// out = clamp(roundHalfEven(float32(Σ in - n*inZero) * scale) + outZero) with
// scale = inScale / (outScale * n) in float32.
//
// This is the generic form; meanXNNPACK sums the channels innermost.
func meanXNNPACKGeneric(p *meanParams, dst, src []int8) {
	bias := -p.inZero * int32(p.reduced)
	lo, hi := float32(-128-p.outZero), float32(127-p.outZero)
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			acc := bias
			for r := 0; r < p.reduced; r++ {
				acc += int32(src[(o*p.reduced+r)*p.inner+i])
			}
			v := min(max(float32(acc)*p.scale, lo), hi)
			dst[o*p.inner+i] = int8(int32(math.RoundToEven(float64(v))) + p.outZero)
		}
	}
}

// meanXNNPACK is meanXNNPACKGeneric with the sums taken channels innermost (kernels.SumChannels:
// SADDW on arm64) into p.sums.
func meanXNNPACK(p *meanParams, dst, src []int8) {
	bias := -p.inZero * int32(p.reduced)
	lo, hi := float32(-128-p.outZero), float32(127-p.outZero)
	sums := p.sums[:p.inner]
	for o := 0; o < p.outer; o++ {
		kernels.SumChannels(sums, src[o*p.reduced*p.inner:], p.reduced, p.inner)
		out := dst[o*p.inner:][:p.inner]
		for i, s := range sums {
			v := min(max(float32(s+bias)*p.scale, lo), hi)
			out[i] = int8(int32(math.RoundToEven(float64(v))) + p.outZero)
		}
	}
}

func meanGeneric(p *meanParams, dst, src []int8) {
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			var sum int32
			for r := 0; r < p.reduced; r++ {
				sum += int32(src[(o*p.reduced+r)*p.inner+i])
			}
			sum -= p.inZero * int32(p.reduced)
			v := fixedpoint.MultiplyByQuantizedMultiplier(sum, p.mult, p.shift) + p.outZero
			dst[o*p.inner+i] = int8(fixedpoint.Clamp(v, -128, 127))
		}
	}
}

// floorDiv divides rounding toward -infinity.
func floorDiv(a, b int32) int32 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

package runtime

import (
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
	pp := &poolParams{convGeom: g, roundHalfUp: c.op.RoundHalfUp}
	if pp.lo, pp.hi, err = c.outputRange(outScale, outZero); err != nil {
		return err
	}
	src, dst := in.Int8s(), out.Int8s()
	// A window over the whole input without padding is a global average pooling.
	if c.op.Type == models.OpAveragePool2D && !c.opt.Generic && !pp.roundHalfUp &&
		g.outH == 1 && g.outW == 1 && g.kh == g.inH && g.kw == g.inW && c.op.Pad == [4]int{} && g.inH*g.inW <= 1<<23 {
		kp := &kernels.PoolParams{H: g.inH, W: g.inW, C: g.inC, ActMin: pp.lo, ActMax: pp.hi}
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
	p.run = func() { meanGeneric(mp, dst, src) }
	return nil
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

package runtime

import (
	"slices"

	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpConv2D] = prepareConv
	preparers[models.OpDepthwiseConv2D] = prepareDepthwise
	preparers[models.OpFullyConnected] = prepareFullyConnected
}

// convGeom is the geometry shared by convolutions and pooling.
type convGeom struct {
	inH, inW, inC    int
	outH, outW, outC int
	kh, kw           int
	sh, sw, dh, dw   int
	padTop, padLeft  int
}

// outSize is the output extent of a window of k (dilated by d) sliding with stride s over in
// padded by before+after.
func outSize(in, k, s, d, before, after int) int {
	eff := (k-1)*d + 1
	span := in + before + after - eff
	if span < 0 {
		return 0
	}
	return span/s + 1
}

// geometry checks the op's window attributes against an NHWC input and computes the output size.
func (c *opContext) geometry(in *Tensor, kh, kw int) (convGeom, error) {
	g := convGeom{inH: in.Shape[1], inW: in.Shape[2], inC: in.Shape[3], kh: kh, kw: kw,
		sh: stride(c.op.Stride[0]), sw: stride(c.op.Stride[1]), dh: stride(c.op.Dilation[0]), dw: stride(c.op.Dilation[1]),
		padTop: c.op.Pad[0], padLeft: c.op.Pad[1]}
	for _, p := range c.op.Pad {
		if p < 0 || p > 1<<16 {
			return g, c.errorf("invalid padding %v", c.op.Pad)
		}
	}
	if g.sh > 1<<16 || g.sw > 1<<16 || g.dh > 1<<16 || g.dw > 1<<16 || kh <= 0 || kw <= 0 {
		return g, c.errorf("invalid window %dx%d stride %v dilation %v", kh, kw, c.op.Stride, c.op.Dilation)
	}
	g.outH = outSize(g.inH, kh, g.sh, g.dh, c.op.Pad[0], c.op.Pad[2])
	g.outW = outSize(g.inW, kw, g.sw, g.dw, c.op.Pad[1], c.op.Pad[3])
	if g.outH == 0 || g.outW == 0 {
		return g, c.errorf("window %dx%d (dilation %v, padding %v) is larger than the input %dx%d", kh, kw, c.op.Dilation, c.op.Pad, g.inH, g.inW)
	}
	return g, nil
}

// convParams are the prepared parameters of a convolution (regular or depthwise).
type convParams struct {
	convGeom
	mult   int // depth multiplier (depthwise)
	inZero int32
	bias   []int32
	q      *channelQuant
}

func (c *opContext) convCommon(in, w, out *Tensor, outC, wAxis int) (inScale, outScale float32, p convParams, err error) {
	inScale, p.inZero, err = c.quantized("input", in)
	if err != nil {
		return
	}
	outScale, outZero, err := c.quantized("output", out)
	if err != nil {
		return
	}
	lo, hi, err := c.outputRange(outScale, outZero)
	if err != nil {
		return
	}
	if p.q, err = c.filterQuant(w, wAxis, outC, inScale, outScale); err != nil {
		return
	}
	p.q.outZero, p.q.lo, p.q.hi = outZero, lo, hi
	// TensorFlow Lite's XNNPACK delegate takes no CONV_2D or DEPTHWISE_CONV_2D without a bias
	// ("unsupported ... node without bias"): TensorFlow Lite's own kernel, which requantizes like the
	// reference, runs it (its quantized CONV_2D even requires a bias; DEPTHWISE_CONV_2D does not).
	// Measured on a depthwise convolution in runtime/tfliteref_test.go. FULLY_CONNECTED without a
	// bias stays with XNNPACK.
	if c.input(2) == nil && c.op.Type != models.OpFullyConnected {
		p.q.fp32 = false
	}
	p.bias, err = c.bias(2, outC)
	return
}

func prepareConv(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	in, w, out := c.input(0), c.input(1), c.output(0)
	if err := c.rank("input", in, 4); err != nil {
		return err
	}
	if err := c.rank("filter", w, 4); err != nil {
		return err
	}
	if in.Shape[0] != 1 {
		return c.unsupported("batch %d; batch 1 only", in.Shape[0])
	}
	if w.Shape[3] != in.Shape[3] {
		return c.errorf("filter %q has shape %v (OHWI) for %d input channels", w.Name, w.Shape, in.Shape[3])
	}
	g, err := c.geometry(in, w.Shape[1], w.Shape[2])
	if err != nil {
		return err
	}
	g.outC = w.Shape[0]
	if err := c.wantShape(out, []int{1, g.outH, g.outW, g.outC}); err != nil {
		return err
	}
	_, _, cp, err := c.convCommon(in, w, out, g.outC, 0)
	if err != nil {
		return err
	}
	cp.convGeom = g
	p.macs = int64(g.outH) * int64(g.outW) * int64(g.outC) * int64(g.kh*g.kw*g.inC)
	src, wt, dst := in.Int8s(), w.Int8s(), out.Int8s()
	if k, ok := c.fastConv(&cp, wt); ok {
		it := c.it
		p.kernel = "gemm-" + kernelName(k.Path())
		if k.Winograd() {
			p.kernel = "winograd-" + kernelName(k.Path())
		}
		// By output pixels, in whole blocks of SplitAlign: panels of 4 pixels (rows would split a
		// 7×7 or 14×14 layer 2:2:2:1 or 4:3:4:3 over four workers, scripts/balance), or Winograd's
		// tile rows of 2 output rows, so that no tile row is computed twice.
		pixels, align := k.Pixels(), k.SplitAlign()
		p.parts = func(part, n int) {
			m0, m1 := spanAligned(pixels, part, n, align)
			k.RunPixels(dst, src, it.scratch[part], m0, m1)
		}
		return nil
	}
	p.parts = func(part, n int) {
		y0, y1 := span(g.outH, part, n)
		convGeneric(&cp, dst, src, wt, y0, y1)
	}
	return nil
}

// convGeneric is the reference convolution (TFLite reference_integer_ops::ConvPerChannel, with the
// filter zero point of reference_ops::Conv for models converted from uint8):
//
//	acc = bias[oc] + Σ_{ky,kx,ic in bounds} (in[iy,ix,ic] - inZero) * (w[oc,ky,kx,ic] - wZero[oc])
//	out = clamp(MultiplyByQuantizedMultiplier(acc, mult[oc], shift[oc]) + outZero, lo, hi)   (Reference)
//	out = clamp(roundHalfEven(float32(acc) * scale[oc]) + outZero, lo, hi)                   (XNNPACK)
//
// for output rows [y0, y1).
func convGeneric(p *convParams, dst, src, w []int8, y0, y1 int) {
	inRow := p.inW * p.inC
	kSize := p.kh * p.kw * p.inC
	for oy := y0; oy < y1; oy++ {
		iy0 := oy*p.sh - p.padTop
		for ox := 0; ox < p.outW; ox++ {
			ix0 := ox*p.sw - p.padLeft
			o := dst[(oy*p.outW+ox)*p.outC:][:p.outC]
			for oc := range o {
				acc := p.bias[oc]
				wz := p.q.weightZero[oc]
				wc := w[oc*kSize:][:kSize]
				for ky := 0; ky < p.kh; ky++ {
					iy := iy0 + ky*p.dh
					if iy < 0 || iy >= p.inH {
						continue
					}
					for kx := 0; kx < p.kw; kx++ {
						ix := ix0 + kx*p.dw
						if ix < 0 || ix >= p.inW {
							continue
						}
						x := src[iy*inRow+ix*p.inC:][:p.inC]
						acc += dotOffset(x, wc[(ky*p.kw+kx)*p.inC:][:p.inC], p.inZero, wz)
					}
				}
				o[oc] = p.q.requantize(acc, oc)
			}
		}
	}
}

// dotOffset returns Σ (x[i] - xz) * (w[i] - wz).
func dotOffset(x, w []int8, xz, wz int32) int32 {
	w = w[:len(x)]
	var s int32
	for i, v := range x {
		s += (int32(v) - xz) * (int32(w[i]) - wz)
	}
	return s
}

func prepareDepthwise(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	in, w, out := c.input(0), c.input(1), c.output(0)
	if err := c.rank("input", in, 4); err != nil {
		return err
	}
	if err := c.rank("filter", w, 4); err != nil {
		return err
	}
	if in.Shape[0] != 1 {
		return c.unsupported("batch %d; batch 1 only", in.Shape[0])
	}
	m := stride(c.op.DepthMultiplier)
	if w.Shape[0] != 1 || w.Shape[3] != in.Shape[3]*m {
		return c.errorf("filter %q has shape %v, want [1,KH,KW,%d] for %d input channels and depth multiplier %d", w.Name, w.Shape, in.Shape[3]*m, in.Shape[3], m)
	}
	g, err := c.geometry(in, w.Shape[1], w.Shape[2])
	if err != nil {
		return err
	}
	g.outC = w.Shape[3]
	if err := c.wantShape(out, []int{1, g.outH, g.outW, g.outC}); err != nil {
		return err
	}
	_, _, cp, err := c.convCommon(in, w, out, g.outC, 3)
	if err != nil {
		return err
	}
	cp.convGeom, cp.mult = g, m
	p.macs = int64(g.outH) * int64(g.outW) * int64(g.outC) * int64(g.kh*g.kw)
	src, wt, dst := in.Int8s(), w.Int8s(), out.Int8s()
	if k, ok := c.fastDepthwise(&cp, wt); ok {
		it := c.it
		p.kernel = "dw-" + kernelName(k.Path())
		p.parts = func(part, n int) {
			y0, y1 := span(g.outH, part, n)
			k.Run(dst, src, it.scratch[part], y0, y1)
		}
		return nil
	}
	p.parts = func(part, n int) {
		y0, y1 := span(g.outH, part, n)
		depthwiseGeneric(&cp, dst, src, wt, y0, y1)
	}
	return nil
}

// depthwiseGeneric is the reference depthwise convolution (reference_integer_ops::DepthwiseConvPerChannel):
// output channel oc = ic*mult + m reads input channel ic only.
func depthwiseGeneric(p *convParams, dst, src, w []int8, y0, y1 int) {
	inRow := p.inW * p.inC
	for oy := y0; oy < y1; oy++ {
		iy0 := oy*p.sh - p.padTop
		for ox := 0; ox < p.outW; ox++ {
			ix0 := ox*p.sw - p.padLeft
			o := dst[(oy*p.outW+ox)*p.outC:][:p.outC]
			for oc := range o {
				ic := oc / p.mult
				acc := p.bias[oc]
				wz := p.q.weightZero[oc]
				for ky := 0; ky < p.kh; ky++ {
					iy := iy0 + ky*p.dh
					if iy < 0 || iy >= p.inH {
						continue
					}
					for kx := 0; kx < p.kw; kx++ {
						ix := ix0 + kx*p.dw
						if ix < 0 || ix >= p.inW {
							continue
						}
						x := int32(src[iy*inRow+ix*p.inC+ic]) - p.inZero
						acc += x * (int32(w[(ky*p.kw+kx)*p.outC+oc]) - wz)
					}
				}
				o[oc] = p.q.requantize(acc, oc)
			}
		}
	}
}

func prepareFullyConnected(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	in, w, out := c.input(0), c.input(1), c.output(0)
	if err := c.rank("weights", w, 2); err != nil {
		return err
	}
	nOut, depth := w.Shape[0], w.Shape[1]
	if depth == 0 || in.NumElements()%depth != 0 {
		return c.errorf("input %q shape %v does not split into rows of %d (weights %v)", in.Name, in.Shape, depth, w.Shape)
	}
	batches := in.NumElements() / depth
	// keep_num_dims: tokens [N, T, I] give [N, T, O] (the leading dimensions kept).
	keep := len(in.Shape) > 2 && in.Shape[len(in.Shape)-1] == depth && len(out.Shape) == len(in.Shape)
	if keep {
		want := append(slices.Clone(in.Shape[:len(in.Shape)-1]), nOut)
		if err := c.wantShape(out, want); err != nil {
			return err
		}
	} else if err := c.wantShape(out, []int{batches, nOut}); err != nil {
		return err
	}
	_, _, cp, err := c.convCommon(in, w, out, nOut, 0)
	if err != nil {
		return err
	}
	cp.inC, cp.outC, cp.outH = depth, nOut, batches
	p.macs = int64(batches) * int64(nOut) * int64(depth)
	src, wt, dst := in.Int8s(), w.Int8s(), out.Int8s()
	if k, ok := c.fastFullyConnected(&cp, wt); ok {
		it := c.it
		p.kernel = "gemm-" + kernelName(k.Path())
		p.run = func() { k.Run(dst, src, it.scratch[0], 0, batches) }
		return nil
	}
	p.parts = func(part, n int) {
		o0, o1 := span(nOut, part, n)
		fullyConnectedGeneric(&cp, dst, src, wt, o0, o1)
	}
	return nil
}

// fullyConnectedGeneric is reference_integer_ops::FullyConnected (per-channel when the weights are):
// out[b,o] = requant(bias[o] + Σ_i (in[b,i] - inZero) * (w[o,i] - wZero[o])), for o in [o0, o1).
func fullyConnectedGeneric(p *convParams, dst, src, w []int8, o0, o1 int) {
	for b := 0; b < p.outH; b++ {
		x := src[b*p.inC:][:p.inC]
		for o := o0; o < o1; o++ {
			acc := p.bias[o] + dotOffset(x, w[o*p.inC:][:p.inC], p.inZero, p.q.weightZero[o])
			dst[b*p.outC+o] = p.q.requantize(acc, o)
		}
	}
}

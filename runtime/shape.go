package runtime

import (
	"math"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpReshape] = prepareReshape
	preparers[models.OpConcatenation] = prepareConcat
	preparers[models.OpPad] = preparePad
}

func sameQuant(a, b *Tensor) bool {
	if (a.Quant == nil) != (b.Quant == nil) {
		return false
	}
	if a.Quant == nil {
		return true
	}
	return len(a.Quant.Scale) == 1 && len(b.Quant.Scale) == 1 && a.Quant.Scale[0] == b.Quant.Scale[0] && a.Quant.ZeroAt(0) == b.Quant.ZeroAt(0)
}

func prepareReshape(c *opContext, p *preparedOp) error {
	if len(c.op.Inputs) < 1 || len(c.op.Outputs) != 1 || c.op.Inputs[0] < 0 {
		return c.errorf("needs one input and one output")
	}
	in, out := c.input(0), c.output(0)
	if in.NumElements() != out.NumElements() {
		return c.errorf("reshapes %v (%d elements) to %v (%d elements)", in.Shape, in.NumElements(), out.Shape, out.NumElements())
	}
	if in.Type != out.Type || !sameQuant(in, out) {
		return c.errorf("input and output types or quantization differ")
	}
	src, dst := in.data, out.data
	p.run = func() { copy(dst, src) }
	return nil
}

// concatParams hold, for each input, its size along the axis and its requantization (when its
// scale or zero point differs from the output's: reference_ops::ConcatenationWithScaling).
type concatParams struct {
	outer, inner int
	srcs         [][]int8
	sizes        []int
	rescale      []bool
	scale, bias  []float32
	outZero      int32
}

func prepareConcat(c *opContext, p *preparedOp) error {
	if len(c.op.Inputs) < 1 || len(c.op.Outputs) != 1 {
		return c.errorf("needs inputs and one output")
	}
	out := c.output(0)
	axis := c.op.Axis
	if axis < 0 || axis >= len(out.Shape) {
		return c.errorf("axis %d out of range for output shape %v", axis, out.Shape)
	}
	outScale, outZero, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	cp := &concatParams{outer: 1, inner: 1, outZero: outZero}
	for d := 0; d < axis; d++ {
		cp.outer *= out.Shape[d]
	}
	for d := axis + 1; d < len(out.Shape); d++ {
		cp.inner *= out.Shape[d]
	}
	total := 0
	for k := range c.op.Inputs {
		in := c.input(k)
		if in == nil {
			return c.errorf("input %d is absent", k)
		}
		if len(in.Shape) != len(out.Shape) {
			return c.errorf("input %q shape %v and output shape %v differ in rank", in.Name, in.Shape, out.Shape)
		}
		for d := range in.Shape {
			if d != axis && in.Shape[d] != out.Shape[d] {
				return c.errorf("input %q shape %v does not match output %v outside axis %d", in.Name, in.Shape, out.Shape, axis)
			}
		}
		s, z, err := c.quantized("input", in)
		if err != nil {
			return err
		}
		total += in.Shape[axis]
		scale := s / outScale
		cp.srcs = append(cp.srcs, in.Int8s())
		cp.sizes = append(cp.sizes, in.Shape[axis]*cp.inner)
		cp.rescale = append(cp.rescale, s != outScale || z != outZero)
		cp.scale = append(cp.scale, scale)
		cp.bias = append(cp.bias, -float32(z)*scale)
	}
	if total != out.Shape[axis] {
		return c.errorf("inputs add up to %d along axis %d, output has %d", total, axis, out.Shape[axis])
	}
	dst := out.Int8s()
	p.run = func() { concatGeneric(cp, dst) }
	return nil
}

// concatGeneric joins the inputs, rescaling those quantized unlike the output as TensorFlow Lite's
// kernel does (ConcatenationWithScaling; its INT8 kernel refuses such inputs, its UINT8 one takes
// them). The WebAssembly TensorFlow Lite of the differential tests (runtime/tfliteref_test.go)
// gives the op to its XNNPACK delegate instead, which copies the bytes and ignores the inputs'
// quantization: a bug, fixed later in both (XNNPACK's define now checks the quantization, the
// delegate leaves such ops to the kernel). This keeps the kernel's semantics in both modes.
func concatGeneric(p *concatParams, dst []int8) {
	o := 0
	for k := 0; k < p.outer; k++ {
		for i, src := range p.srcs {
			n := p.sizes[i]
			s := src[k*n:][:n]
			d := dst[o:][:n]
			if !p.rescale[i] {
				copy(d, s)
			} else {
				for j, v := range s {
					// The explicit float32 conversion forbids a fused multiply-add: TFLite rounds the product.
					q := int32(math.Round(float64(float32(float32(v)*p.scale[i])+p.bias[i]))) + p.outZero
					d[j] = int8(fixedpoint.Clamp(q, -128, 127))
				}
			}
			o += n
		}
	}
}

// padParams describe a constant pad of an n-dimensional tensor with the zero point (real 0).
type padParams struct {
	inShape, outShape []int
	before            []int
	value             int8
	elem              int
}

func preparePad(c *opContext, p *preparedOp) error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	in, out := c.input(0), c.output(0)
	r := len(in.Shape)
	if len(c.op.Paddings) != 2*r {
		return c.errorf("has %d padding values for a %d-dimensional input", len(c.op.Paddings), r)
	}
	want := make([]int, r)
	for d := range want {
		b, a := c.op.Paddings[2*d], c.op.Paddings[2*d+1]
		if b < 0 || a < 0 || b > 1<<16 || a > 1<<16 {
			return c.errorf("invalid padding %v", c.op.Paddings)
		}
		want[d] = in.Shape[d] + b + a
	}
	if err := c.wantShape(out, want); err != nil {
		return err
	}
	if in.Type != out.Type || !sameQuant(in, out) {
		return c.errorf("input and output types or quantization differ")
	}
	pp := &padParams{inShape: in.Shape, outShape: out.Shape, elem: in.Type.Size()}
	for d := 0; d < r; d++ {
		pp.before = append(pp.before, c.op.Paddings[2*d])
	}
	if in.Quant != nil {
		pp.value = int8(in.Quant.ZeroAt(0))
	}
	if pp.elem != 1 && pp.value != 0 {
		return c.unsupported("padding a %s tensor with a non-zero value", in.Type)
	}
	src, dst := in.data, out.data
	p.run = func() { padGeneric(pp, dst, src) }
	return nil
}

func padGeneric(p *padParams, dst, src []byte) {
	for i := range dst {
		dst[i] = byte(p.value)
	}
	if len(src) == 0 {
		return
	}
	// Copy rows of the innermost dimension to their padded place.
	r := len(p.inShape)
	rowLen := p.inShape[r-1] * p.elem
	rows := len(src) / max(rowLen, 1)
	for row := 0; row < rows; row++ {
		// Decompose row into outer indices and compute the destination offset.
		rem := row
		off := 0
		stride := 1
		for d := r - 1; d >= 0; d-- {
			n := p.inShape[d]
			var ix int
			if d == r-1 {
				ix = 0
			} else {
				ix = rem % n
				rem /= n
			}
			off += (ix + p.before[d]) * stride
			stride *= p.outShape[d]
		}
		copy(dst[off*p.elem:][:rowLen], src[row*rowLen:][:rowLen])
	}
}

package runtime

import (
	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpTranspose] = prepareTranspose
	preparers[models.OpSlice] = prepareSlice
}

// checkMove checks what Transpose and Slice require of their input and output: one of each, the
// same element type and quantization (they move values, never change them), a rank the strided
// copy handles.
func (c *opContext) checkMove() (in, out *Tensor, err error) {
	if err := c.arity(1, 1, 1); err != nil {
		return nil, nil, err
	}
	in, out = c.input(0), c.output(0)
	if in.Type != out.Type || !sameQuant(in, out) {
		return nil, nil, c.errorf("input %q (%s) and output %q (%s) differ in type or quantization", in.Name, in.Type, out.Name, out.Type)
	}
	if in.Type.Size() == 0 {
		return nil, nil, c.unsupported("input %q has type %s", in.Name, in.Type)
	}
	if r := len(in.Shape); r < 1 || r > maxGatherRank {
		return nil, nil, c.unsupported("input %q has shape %v: ranks 1 to %d are supported", in.Name, in.Shape, maxGatherRank)
	}
	if c.op.Activation != models.ActNone {
		return nil, nil, c.unsupported("fused activation %s", c.op.Activation)
	}
	return in, out, nil
}

// prepareTranspose: output dimension d is input dimension Axes[d] (TensorFlow Lite's TRANSPOSE with
// a constant permutation).
func prepareTranspose(c *opContext, p *preparedOp) error {
	in, out, err := c.checkMove()
	if err != nil {
		return err
	}
	perm := c.op.Axes
	r := len(in.Shape)
	if len(perm) != r {
		return c.errorf("permutation %v has %d entries for input %q of rank %d", perm, len(perm), in.Name, r)
	}
	seen := make([]bool, r)
	want := make([]int, r)
	size := make([]int, r)
	stride := make([]int, r)
	inStrides := denseStrides(in.Shape)
	for d, a := range perm {
		if a < 0 || a >= r || seen[a] {
			return c.errorf("permutation %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[a] = true
		want[d], size[d], stride[d] = in.Shape[a], in.Shape[a], inStrides[a]
	}
	if err := c.wantShape(out, want); err != nil {
		return err
	}
	sc := newStridedCopy(in.Type.Size(), 0, size, stride, in.data, out.data)
	p.kernel = "generic"
	if sc.rank() == 1 && sc.inStep == 1 {
		p.kernel = "copy" // the permutation only moves size-1 dimensions
	}
	p.run = sc.run
	return nil
}

// prepareSlice: Paddings holds begin and end (exclusive) of each dimension, Axes the strides (all 1
// when empty): output dimension d has ceil((end-begin)/stride) elements, from begin on. The output
// may drop size-1 dimensions of that shape (TensorFlow Lite's STRIDED_SLICE shrink_axis_mask).
func prepareSlice(c *opContext, p *preparedOp) error {
	in, out, err := c.checkMove()
	if err != nil {
		return err
	}
	r := len(in.Shape)
	if len(c.op.Paddings) != 2*r {
		return c.errorf("has %d begin/end values for input %q of rank %d, want %d", len(c.op.Paddings), in.Name, r, 2*r)
	}
	if len(c.op.Axes) != 0 && len(c.op.Axes) != r {
		return c.errorf("has %d strides for input %q of rank %d", len(c.op.Axes), in.Name, r)
	}
	inStrides := denseStrides(in.Shape)
	size := make([]int, r)
	stride := make([]int, r)
	offset := 0
	for d := range r {
		b, e := c.op.Paddings[2*d], c.op.Paddings[2*d+1]
		s := 1
		if len(c.op.Axes) != 0 {
			s = c.op.Axes[d]
		}
		if s < 1 {
			return c.unsupported("stride %d on dimension %d: positive strides only", s, d)
		}
		if b < 0 || e < b || e > in.Shape[d] {
			return c.errorf("slice [%d, %d) of dimension %d is out of range for input %q of shape %v", b, e, d, in.Name, in.Shape)
		}
		size[d] = (e - b + s - 1) / s
		stride[d] = inStrides[d] * s
		if size[d] > 0 {
			offset += b * inStrides[d]
		}
	}
	if !dropsOnes(size, out.Shape) {
		return c.errorf("output %q has shape %v, the slice computes %v", out.Name, out.Shape, size)
	}
	sc := newStridedCopy(in.Type.Size(), offset, size, stride, in.data, out.data)
	p.kernel = "generic"
	if sc.rank() == 1 && sc.inStep == 1 {
		p.kernel = "copy"
	}
	if out.NumElements() == 0 {
		p.run = func() {}
		return nil
	}
	p.run = sc.run
	return nil
}

// dropsOnes reports whether got is want with zero or more of its size-1 dimensions left out.
func dropsOnes(want, got []int) bool {
	j := 0
	for _, n := range want {
		if j < len(got) && got[j] == n {
			j++
			continue
		}
		if n != 1 {
			return false
		}
	}
	return j == len(got)
}

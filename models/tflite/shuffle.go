package tflite

import (
	"fmt"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// The channel-shuffle family: TRANSPOSE becomes OpTranspose; SLICE and STRIDED_SLICE (positive
// strides; begin, end and shrink-axis masks) become OpSlice; SPLIT and SPLIT_V become one OpSlice
// per output, so that every IR op keeps one output. All move values without changing them: input
// and outputs must be quantized alike, as TensorFlow Lite requires.

func init() {
	builtinOps[tfl.BuiltinOperatorTRANSPOSE] = (*opCtx).transpose
	builtinOps[tfl.BuiltinOperatorSLICE] = (*opCtx).slice
	builtinOps[tfl.BuiltinOperatorSTRIDED_SLICE] = (*opCtx).slice
	builtinOps[tfl.BuiltinOperatorSPLIT] = (*opCtx).split
	builtinOps[tfl.BuiltinOperatorSPLIT_V] = (*opCtx).split
}

// moveInOut checks the input and an output of a data-movement op.
func (c *opCtx) moveInOut(in, out operand) error {
	if err := c.checkInOut(in, out); err != nil {
		return err
	}
	return c.sameQuant(in, out)
}

func (c *opCtx) transpose() (*models.Op, error) {
	ins, in, out, err := c.operands(2, 2)
	if err != nil {
		return nil, err
	}
	if err := c.moveInOut(in, out); err != nil {
		return nil, err
	}
	pt, err := c.need(ins, 1)
	if err != nil {
		return nil, err
	}
	perm, err := c.constInts("permutation", pt, true)
	if err != nil {
		return nil, err
	}
	r := len(in.t.Shape)
	if len(perm) != r {
		return nil, c.errorf("permutation %v has %d entries for input %q of rank %d", perm, len(perm), in.t.Name, r)
	}
	o := c.newOp(models.OpTranspose, out, in)
	want := make([]int, r)
	seen := make([]bool, r)
	for d, a := range perm {
		if a < 0 || a >= int64(r) || seen[a] {
			return nil, c.errorf("permutation %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[a] = true
		o.Axes = append(o.Axes, int(a))
		want[d] = in.t.Shape[a]
	}
	if err := c.checkShape(out, want, "the input's dimensions permuted"); err != nil {
		return nil, err
	}
	return o, nil
}

// slice converts SLICE (begin, size; size -1: to the end) and STRIDED_SLICE (begin, end, strides
// and the options' masks) to one OpSlice.
func (c *opCtx) slice() (*models.Op, error) {
	n := 3
	if c.code == tfl.BuiltinOperatorSTRIDED_SLICE {
		n = 4
	}
	ins, in, out, err := c.operands(n, n)
	if err != nil {
		return nil, err
	}
	if err := c.moveInOut(in, out); err != nil {
		return nil, err
	}
	r := len(in.t.Shape)
	vecs := make([][]int64, n-1)
	for j := 1; j < n; j++ {
		t, err := c.need(ins, j)
		if err != nil {
			return nil, err
		}
		if vecs[j-1], err = c.constInts(fmt.Sprintf("input %d", j), t, true); err != nil {
			return nil, err
		}
		if len(vecs[j-1]) != r {
			return nil, c.errorf("input %d has %d values for input %q of rank %d", j, len(vecs[j-1]), in.t.Name, r)
		}
	}
	o := c.newOp(models.OpSlice, out, in)
	strided := false
	var full []int
	if c.code == tfl.BuiltinOperatorSLICE {
		for d := range r {
			dim := int64(in.t.Shape[d])
			b, s := vecs[0][d], vecs[1][d]
			if s == -1 {
				s = dim - b
			}
			if b < 0 || s < 0 || b+s > dim {
				return nil, c.errorf("begin %v, size %v out of range for input %q of shape %v", vecs[0], vecs[1], in.t.Name, in.t.Shape)
			}
			o.Paddings = append(o.Paddings, int(b), int(b+s))
			full = append(full, int(s))
		}
	} else {
		var opt tfl.StridedSliceOptions
		t, ok, err := c.options(tfl.BuiltinOptionsStridedSliceOptions)
		if err != nil {
			return nil, err
		}
		var bm, em, sm int32
		if ok {
			opt.Init(t.Bytes, t.Pos)
			if opt.EllipsisMask() != 0 || opt.NewAxisMask() != 0 || opt.Offset() {
				return nil, c.errorf("ellipsis_mask %d, new_axis_mask %d, offset %v: unsupported", opt.EllipsisMask(), opt.NewAxisMask(), opt.Offset())
			}
			bm, em, sm = opt.BeginMask(), opt.EndMask(), opt.ShrinkAxisMask()
		}
		for d := range r {
			dim := int64(in.t.Shape[d])
			b, e, s := vecs[0][d], vecs[1][d], vecs[2][d]
			if s <= 0 {
				return nil, c.errorf("stride %d on dimension %d: only positive strides are supported", s, d)
			}
			norm := func(v int64) int64 {
				if v < 0 {
					v += dim
				}
				return min(max(v, 0), dim)
			}
			switch {
			case sm&(1<<d) != 0:
				if b < -dim || b >= dim {
					return nil, c.errorf("shrink index %d out of range for dimension %d of input %q of shape %v", b, d, in.t.Name, in.t.Shape)
				}
				b = norm(b)
				e, s = b+1, 1
			default:
				if bm&(1<<d) != 0 {
					b = 0
				} else {
					b = norm(b)
				}
				if em&(1<<d) != 0 {
					e = dim
				} else {
					e = norm(e)
				}
				e = max(e, b)
			}
			if s != 1 {
				strided = true
			}
			o.Paddings = append(o.Paddings, int(b), int(e))
			o.Axes = append(o.Axes, int(s))
			full = append(full, int((e-b+s-1)/s))
		}
		if !strided {
			o.Axes = nil
		}
	}
	want := full
	if c.code == tfl.BuiltinOperatorSTRIDED_SLICE {
		var opt tfl.StridedSliceOptions
		if t, ok, _ := c.options(tfl.BuiltinOptionsStridedSliceOptions); ok {
			opt.Init(t.Bytes, t.Pos)
			want = nil
			for d, n := range full {
				if opt.ShrinkAxisMask()&(1<<d) == 0 {
					want = append(want, n)
				}
			}
		}
	}
	if err := c.checkShape(out, want, "the slice"); err != nil {
		return nil, err
	}
	return o, nil
}

// split converts SPLIT (axis, input; num_splits equal parts) and SPLIT_V (input, size_splits, axis;
// one size may be -1) into one OpSlice per output: all but the last are appended here, the last is
// returned.
func (c *opCtx) split() (*models.Op, error) {
	ins, err := c.inputs(3, 3)
	if c.code == tfl.BuiltinOperatorSPLIT {
		ins, err = c.inputs(2, 2)
	}
	if err != nil {
		return nil, err
	}
	var in, axisT operand
	var sizes []int64
	if c.code == tfl.BuiltinOperatorSPLIT {
		if axisT, err = c.need(ins, 0); err != nil {
			return nil, err
		}
		if in, err = c.need(ins, 1); err != nil {
			return nil, err
		}
	} else {
		if in, err = c.need(ins, 0); err != nil {
			return nil, err
		}
		if axisT, err = c.need(ins, 2); err != nil {
			return nil, err
		}
		st, err := c.need(ins, 1)
		if err != nil {
			return nil, err
		}
		if sizes, err = c.constInts("size_splits", st, true); err != nil {
			return nil, err
		}
	}
	av, err := c.constInts("axis", axisT, true)
	if err != nil {
		return nil, err
	}
	r := len(in.t.Shape)
	if len(av) != 1 || av[0] < -int64(r) || av[0] >= int64(r) {
		return nil, c.errorf("axis %v out of range for input %q of shape %v", av, in.t.Name, in.t.Shape)
	}
	axis := int(av[0])
	if axis < 0 {
		axis += r
	}
	nOut := c.op.OutputsLength()
	if nOut < 1 {
		return nil, c.errorf("no outputs")
	}
	dim := in.t.Shape[axis]
	if c.code == tfl.BuiltinOperatorSPLIT {
		if nOut < 1 || dim%nOut != 0 {
			return nil, c.errorf("%d outputs do not split dimension %d (%d) of input %q evenly", nOut, axis, dim, in.t.Name)
		}
		for range nOut {
			sizes = append(sizes, int64(dim/nOut))
		}
	} else {
		if len(sizes) != nOut {
			return nil, c.errorf("%d sizes for %d outputs", len(sizes), nOut)
		}
		rest, sum := -1, int64(0)
		for k, s := range sizes {
			switch {
			case s == -1 && rest < 0:
				rest = k
			case s < 0:
				return nil, c.errorf("size_splits %v: negative size", sizes)
			default:
				sum += s
			}
		}
		if rest >= 0 {
			sizes[rest] = int64(dim) - sum
			sum = int64(dim)
		}
		if sum != int64(dim) || sizes[max(rest, 0)] < 0 {
			return nil, c.errorf("size_splits %v do not add up to dimension %d (%d) of input %q", sizes, axis, dim, in.t.Name)
		}
	}
	begin := 0
	var last *models.Op
	for k := range nOut {
		ko := int(c.op.Outputs(k))
		ti, err := c.r.tensor(ko)
		if err != nil {
			return nil, c.errorf("output %d: %w", k, err)
		}
		switch {
		case c.r.written[ko]:
			return nil, c.errorf("output %q is written by an earlier op too", ti.t.Name)
		case ti.t.IsConst():
			return nil, c.errorf("output %q is a constant", ti.t.Name)
		case c.r.isInput[ko]:
			return nil, c.errorf("output %q is a graph input", ti.t.Name)
		}
		c.r.written[ko] = true
		out := operand{ko, ti}
		if err := c.moveInOut(in, out); err != nil {
			return nil, err
		}
		o := c.newOp(models.OpSlice, out, in)
		want := make([]int, r)
		for d := range r {
			b, e := 0, in.t.Shape[d]
			if d == axis {
				b, e = begin, begin+int(sizes[k])
			}
			o.Paddings = append(o.Paddings, b, e)
			want[d] = e - b
		}
		if err := c.checkShape(out, want, fmt.Sprintf("part %d of the split", k)); err != nil {
			return nil, err
		}
		begin += int(sizes[k])
		if last != nil {
			c.r.producer[last.Outputs[0]] = len(c.r.ops)
			c.r.ops = append(c.r.ops, last)
		}
		last = o
	}
	return last, nil
}

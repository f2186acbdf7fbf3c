package graph

import (
	"fmt"
	"math"
)

// The channel-shuffle family in float: Transpose, Slice and Split (several outputs).

func init() {
	floatOps["Transpose"] = one(transpose)
	floatOps["Slice"] = one(slice)
	floatOps["Split"] = split
}

// Perm returns the permutation of a Transpose node for an input of rank r (ONNX's default: the
// dimensions reversed), checked.
func Perm(n *Node, r int) ([]int, error) {
	p := n.AttrInts("perm")
	perm := make([]int, r)
	if p == nil {
		for d := range perm {
			perm[d] = r - 1 - d
		}
		return perm, nil
	}
	if len(p) != r {
		return nil, fmt.Errorf("perm %v has %d entries for an input of rank %d", p, len(p), r)
	}
	seen := make([]bool, r)
	for d, a := range p {
		if a < 0 || a >= int64(r) || seen[a] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", p, r-1)
		}
		seen[a] = true
		perm[d] = int(a)
	}
	return perm, nil
}

// strides returns the row-major strides of shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	n := 1
	for d := len(shape) - 1; d >= 0; d-- {
		st[d] = n
		n *= shape[d]
	}
	return st
}

// gather fills out (shape size) with x's elements at offset + Σ idx[d]·stride[d].
func gather(x []float32, offset int, size, stride []int, out []float32) {
	idx := make([]int, len(size))
	k := offset
	for o := range out {
		out[o] = x[k]
		for d := len(size) - 1; d >= 0; d-- {
			idx[d]++
			k += stride[d]
			if idx[d] < size[d] {
				break
			}
			k -= stride[d] * size[d]
			idx[d] = 0
		}
	}
}

func transpose(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	perm, err := Perm(n, len(x.Shape))
	if err != nil {
		return nil, err
	}
	st := strides(x.Shape)
	shape := make([]int, len(perm))
	stride := make([]int, len(perm))
	for d, a := range perm {
		shape[d], stride[d] = x.Shape[a], st[a]
	}
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	if len(out.Data) > 0 {
		gather(x.Data, 0, shape, stride, out.Data)
	}
	return out, nil
}

// SliceWindow resolves a Slice node's starts, ends, axes and steps (ONNX's rules: negative indices
// count from the end, then clamp) for an input of the given shape: the first element taken, the
// step and the number of elements of each dimension.
func SliceWindow(n *Node, shape []int) (begin, step, size []int, err error) {
	r := len(shape)
	starts, ends := n.AttrInts("starts"), n.AttrInts("ends")
	axes, steps := n.AttrInts("axes"), n.AttrInts("steps")
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, nil, nil, fmt.Errorf("starts %v, ends %v, axes %v, steps %v: lengths differ", starts, ends, axes, steps)
	}
	begin, step, size = make([]int, r), make([]int, r), slicesClone(shape)
	for d := range step {
		step[d] = 1
	}
	seen := make([]bool, r)
	for k := range starts {
		a := int64(k)
		if axes != nil {
			a = axes[k]
		}
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) || seen[a] {
			return nil, nil, nil, fmt.Errorf("axes %v out of range or repeated for rank %d", axes, r)
		}
		seen[a] = true
		s := int64(1)
		if steps != nil {
			s = steps[k]
		}
		if s == 0 || s == math.MinInt64 {
			return nil, nil, nil, fmt.Errorf("step %d", s)
		}
		dim := int64(shape[a])
		b, e := starts[k], ends[k]
		if b < 0 {
			b += dim
		}
		if e < 0 {
			e += dim
		}
		var cnt int64
		if s > 0 {
			b, e = min(max(b, 0), dim), min(max(e, 0), dim)
			cnt = max(0, (e-b+s-1)/s)
		} else {
			b, e = min(max(b, 0), dim-1), min(max(e, -1), dim-1)
			cnt = max(0, (b-e+(-s)-1)/(-s))
		}
		if cnt == 0 {
			b = 0
		}
		begin[a], step[a], size[a] = int(b), int(s), int(cnt)
	}
	return begin, step, size, nil
}

func slicesClone(s []int) []int { return append([]int(nil), s...) }

func slice(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	begin, step, size, err := SliceWindow(n, x.Shape)
	if err != nil {
		return nil, err
	}
	st := strides(x.Shape)
	offset := 0
	stride := make([]int, len(st))
	for d := range st {
		offset += begin[d] * st[d]
		stride[d] = st[d] * step[d]
	}
	out, err := alloc(size)
	if err != nil {
		return nil, err
	}
	if len(out.Data) > 0 {
		gather(x.Data, offset, size, stride, out.Data)
	}
	return out, nil
}

// SplitSizes returns the sizes of a Split node's parts along its axis (normalised) for an input of
// the given shape.
func SplitSizes(n *Node, shape []int) (axis int, sizes []int, err error) {
	axis, err = axisOf(n.AttrInt("axis", 0), len(shape))
	if err != nil {
		return 0, nil, err
	}
	parts := len(n.Outputs)
	dim := shape[axis]
	if s := n.AttrInts("split"); s != nil {
		sum := int64(0)
		for _, v := range s {
			if v < 0 || v > int64(dim) {
				return 0, nil, fmt.Errorf("split %v: bad size %d", s, v)
			}
			sum += v
			sizes = append(sizes, int(v))
		}
		if sum != int64(dim) || len(s) != parts {
			return 0, nil, fmt.Errorf("split %v into %d outputs for dimension %d of %v", s, parts, axis, shape)
		}
		return axis, sizes, nil
	}
	if parts == 0 || dim%parts != 0 {
		return 0, nil, fmt.Errorf("dimension %d of %v does not split into %d equal parts", axis, shape, parts)
	}
	for range parts {
		sizes = append(sizes, dim/parts)
	}
	return axis, sizes, nil
}

func axisOf(a int64, r int) (int, error) { return axis(a, r, r) }

func split(n *Node, ins []*Tensor) ([]*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	ax, sizes, err := SplitSizes(n, x.Shape)
	if err != nil {
		return nil, err
	}
	outer := ShapeLen(x.Shape[:ax])
	inner := ShapeLen(x.Shape[ax+1:])
	dim := x.Shape[ax]
	var outs []*Tensor
	begin := 0
	for _, s := range sizes {
		shape := slicesClone(x.Shape)
		shape[ax] = s
		t, err := alloc(shape)
		if err != nil {
			return nil, err
		}
		for o := range outer {
			copy(t.Data[o*s*inner:(o+1)*s*inner], x.Data[(o*dim+begin)*inner:])
		}
		begin += s
		outs = append(outs, t)
	}
	return outs, nil
}

package runtime

// Transpose and Slice both copy a strided view of their input into a dense output: output element
// (i_0, ..., i_{r-1}) is input element offset + Σ i_d·stride_d. stridedCopy holds that view, with
// the dimensions simplified at prepare time (size-1 dimensions dropped, dimensions that stay
// contiguous merged), so that running it allocates nothing and the innermost loop is as long as
// the layout allows: a plain copy when the innermost dimension is contiguous.

// maxGatherRank bounds the rank of a strided view (after simplification it is usually 2 or 3).
const maxGatherRank = 8

// stridedCopy is a dense copy of a strided view, in elements of elem bytes.
type stridedCopy struct {
	elem    int
	offset  int   // first input element
	size    []int // output dimensions, outermost first
	stride  []int // input stride of each, in elements
	src     []byte
	dst     []byte
	inner   int // size of the innermost dimension
	inStep  int // its input stride
	rowSize int // bytes per output row (inner * elem)
}

// newStridedCopy simplifies the view (size, stride per output dimension) and returns the copy.
func newStridedCopy(elem, offset int, size, stride []int, src, dst []byte) *stridedCopy {
	var sz, st []int
	for d := range size {
		if size[d] == 1 {
			continue
		}
		// Merge with the previous dimension when it steps over exactly this one.
		if k := len(sz) - 1; k >= 0 && st[k] == stride[d]*size[d] {
			sz[k] *= size[d]
			st[k] = stride[d]
			continue
		}
		sz = append(sz, size[d])
		st = append(st, stride[d])
	}
	if len(sz) == 0 {
		sz, st = []int{1}, []int{1}
	}
	s := &stridedCopy{elem: elem, offset: offset, size: sz[:len(sz)-1], stride: st[:len(st)-1], src: src, dst: dst}
	s.inner, s.inStep = sz[len(sz)-1], st[len(st)-1]
	s.rowSize = s.inner * elem
	return s
}

// rank is the number of outer dimensions plus the inner one.
func (s *stridedCopy) rank() int { return len(s.size) + 1 }

// run copies the view. It allocates nothing.
func (s *stridedCopy) run() {
	if s.elem == 1 && s.inStep != 1 && len(s.size) > 0 {
		s.runBlocks()
		return
	}
	var idx [maxGatherRank]int
	outer := len(s.size)
	rows := 1
	for _, n := range s.size {
		rows *= n
	}
	in := s.offset
	o := 0
	for r := 0; r < rows; r++ {
		s.row(o, in)
		o += s.rowSize
		// Advance the odometer over the outer dimensions, innermost first.
		for d := outer - 1; d >= 0; d-- {
			idx[d]++
			in += s.stride[d]
			if idx[d] < s.size[d] {
				break
			}
			in -= s.stride[d] * s.size[d]
			idx[d] = 0
		}
	}
}

// runBlocks copies byte elements whose innermost dimension is not contiguous in the input: the two
// innermost dimensions at a time, as a small matrix (A rows of B), looping over the longer of the
// two innermost so that short rows (a channel shuffle's 2 groups) cost no loop overhead each.
func (s *stridedCopy) runBlocks() {
	var idx [maxGatherRank]int
	outer := len(s.size) - 1
	A, sa := s.size[outer], s.stride[outer]
	B, sb := s.inner, s.inStep
	blocks := 1
	for _, n := range s.size[:outer] {
		blocks *= n
	}
	in, o := s.offset, 0
	for k := 0; k < blocks; k++ {
		dst := s.dst[o : o+A*B]
		if A > B {
			for b := 0; b < B; b++ {
				p := in + b*sb
				for a := b; a < len(dst); a += B {
					dst[a] = s.src[p]
					p += sa
				}
			}
		} else {
			d := 0
			for a := 0; a < A; a++ {
				p := in + a*sa
				for b := 0; b < B; b++ {
					dst[d] = s.src[p]
					d++
					p += sb
				}
			}
		}
		o += A * B
		for d := outer - 1; d >= 0; d-- {
			idx[d]++
			in += s.stride[d]
			if idx[d] < s.size[d] {
				break
			}
			in -= s.stride[d] * s.size[d]
			idx[d] = 0
		}
	}
}

// row copies one innermost row starting at input element in to output byte o.
func (s *stridedCopy) row(o, in int) {
	e := s.elem
	if s.inStep == 1 {
		copy(s.dst[o:o+s.rowSize], s.src[in*e:])
		return
	}
	step := s.inStep * e
	p := in * e
	if e == 1 {
		d := s.dst[o : o+s.inner]
		for j := range d {
			d[j] = s.src[p]
			p += step
		}
		return
	}
	for j := 0; j < s.inner; j++ {
		copy(s.dst[o+j*e:o+(j+1)*e], s.src[p:p+e])
		p += step
	}
}

// denseStrides returns the row-major strides, in elements, of shape.
func denseStrides(shape []int) []int {
	st := make([]int, len(shape))
	n := 1
	for d := len(shape) - 1; d >= 0; d-- {
		st[d] = n
		n *= shape[d]
	}
	return st
}

package graph

import "sync"

// A blocked single-precision GEMM, C = A·B, for Conv (after im2col), Gemm and MatMul, in the shape
// of the BLIS/GotoBLAS loops: B is packed into panels of gemmNR columns and A into panels of gemmMR
// rows, kc = gemmKC values of K at a time, so that a micro-kernel (sgemm_kernel.go, and on amd64 an
// AVX2/FMA assembly twin) keeps a gemmMR×gemmNR tile of C in registers while it streams both panels.
//
// Summation order: each element of C is the sum over k in increasing order within a block of
// gemmKC values, the blocks then added in order. With the assembly kernel each step is a fused
// multiply-add (one rounding instead of two), so results differ from the pure-Go kernel and from
// the textbook loop by a few units in the last place of the accumulated magnitude: relative to
// Σ|a||b| about K·2^-24 at worst, far within the 1e-4 of the ONNX Runtime comparisons
// (sgemm_test.go checks both kernels against a float64 reference within (K+2)·2^-23 of Σ|a||b|).

const (
	gemmMR = 6   // rows of the register tile (output channels of a convolution)
	gemmNR = 16  // columns of the register tile (output pixels): two 8-float AVX2 vectors
	gemmKC = 256 // depth of one packed block: an A panel (6 KB) and a B panel (16 KB) stay in L1
	gemmMC = 72  // rows of A packed at once (72 KB, L2)
	gemmNC = 512 // columns of B packed at once (512 KB at kc = 256, L2)
)

// mat is a strided view of a matrix: element (i, j) is data[i*rs + j*cs].
type mat struct {
	data   []float32
	rs, cs int
}

func (m mat) t() mat { return mat{m.data, m.cs, m.rs} }

// gemmScratch holds the packing buffers (and the im2col and batch product buffers of Conv), reused across calls
// through gemmPool so that steady-state inference does not allocate them.
type gemmScratch struct {
	pa, pb, col, acc []float32
	pad              []float32 // im2colGather's bordered planes
	tab              []int32   // im2colGather's offsets
}

var gemmPool = sync.Pool{New: func() any { return new(gemmScratch) }}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// sgemm sets C (m×n) to A (m×k) times B (k×n). It computes the transposed product Cᵀ = Bᵀ·Aᵀ
// instead when that wastes fewer lanes of the register tile (a convolution with few output pixels
// and many channels, a Gemm with one row): the sums are the same, element for element.
func sgemm(m, n, k int, a, b, c mat, s *gemmScratch) {
	if gemmTransposed(m, n) {
		sgemmPacked(n, m, k, b.t(), a.t(), c.t(), nil, nil, s)
		return
	}
	sgemmPacked(m, n, k, a, b, c, nil, nil, s)
}

// gemmTransposed says sgemm computes an m×n product as its n×m transpose: fewer padded lanes of the
// gemmMR×gemmNR tile.
func gemmTransposed(m, n int) bool {
	pad := func(x, q int) int { return (x + q - 1) / q * q }
	return pad(n, gemmMR)*pad(m, gemmNR) < pad(m, gemmMR)*pad(n, gemmNR)
}

// packed is one operand of sgemmPacked packed in advance, block by block as the driver reads it
// (a weight matrix packed once and reused by every inference).
type packed struct {
	data   []float32
	off    []int // start of block (p, q) at off[p*blocks+q]: p counts gemmKC, q gemmMC (A) or gemmNC (B)
	blocks int
}

func (p *packed) block(pc, x, xc int) []float32 {
	i := (pc/gemmKC)*p.blocks + x/xc
	return p.data[p.off[i]:]
}

// packAll packs A (m×k, isA) or B (k×n) whole, in the blocks sgemmPacked uses.
func packAll(x mat, rows, cols int, isA bool) *packed {
	k, other, xc, q := cols, rows, gemmMC, gemmMR
	if !isA {
		k, other, xc, q = rows, cols, gemmNC, gemmNR
	}
	p := &packed{blocks: (other + xc - 1) / xc}
	size := 0
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		for o := 0; o < other; o += xc {
			p.off = append(p.off, size)
			size += kc * ((min(xc, other-o) + q - 1) / q * q)
		}
	}
	p.data = make([]float32, size)
	i := 0
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		for o := 0; o < other; o += xc {
			if isA {
				packA(p.data[p.off[i]:], x, o, min(xc, other-o), pc, kc)
			} else {
				packB(p.data[p.off[i]:], x, pc, kc, o, min(xc, other-o))
			}
			i++
		}
	}
	return p
}

// sgemmWeights sets C (m×n) to W (m×k, a node's weights, packed as pk) times X (k×n): with tr, as
// the transposed product Cᵀ = Xᵀ·Wᵀ, pk then holding W's panels as the B operand (weightsPacked's
// transposed form); the same sums either way.
func sgemmWeights(m, n, k int, w, x, c mat, pk *packed, tr bool, s *gemmScratch) {
	if tr {
		sgemmPacked(n, m, k, x.t(), w.t(), c.t(), nil, pk, s)
		return
	}
	sgemmPacked(m, n, k, w, x, c, pk, nil, s)
}

// sgemmPacked is sgemm without the choice of orientation: C = A·B with A's panels from preA and
// B's from preB where given (packAll of the same operand), else packed here into s.
func sgemmPacked(m, n, k int, a, b, c mat, preA, preB *packed, s *gemmScratch) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			for j := range n {
				c.data[i*c.rs+j*c.cs] = 0
			}
		}
		return
	}
	pad := func(x, q int) int { return (x + q - 1) / q * q }
	if preB == nil {
		s.pb = grow(s.pb, gemmKC*pad(min(n, gemmNC), gemmNR))
	}
	if preA == nil {
		s.pa = grow(s.pa, gemmKC*pad(min(m, gemmMC), gemmMR))
	}
	var tile [gemmMR * gemmNR]float32
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			pb := s.pb
			if preB != nil {
				pb = preB.block(pc, jc, gemmNC)
			} else {
				packB(pb, b, pc, kc, jc, nc)
			}
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				pa := s.pa
				if preA != nil {
					pa = preA.block(pc, ic, gemmMC)
				} else {
					packA(pa, a, ic, mc, pc, kc)
				}
				for jr := 0; jr < nc; jr += gemmNR {
					bp := pb[jr*kc : (jr+gemmNR)*kc]
					nr := min(gemmNR, nc-jr)
					for ir := 0; ir < mc; ir += gemmMR {
						ap := pa[ir*kc : (ir+gemmMR)*kc]
						sgemmKernel(kc, ap, bp, &tile)
						mr := min(gemmMR, mc-ir)
						for i := range mr {
							row := c.data[(ic+ir+i)*c.rs+(jc+jr)*c.cs:]
							t := tile[i*gemmNR : i*gemmNR+nr]
							if c.cs == 1 {
								row = row[:nr]
								if pc == 0 {
									copy(row, t)
								} else {
									for j, v := range t {
										row[j] += v
									}
								}
								continue
							}
							for j, v := range t {
								if pc == 0 {
									row[j*c.cs] = v
								} else {
									row[j*c.cs] += v
								}
							}
						}
					}
				}
			}
		}
	}
}

// packB copies B[pc:pc+kc, jc:jc+nc] into panels of gemmNR columns, each kc rows of gemmNR values,
// zero-padding the last panel.
func packB(dst []float32, b mat, pc, kc, jc, nc int) {
	for jr := 0; jr < nc; jr += gemmNR {
		p := dst[jr*kc : (jr+gemmNR)*kc]
		nr := min(gemmNR, nc-jr)
		if b.rs == 1 {
			// Columns contiguous (a transposed operand, such as a weight matrix): read each
			// column once, in order.
			for j := range nr {
				base := (jc+jr+j)*b.cs + pc
				for kk, v := range b.data[base : base+kc] {
					p[kk*gemmNR+j] = v
				}
			}
			if nr < gemmNR {
				for kk := range kc {
					clear(p[kk*gemmNR+nr : (kk+1)*gemmNR])
				}
			}
			continue
		}
		for kk := range kc {
			d := p[kk*gemmNR : (kk+1)*gemmNR]
			base := (pc+kk)*b.rs + (jc+jr)*b.cs
			if b.cs == 1 {
				copy(d, b.data[base:base+nr])
			} else {
				for j := range nr {
					d[j] = b.data[base+j*b.cs]
				}
			}
			clear(d[nr:])
		}
	}
}

// packA copies A[ic:ic+mc, pc:pc+kc] into panels of gemmMR rows, each kc columns of gemmMR values,
// zero-padding the last panel.
func packA(dst []float32, a mat, ic, mc, pc, kc int) {
	for ir := 0; ir < mc; ir += gemmMR {
		p := dst[ir*kc : (ir+gemmMR)*kc]
		mr := min(gemmMR, mc-ir)
		for i := range mr {
			base := (ic+ir+i)*a.rs + pc*a.cs
			if a.cs == 1 {
				for kk, v := range a.data[base : base+kc] {
					p[kk*gemmMR+i] = v
				}
				continue
			}
			for kk := range kc {
				p[kk*gemmMR+i] = a.data[base+kk*a.cs]
			}
		}
		for i := mr; i < gemmMR; i++ {
			for kk := range kc {
				p[kk*gemmMR+i] = 0
			}
		}
	}
}

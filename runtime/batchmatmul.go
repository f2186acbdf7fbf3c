package runtime

import (
	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpBatchMatMul] = prepareBatchMatMul
}

// maxBatchRank bounds the rank of BatchMatMul operands (TensorFlow Lite accepts up to 5).
const maxBatchRank = 6

// batchMatMulParams are TensorFlow Lite's int8 BATCH_MATMUL parameters (kernels/batch_matmul.cc:
// one Q31 multiplier lhsScale·rhsScale/outScale, applied with ruy's single rounding) plus
// edgeinfer's optional bias. Operands are read through aT and bT: A as [M, K] rows and B as [N, K]
// rows (the transposed layout the dot products want), copied there at run time when the operand's
// own layout differs (adj_x set, adj_y not set), or in place.
type batchMatMulParams struct {
	m, k, n        int
	batches        int
	aOff, bOff     []int // per output batch: offset of its A and B matrices (elements)
	biasOff        []int // per output batch: offset of its bias row, or nil
	bias           []int32
	aZero, bZero   int32
	mult           int32
	shift          int
	outZero        int32
	lo, hi         int32
	transA, transB bool     // A must be transposed (adj_x), B must be (not adj_y)
	aT, bT         []int8   // scratch for the transposed matrices
	colSum         []int32  // scratch: Σ_k B[k, n] of the current matrix
	dots           []int32  // scratch of batchMatMulFast: one output row's Σ a·b
	constB         [][]int8 // B already transposed per matrix, when B is a constant
}

func prepareBatchMatMul(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	a, b, out := c.input(0), c.input(1), c.output(0)
	ra, rb := len(a.Shape), len(b.Shape)
	if ra < 2 || rb < 2 || ra > maxBatchRank || rb > maxBatchRank {
		return c.unsupported("operands of shapes %v and %v: ranks 2 to %d are supported", a.Shape, b.Shape, maxBatchRank)
	}
	sa, za, err := c.quantized("input 0", a)
	if err != nil {
		return err
	}
	sb, zb, err := c.quantized("input 1", b)
	if err != nil {
		return err
	}
	so, zo, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	bp := &batchMatMulParams{aZero: za, bZero: zb, outZero: zo, transA: c.op.AdjX, transB: !c.op.AdjY}
	if bp.lo, bp.hi, err = c.outputRange(so, zo); err != nil {
		return err
	}
	M, K := a.Shape[ra-2], a.Shape[ra-1]
	if c.op.AdjX {
		M, K = K, M
	}
	K2, N := b.Shape[rb-2], b.Shape[rb-1]
	if c.op.AdjY {
		K2, N = N, K2
	}
	if K != K2 {
		return c.errorf("operands %v (adj_x %v) and %v (adj_y %v) do not multiply: %d against %d", a.Shape, c.op.AdjX, b.Shape, c.op.AdjY, K, K2)
	}
	bp.m, bp.k, bp.n = M, K, N
	// Broadcast the batch dimensions, NumPy style.
	r := max(ra, rb) - 2
	ext := func(s []int) []int {
		e := make([]int, r)
		for i := range e {
			e[i] = 1
		}
		copy(e[r-(len(s)-2):], s[:len(s)-2])
		return e
	}
	ba, bb := ext(a.Shape), ext(b.Shape)
	batch := make([]int, r)
	for i := range batch {
		switch {
		case ba[i] == bb[i] || bb[i] == 1:
			batch[i] = ba[i]
		case ba[i] == 1:
			batch[i] = bb[i]
		default:
			return c.errorf("batch dimensions of %v and %v do not broadcast", a.Shape, b.Shape)
		}
	}
	if err := c.wantShape(out, append(append([]int(nil), batch...), M, N)); err != nil {
		return err
	}
	bp.batches = 1
	for _, d := range batch {
		bp.batches *= d
	}
	nbB := 1 // matrices in B
	for _, d := range bb {
		nbB *= d
	}
	bp.aOff, bp.bOff = make([]int, bp.batches), make([]int, bp.batches)
	bIndex := make([]int, bp.batches)
	idx := make([]int, r)
	for q := range bp.batches {
		ia, ib := 0, 0
		for d := range r {
			ia = ia*ba[d] + min(idx[d], ba[d]-1)
			ib = ib*bb[d] + min(idx[d], bb[d]-1)
		}
		bp.aOff[q], bp.bOff[q], bIndex[q] = ia*M*K, ib*K*N, ib
		for d := r - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	if bias := c.input(2); bias != nil {
		vals, err := c.bias(2, nbB*N)
		if err != nil {
			return err
		}
		bp.bias = vals
		bp.biasOff = make([]int, bp.batches)
		for q := range bp.batches {
			bp.biasOff[q] = bIndex[q] * N
		}
	}
	real := float64(sa*sb) / float64(so) // GetQuantizedConvolutionMultipler: the product in float32
	bp.mult, bp.shift = fixedpoint.QuantizeMultiplier(real)
	if bp.shift > 30 || bp.shift < -31 {
		return c.errorf("requantization scale %g out of range", real)
	}
	bp.colSum = make([]int32, N)
	if bp.transA {
		bp.aT = make([]int8, M*K)
	}
	if bp.transB {
		if c.isConst(1) { // transpose each matrix once, now
			bp.constB = make([][]int8, nbB)
			src := b.Int8s()
			for i := range bp.constB {
				bp.constB[i] = make([]int8, K*N)
				transpose2D(bp.constB[i], src[i*K*N:(i+1)*K*N], K, N)
			}
		} else {
			bp.bT = make([]int8, K*N)
		}
	}
	p.macs = int64(bp.batches) * int64(M) * int64(N) * int64(K)
	src0, src1, dst := a.Int8s(), b.Int8s(), out.Int8s()
	if c.opt.Generic {
		p.kernel = "batchmatmul-go"
		p.run = func() { batchMatMulGeneric(bp, dst, src0, src1) }
		return nil
	}
	bp.dots = make([]int32, N)
	p.kernel = "batchmatmul-" + kernelName(kernels.Path())
	p.run = func() { batchMatMulFast(bp, dst, src0, src1) }
	return nil
}

// isConst reports whether input k is a constant of the model.
func (c *opContext) isConst(k int) bool {
	return k < len(c.op.Inputs) && c.op.Inputs[k] >= 0 && c.it.model.Tensors[c.op.Inputs[k]].IsConst()
}

// transpose2D writes the transpose of the rows×cols matrix src into dst (cols×rows).
func transpose2D(dst, src []int8, rows, cols int) {
	for i := range rows {
		for j := range cols {
			dst[j*rows+i] = src[i*cols+j]
		}
	}
}

// batchMatMulGeneric is reference_ops::BatchMatMul for int8: for each output batch,
// out[m, n] = requant(bias + Σ_k (A[m, k] − aZero)(B[k, n] − bZero)).
func batchMatMulGeneric(p *batchMatMulParams, dst, a, b []int8) {
	M, K, N := p.m, p.k, p.n
	for q := range p.batches {
		am, bm, bias := p.matrices(q, a, b)
		// Σ (a − za)(b − zb) = Σ ab − zb·Σa − za·Σb + K·za·zb, with Σb per column (row of bm).
		colSum := p.colSum[:N]
		for j := range N {
			colSum[j] = sumInt8(bm[j*K:][:K])
		}
		kzz := int32(K) * p.aZero * p.bZero
		o := dst[q*M*N:][:M*N]
		i := 0
		for ; i+2 <= M; i += 2 { // 2×4 tiles: each loaded element feeds several products
			x0, x1 := am[i*K:][:K], am[(i+1)*K:][:K]
			r0, r1 := kzz-p.bZero*sumInt8(x0), kzz-p.bZero*sumInt8(x1)
			o0, o1 := o[i*N:][:N], o[(i+1)*N:][:N]
			j := 0
			for ; j+4 <= N; j += 4 {
				s := dot2x4(x0, x1, bm[j*K:][:K], bm[(j+1)*K:][:K], bm[(j+2)*K:][:K], bm[(j+3)*K:][:K])
				for c := range 4 {
					cs := p.aZero * colSum[j+c]
					o0[j+c] = p.finish(s[c]+r0-cs, bias, j+c)
					o1[j+c] = p.finish(s[4+c]+r1-cs, bias, j+c)
				}
			}
			for ; j < N; j++ {
				b := bm[j*K:][:K]
				cs := p.aZero * colSum[j]
				o0[j] = p.finish(dotOffset(x0, b, 0, 0)+r0-cs, bias, j)
				o1[j] = p.finish(dotOffset(x1, b, 0, 0)+r1-cs, bias, j)
			}
		}
		for ; i < M; i++ {
			x := am[i*K:][:K]
			rowTerm := kzz - p.bZero*sumInt8(x)
			orow := o[i*N:][:N]
			for j := range N {
				orow[j] = p.finish(dotOffset(x, bm[j*K:][:K], 0, 0)+rowTerm-p.aZero*colSum[j], bias, j)
			}
		}
	}
}

// matrices returns output batch q's A as [M, K] rows and B as [N, K] rows (transposed into scratch
// when needed), and its bias row or nil.
func (p *batchMatMulParams) matrices(q int, a, b []int8) (am, bm []int8, bias []int32) {
	M, K, N := p.m, p.k, p.n
	am = a[p.aOff[q]:][:M*K]
	if p.transA { // A is stored [K, M]
		transpose2D(p.aT, am, K, M)
		am = p.aT
	}
	bm = b[p.bOff[q]:][:K*N] // [N, K] with adj_y
	if p.transB {
		if p.constB != nil {
			bm = p.constB[p.bOff[q]/(K*N)]
		} else {
			transpose2D(p.bT, bm, K, N)
			bm = p.bT
		}
	}
	if p.biasOff != nil {
		bias = p.bias[p.biasOff[q]:][:N]
	}
	return am, bm, bias
}

// batchMatMulFast is batchMatMulGeneric with each output row's dot products taken by
// kernels.DotRows (NEON on arm64), the same arithmetic.
func batchMatMulFast(p *batchMatMulParams, dst, a, b []int8) {
	M, K, N := p.m, p.k, p.n
	dots, colSum := p.dots[:N], p.colSum[:N]
	kzz := int32(K) * p.aZero * p.bZero
	for q := range p.batches {
		am, bm, bias := p.matrices(q, a, b)
		for j := range N {
			colSum[j] = sumInt8(bm[j*K:][:K])
		}
		o := dst[q*M*N:][:M*N]
		for i := range M {
			x := am[i*K:][:K]
			rowTerm := kzz - p.bZero*sumInt8(x)
			kernels.DotRows(dots, x, bm, N, K)
			orow := o[i*N:][:N]
			for j, s := range dots {
				orow[j] = p.finish(s+rowTerm-p.aZero*colSum[j], bias, j)
			}
		}
	}
}

// finish adds the bias of column j and requantizes the accumulator.
func (p *batchMatMulParams) finish(acc int32, bias []int32, j int) int8 {
	if bias != nil {
		acc += bias[j]
	}
	v := ruyMultiply(acc, p.mult, p.shift) + p.outZero
	return int8(fixedpoint.Clamp(v, p.lo, p.hi))
}

// sumInt8 is Σ x.
func sumInt8(x []int8) int32 {
	var s int32
	for _, v := range x {
		s += int32(v)
	}
	return s
}

// dot2x4 returns the dot products of rows x0 and x1 with rows b0..b3: [x0·b0, x0·b1, x0·b2,
// x0·b3, x1·b0, ..., x1·b3].
func dot2x4(x0, x1, b0, b1, b2, b3 []int8) (s [8]int32) {
	n := len(x0)
	x1, b0, b1, b2, b3 = x1[:n], b0[:n], b1[:n], b2[:n], b3[:n]
	var s0, s1, s2, s3, s4, s5, s6, s7 int32
	for k, v := range x0 {
		a0, a1 := int32(v), int32(x1[k])
		c0, c1, c2, c3 := int32(b0[k]), int32(b1[k]), int32(b2[k]), int32(b3[k])
		s0 += a0 * c0
		s1 += a0 * c1
		s2 += a0 * c2
		s3 += a0 * c3
		s4 += a1 * c0
		s5 += a1 * c1
		s6 += a1 * c2
		s7 += a1 * c3
	}
	return [8]int32{s0, s1, s2, s3, s4, s5, s6, s7}
}

// ruyMultiply is ruy's MultiplyByQuantizedMultiplier (the requantization of TensorFlow Lite's
// optimized int8 BATCH_MATMUL, through cpu_backend_gemm): x·multiplier·2^(shift−31), rounded once,
// ties toward +infinity, unlike gemmlowp's two roundings (fixedpoint.MultiplyByQuantizedMultiplier).
// Measured in runtime/tfliteref_test.go: the two roundings differ from TensorFlow Lite by one step
// on a few elements, this one never.
func ruyMultiply(x, multiplier int32, shift int) int32 {
	total := 31 - shift
	return int32((int64(x)*int64(multiplier) + int64(1)<<(total-1)) >> total)
}

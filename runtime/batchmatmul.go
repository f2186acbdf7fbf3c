package runtime

import (
	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
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
	p.kernel = "batchmatmul-go"
	p.run = func() { batchMatMulGeneric(bp, dst, src0, src1) }
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
		am := a[p.aOff[q]:][:M*K]
		if p.transA { // A is stored [K, M]
			transpose2D(p.aT, am, K, M)
			am = p.aT
		}
		bm := b[p.bOff[q]:][:K*N] // [N, K] with adj_y
		if p.transB {
			if p.constB != nil {
				bm = p.constB[p.bOff[q]/(K*N)]
			} else {
				transpose2D(p.bT, bm, K, N)
				bm = p.bT
			}
		}
		var bias []int32
		if p.biasOff != nil {
			bias = p.bias[p.biasOff[q]:][:N]
		}
		o := dst[q*M*N:][:M*N]
		for i := range M {
			x := am[i*K:][:K]
			for j := range N {
				acc := dotOffset(x, bm[j*K:][:K], p.aZero, p.bZero)
				if bias != nil {
					acc += bias[j]
				}
				v := ruyMultiply(acc, p.mult, p.shift) + p.outZero
				o[i*N+j] = int8(fixedpoint.Clamp(v, p.lo, p.hi))
			}
		}
	}
}

// ruyMultiply is ruy's MultiplyByQuantizedMultiplier (the requantization of TensorFlow Lite's
// optimized int8 BATCH_MATMUL, through cpu_backend_gemm): x·multiplier·2^(shift−31), rounded once,
// ties toward +infinity, unlike gemmlowp's two roundings (fixedpoint.MultiplyByQuantizedMultiplier).
func ruyMultiply(x, multiplier int32, shift int) int32 {
	total := 31 - shift
	return int32((int64(x)*int64(multiplier) + int64(1)<<(total-1)) >> total)
}

package runtime

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// The transformer family against float references: BatchMatMul with broadcasting, adjoints and a
// bias; GELU's table; LayerNorm (float statistics, documented in FORMAT.md §5). Each runs in both
// requantization modes without allocating (check).

func TestBatchMatMulAgainstFloat(t *testing.T) {
	for _, c := range []struct {
		name       string
		a, b, out  []int
		adjX, adjY bool
		bias       bool
	}{
		{"rank3", []int{2, 5, 7}, []int{2, 7, 4}, []int{2, 5, 4}, false, false, false},
		{"adj_y/broadcast", []int{1, 3, 6}, []int{2, 4, 6}, []int{2, 3, 4}, false, true, false},
		{"adj_x/rank4", []int{1, 2, 5, 3}, []int{1, 2, 5, 4}, []int{1, 2, 3, 4}, true, false, false},
		{"bias/const-broadcast", []int{2, 1, 4, 6}, []int{3, 6, 5}, []int{2, 3, 4, 5}, false, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBuilder(21)
			qa, qb := pt(0.04, -5), pt(0.03, 7)
			K := c.a[len(c.a)-1]
			if c.adjX {
				K = c.a[len(c.a)-2]
			}
			qo := pt(0.04*0.03*float32(math.Sqrt(float64(K)))*74*74/40, 3)
			x := b.act("a", c.a, qa)
			var y int
			if c.bias {
				y = b.weights("b", c.b, qb)
			} else {
				y = b.act("b", c.b, qb)
			}
			out := b.act("out", c.out, qo)
			ins := []int{x, y}
			nb := 1
			for _, d := range c.b[:len(c.b)-2] {
				nb *= d
			}
			N := c.out[len(c.out)-1]
			var biasVals []int32
			if c.bias {
				bi := b.bias("bias", nb*N, 0.04*0.03)
				biasVals = b.m.Tensors[bi].Int32s()
				ins = append(ins, bi)
			}
			b.op(models.Op{Type: models.OpBatchMatMul, Name: "bmm", Inputs: ins, Outputs: []int{out}, AdjX: c.adjX, AdjY: c.adjY})
			b.m.Inputs, b.m.Outputs = []int{x}, []int{out}
			if !c.bias {
				b.m.Inputs = []int{x, y}
			}
			m := &b.m
			check(t, b, func(in [][]byte) []float64 {
				bdata := m.Tensors[y].Data
				if !c.bias {
					bdata = in[1]
				}
				return bmmReference(m, x, y, in[0], bdata, c.a, c.b, c.out, c.adjX, c.adjY, biasVals, qo)
			}, 1)
		})
	}
}

// bmmReference computes the batch matrix product in float64 from the dequantized operands.
func bmmReference(m *models.Model, x, y int, adata, bdata []byte, as, bs, os []int, adjX, adjY bool, bias []int32, qo *models.Quant) []float64 {
	r := len(os)
	ext := func(s []int) []int {
		e := make([]int, r)
		for i := range e {
			e[i] = 1
		}
		copy(e[r-len(s):], s)
		return e
	}
	ea, eb := ext(as), ext(bs)
	M, N := os[r-2], os[r-1]
	K := ea[r-1]
	if adjX {
		K = ea[r-2]
	}
	batches := 1
	for _, d := range os[:r-2] {
		batches *= d
	}
	res := make([]float64, 0, batches*M*N)
	idx := make([]int, r-2)
	for range batches {
		ia, ib := 0, 0
		for d := range r - 2 {
			ia = ia*ea[d] + min(idx[d], ea[d]-1)
			ib = ib*eb[d] + min(idx[d], eb[d]-1)
		}
		for i := range M {
			for j := range N {
				s := 0.0
				for k := range K {
					ai := ia*M*K + i*K + k
					if adjX {
						ai = ia*M*K + k*M + i
					}
					bi := ib*K*N + k*N + j
					if adjY {
						bi = ib*K*N + j*K + k
					}
					s += deq(&m.Tensors[x], adata, ai, 0) * deq(&m.Tensors[y], bdata, bi, 0)
				}
				if bias != nil {
					s += float64(bias[ib*N+j]) * float64(m.Tensors[x].Quant.Scale[0]) * float64(m.Tensors[y].Quant.Scale[0])
				}
				res = append(res, requant(s, qo, -128, 127))
			}
		}
		for d := r - 3; d >= 0; d-- {
			if idx[d]++; idx[d] < os[d] {
				break
			}
			idx[d] = 0
		}
	}
	return res
}

func TestGeluAgainstFloat(t *testing.T) {
	for _, approx := range []bool{false, true} {
		b := newBuilder(22)
		qi, qo := pt(0.03, 4), pt(0.016, -118)
		in := b.act("in", []int{3, 100}, qi)
		out := b.act("out", []int{3, 100}, qo)
		b.op(models.Op{Type: models.OpGelu, Inputs: []int{in}, Outputs: []int{out}, Approximate: approx})
		b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
		m := &b.m
		check(t, b, func(ins [][]byte) []float64 {
			res := make([]float64, 300)
			for i := range res {
				x := deq(&m.Tensors[in], ins[0], i, 0)
				y := 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
				if approx {
					y = 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
				}
				res[i] = requant(y, qo, -128, 127)
			}
			return res
		}, 1)
	}
}

func floatData(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestLayerNormAgainstFloat(t *testing.T) {
	b := newBuilder(23)
	const rows, D = 6, 48
	qi, qo := pt(0.05, -9), pt(0.025, 3)
	gamma, beta := make([]float32, D), make([]float32, D)
	for i := range D {
		gamma[i] = 0.5 + b.rng.Float32()
		beta[i] = 0.6 * (b.rng.Float32() - 0.5)
	}
	in := b.act("in", []int{1, rows, D}, qi)
	g := b.tensor("gamma", models.Float32, []int{D}, nil, floatData(gamma))
	bt := b.tensor("beta", models.Float32, []int{D}, nil, floatData(beta))
	out := b.act("out", []int{1, rows, D}, qo)
	const eps = 1e-5
	b.op(models.Op{Type: models.OpLayerNorm, Name: "ln", Inputs: []int{in, g, bt}, Outputs: []int{out}, Beta: eps})
	b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
	m := &b.m
	check(t, b, func(ins [][]byte) []float64 {
		res := make([]float64, rows*D)
		for r := range rows {
			var mean, v float64
			for i := range D {
				mean += deq(&m.Tensors[in], ins[0], r*D+i, 0)
			}
			mean /= D
			for i := range D {
				d := deq(&m.Tensors[in], ins[0], r*D+i, 0) - mean
				v += d * d
			}
			v /= D
			for i := range D {
				x := (deq(&m.Tensors[in], ins[0], r*D+i, 0) - mean) / math.Sqrt(v+eps)
				res[r*D+i] = requant(x*float64(gamma[i])+float64(beta[i]), qo, -128, 127)
			}
		}
		return res
	}, 1)
}

func TestViTOpErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *builder)
		want  string
	}{
		{"bmm inner mismatch", func(b *builder) {
			x, y := b.act("a", []int{1, 3, 4}, pt(0.1, 0)), b.act("b", []int{1, 5, 2}, pt(0.1, 0))
			o := b.act("o", []int{1, 3, 2}, pt(0.1, 0))
			b.op(models.Op{Type: models.OpBatchMatMul, Name: "bmm", Inputs: []int{x, y}, Outputs: []int{o}})
			b.m.Inputs, b.m.Outputs = []int{x, y}, []int{o}
		}, `op 0 (BatchMatMul "bmm"): operands [1 3 4] (adj_x false) and [1 5 2] (adj_y false) do not multiply`},
		{"bmm batch mismatch", func(b *builder) {
			x, y := b.act("a", []int{2, 3, 4}, pt(0.1, 0)), b.act("b", []int{3, 4, 2}, pt(0.1, 0))
			o := b.act("o", []int{3, 3, 2}, pt(0.1, 0))
			b.op(models.Op{Type: models.OpBatchMatMul, Name: "bmm", Inputs: []int{x, y}, Outputs: []int{o}})
			b.m.Inputs, b.m.Outputs = []int{x, y}, []int{o}
		}, "do not broadcast"},
		{"bmm rank 1", func(b *builder) {
			x, y := b.act("a", []int{4}, pt(0.1, 0)), b.act("b", []int{4, 2}, pt(0.1, 0))
			o := b.act("o", []int{2}, pt(0.1, 0))
			b.op(models.Op{Type: models.OpBatchMatMul, Name: "bmm", Inputs: []int{x, y}, Outputs: []int{o}})
			b.m.Inputs, b.m.Outputs = []int{x, y}, []int{o}
		}, "ranks 2 to"},
		{"layernorm activation gamma", func(b *builder) {
			x, g := b.act("x", []int{2, 4}, pt(0.1, 0)), b.act("g", []int{4}, pt(0.1, 0))
			o := b.act("o", []int{2, 4}, pt(0.1, 0))
			b.op(models.Op{Type: models.OpLayerNorm, Name: "ln", Inputs: []int{x, g}, Outputs: []int{o}})
			b.m.Inputs, b.m.Outputs = []int{x, g}, []int{o}
		}, `op 0 (LayerNorm "ln"): gamma "g" is int8 (constant: false); want a float32 constant`},
		{"layernorm gamma size", func(b *builder) {
			x := b.act("x", []int{2, 4}, pt(0.1, 0))
			g := b.tensor("g", models.Float32, []int{3}, nil, floatData([]float32{1, 1, 1}))
			o := b.act("o", []int{2, 4}, pt(0.1, 0))
			b.op(models.Op{Type: models.OpLayerNorm, Name: "ln", Inputs: []int{x, g}, Outputs: []int{o}})
			b.m.Inputs, b.m.Outputs = []int{x}, []int{o}
		}, `gamma "g" has shape [3], want [4]`},
		{"gelu float", func(b *builder) {
			x := b.tensor("x", models.Float32, []int{4}, nil, nil)
			o := b.act("o", []int{4}, pt(0.1, 0))
			b.op(models.Op{Type: models.OpGelu, Name: "gelu", Inputs: []int{x}, Outputs: []int{o}})
			b.m.Inputs, b.m.Outputs = []int{x}, []int{o}
		}, "int8 only"},
	}
	for _, c := range cases {
		b := newBuilder(1)
		c.build(b)
		_, err := New(&b.m, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

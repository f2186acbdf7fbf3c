package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// TestMulBroadcastAgainstFloat checks Mul's broadcasting on odd shapes, including the ones where
// dimensions merge (per-channel, per-row, scalar) and where they cannot (both inputs broadcast on
// different axes), against the float product, within one step, on both requantizations; and that
// Run allocates nothing (checkMode).
func TestMulBroadcastAgainstFloat(t *testing.T) {
	for k, sh := range [][3][]int{
		{{1, 5, 6, 7}, {1, 5, 6, 7}, {1, 5, 6, 7}},
		{{1, 5, 6, 7}, {1, 1, 1, 7}, {1, 5, 6, 7}},          // squeeze-excitation
		{{1, 5, 6, 7}, {7}, {1, 5, 6, 7}},                   // per-channel constant
		{{1, 3, 4, 5}, {1}, {1, 3, 4, 5}},                   // scalar
		{{2, 1, 3, 1}, {1, 4, 1, 5}, {2, 4, 3, 5}},          // both broadcast
		{{2, 7, 8}, {2, 7, 1}, {2, 7, 8}},                   // per row
		{{1, 1, 1, 9}, {1, 4, 3, 9}, {1, 4, 3, 9}},          // broadcast first operand
		{{3, 1, 2, 1, 2}, {1, 2, 1, 3, 1}, {3, 2, 2, 3, 2}}, // rank 5
	} {
		t.Run(fmt.Sprintf("%v*%v", sh[0], sh[1]), func(t *testing.T) {
			b := newBuilder(uint64(40 + k))
			qa, qb, qo := pt(0.047, 5), pt(0.031, -12), pt(0.09, 2)
			x := b.act("a", sh[0], qa)
			y := b.act("b", sh[1], qb)
			out := b.act("out", sh[2], qo)
			b.op(models.Op{Type: models.OpMul, Inputs: []int{x, y}, Outputs: []int{out}})
			b.m.Inputs, b.m.Outputs = []int{x, y}, []int{out}
			m := &b.m
			check(t, b, func(ins [][]byte) []float64 {
				o := sh[2]
				n := 1
				for _, d := range o {
					n *= d
				}
				res := make([]float64, n)
				idx := func(s []int, flat int) int { // the element of s that output element flat reads
					r, st := 0, 1
					for d := len(o) - 1; d >= 0; d-- {
						c := flat % o[d]
						flat /= o[d]
						if j := d - (len(o) - len(s)); j >= 0 {
							if s[j] != 1 {
								r += c * st
							}
							st *= s[j]
						}
					}
					return r
				}
				for i := range res {
					va := deq(&m.Tensors[x], ins[0], idx(sh[0], i), 0)
					vb := deq(&m.Tensors[y], ins[1], idx(sh[1], i), 0)
					res[i] = requant(va*vb, qo, -128, 127)
				}
				return res
			}, 1)
		})
	}
}

func TestLogisticHardSwishAgainstFloat(t *testing.T) {
	for _, c := range []struct {
		typ    models.OpType
		f      func(float64) float64
		qi, qo *models.Quant
	}{
		{models.OpLogistic, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, pt(0.06, -7), pt(1.0/256, -128)},
		{models.OpHardSwish, func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 }, pt(0.05, -11), pt(0.036, -60)},
		{models.OpHardSwish, func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 }, pt(0.2, 3), pt(0.11, -100)},
	} {
		t.Run(fmt.Sprint(c.typ), func(t *testing.T) {
			b := newBuilder(77)
			in := b.act("in", []int{1, 256}, c.qi)
			out := b.act("out", []int{1, 256}, c.qo)
			b.op(models.Op{Type: c.typ, Inputs: []int{in}, Outputs: []int{out}})
			b.m.Inputs, b.m.Outputs = []int{in}, []int{out}
			m := &b.m
			check(t, b, func(ins [][]byte) []float64 {
				res := make([]float64, 256)
				for i := range res {
					res[i] = requant(c.f(deq(&m.Tensors[in], ins[0], i, 0)), c.qo, -128, 127)
				}
				return res
			}, 1)
		})
	}
}

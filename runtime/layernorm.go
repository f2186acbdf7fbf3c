package runtime

import (
	"math"

	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpLayerNorm] = prepareLayerNorm
}

// layerNormParams are the prepared parameters of an int8 LayerNorm (FORMAT.md §5): per channel
// g = gamma/outScale and b = beta/outScale + outZero; eps2 = epsilon/inScale², the epsilon in
// units of the input's steps.
type layerNormParams struct {
	rows, depth int
	inZero      int32
	eps2        float64
	g, b        []float32
}

func prepareLayerNorm(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	in, beta, out := c.input(0), c.input(2), c.output(0)
	if len(in.Shape) == 0 {
		return c.errorf("input %q is a scalar", in.Name)
	}
	if err := c.wantShape(out, in.Shape); err != nil {
		return err
	}
	si, zi, err := c.quantized("input", in)
	if err != nil {
		return err
	}
	so, zo, err := c.quantized("output", out)
	if err != nil {
		return err
	}
	D := in.Shape[len(in.Shape)-1]
	if D == 0 {
		return c.errorf("input %q has an empty last dimension", in.Name)
	}
	param := func(what string, k int) ([]float32, error) {
		t := c.input(k)
		if t.Type != models.Float32 || !c.isConst(k) {
			return nil, c.unsupported("%s %q is %s (constant: %v); want a float32 constant", what, t.Name, t.Type, c.isConst(k))
		}
		if t.NumElements() != D {
			return nil, c.errorf("%s %q has shape %v, want [%d]", what, t.Name, t.Shape, D)
		}
		return t.Float32s(), nil
	}
	g, err := param("gamma", 1)
	if err != nil {
		return err
	}
	lp := &layerNormParams{rows: in.NumElements() / D, depth: D, inZero: zi, g: make([]float32, D), b: make([]float32, D)}
	var bv []float32
	if beta != nil {
		if bv, err = param("beta", 2); err != nil {
			return err
		}
	}
	eps := float64(c.op.Beta)
	if math.IsNaN(eps) || eps < 0 {
		return c.errorf("epsilon %v", c.op.Beta)
	}
	lp.eps2 = eps / (float64(si) * float64(si))
	for i := range D {
		lp.g[i] = g[i] / so
		lp.b[i] = float32(zo)
		if bv != nil {
			lp.b[i] = bv[i]/so + float32(zo)
		}
	}
	src, dst := in.Int8s(), out.Int8s()
	p.kernel = "layernorm-go"
	p.run = func() { layerNormGeneric(lp, dst, src) }
	return nil
}

// layerNormGeneric normalises each row of depth values: the exact integer sums Σq and Σq² give
// the mean and variance in input steps (float64), then each output is
// round(((q − mean)·rstd)·g[c] + b[c]) in float32 with every product rounded on its own (no fused
// multiply-add, so that every platform gives the same bytes), clamped to int8.
func layerNormGeneric(p *layerNormParams, dst, src []int8) {
	D := p.depth
	for r := range p.rows {
		x := src[r*D:][:D]
		o := dst[r*D:][:D]
		var s, s2 int64
		for _, v := range x {
			q := int64(v)
			s += q
			s2 += q * q
		}
		mean := float64(s) / float64(D)
		variance := max(float64(s2)/float64(D)-mean*mean, 0)
		rstd := float32(1 / math.Sqrt(variance+p.eps2))
		m := float32(mean)
		for i, v := range x {
			n := float32(float32(v)-m) * rstd
			y := float32(n*p.g[i]) + p.b[i]
			o[i] = int8(min(max(math.Round(float64(y)), -128), 127))
		}
	}
}

package runtime

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	"github.com/edgeinfer/edgeinfer/models"
)

// opContext gives a preparer its op, its tensors and error messages that name them.
type opContext struct {
	it    *Interpreter
	index int
	op    *models.Op
	opt   Options
}

// preparers holds each op type's prepare function: it checks the op, computes its parameters and
// sets p.run (and p.kernel, p.macs).
var preparers = map[models.OpType]func(c *opContext, p *preparedOp) error{}

func (c *opContext) errorf(format string, args ...any) error {
	name := ""
	if c.op.Name != "" {
		name = fmt.Sprintf(" %q", c.op.Name)
	}
	return fmt.Errorf("runtime: model %q: op %d (%s%s): %s", c.it.model.Name, c.index, c.op.Type, name, fmt.Sprintf(format, args...))
}

// unsupported wraps ErrUnsupported.
func (c *opContext) unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %w", c.errorf(format, args...), ErrUnsupported)
}

// input returns input k, nil if it is absent (-1) or not there at all.
func (c *opContext) input(k int) *Tensor {
	if k >= len(c.op.Inputs) || c.op.Inputs[k] < 0 {
		return nil
	}
	return &c.it.tensors[c.op.Inputs[k]]
}

func (c *opContext) output(k int) *Tensor {
	if k >= len(c.op.Outputs) {
		return nil
	}
	return &c.it.tensors[c.op.Outputs[k]]
}

// arity checks the number of inputs (between min and max) and outputs.
func (c *opContext) arity(minIn, maxIn, outs int) error {
	if n := len(c.op.Inputs); n < minIn || n > maxIn {
		if minIn == maxIn {
			return c.errorf("has %d inputs, want %d", n, minIn)
		}
		return c.errorf("has %d inputs, want %d to %d", n, minIn, maxIn)
	}
	for k := 0; k < minIn; k++ {
		if c.op.Inputs[k] < 0 {
			return c.errorf("required input %d is absent", k)
		}
	}
	if n := len(c.op.Outputs); n != outs {
		return c.errorf("has %d outputs, want %d", n, outs)
	}
	return nil
}

// quantized checks that t is a quantized int8 activation or constant with one scale and returns
// its scale and zero point.
func (c *opContext) quantized(what string, t *Tensor) (scale float32, zero int32, err error) {
	if t.Type != models.Int8 {
		return 0, 0, c.unsupported("%s %q is %s; this op runs on int8 only", what, t.Name, t.Type)
	}
	if t.Quant == nil || len(t.Quant.Scale) == 0 {
		return 0, 0, c.errorf("%s %q has no quantization parameters", what, t.Name)
	}
	if len(t.Quant.Scale) != 1 {
		return 0, 0, c.unsupported("%s %q has per-channel quantization; only per-tensor is supported here", what, t.Name)
	}
	s := t.Quant.Scale[0]
	if !(s > 0) || math.IsInf(float64(s), 0) {
		return 0, 0, c.errorf("%s %q has invalid scale %g", what, t.Name, s)
	}
	z := t.Quant.ZeroAt(0)
	if z < -128 || z > 127 {
		return 0, 0, c.errorf("%s %q has zero point %d outside int8", what, t.Name, z)
	}
	return s, z, nil
}

// rank checks the number of dimensions of t.
func (c *opContext) rank(what string, t *Tensor, r int) error {
	if len(t.Shape) != r {
		return c.errorf("%s %q has shape %v, want %d dimensions", what, t.Name, t.Shape, r)
	}
	return nil
}

// wantShape checks that the output tensor has the shape the op computes.
func (c *opContext) wantShape(t *Tensor, want []int) error {
	if !slices.Equal(t.Shape, want) {
		return c.errorf("output %q has shape %v, the op computes %v", t.Name, t.Shape, want)
	}
	return nil
}

// activationRange is TensorFlow Lite's CalculateActivationRangeQuantized for int8 outputs.
func activationRange(act models.Activation, scale float32, zero int32) (lo, hi int32, ok bool) {
	q := func(f float32) int32 { return zero + int32(math.Round(float64(f/scale))) }
	lo, hi = -128, 127
	switch act {
	case models.ActNone:
	case models.ActReLU:
		lo = max(lo, q(0))
	case models.ActReLU6:
		lo, hi = max(lo, q(0)), min(hi, q(6))
	case models.ActReLUN1:
		lo, hi = max(lo, q(-1)), min(hi, q(1))
	default:
		return 0, 0, false
	}
	return lo, hi, true
}

// outputQuant computes the output's clamp range for the op's fused activation.
func (c *opContext) outputRange(scale float32, zero int32) (lo, hi int32, err error) {
	lo, hi, ok := activationRange(c.op.Activation, scale, zero)
	if !ok {
		return 0, 0, c.unsupported("fused activation %s", c.op.Activation)
	}
	if lo > hi {
		return 0, 0, c.errorf("fused activation %s leaves an empty output range for scale %g zero point %d", c.op.Activation, scale, zero)
	}
	return lo, hi, nil
}

// biasData decodes an optional int32 bias of n elements.
func (c *opContext) bias(k, n int) ([]int32, error) {
	b := c.input(k)
	if b == nil {
		return make([]int32, n), nil
	}
	if b.Type != models.Int32 {
		return nil, c.unsupported("bias %q is %s, want int32", b.Name, b.Type)
	}
	if b.NumElements() != n {
		return nil, c.errorf("bias %q has %d elements, want %d", b.Name, b.NumElements(), n)
	}
	if len(b.data) != 4*n {
		return nil, c.errorf("bias %q must be a constant", b.Name)
	}
	out := make([]int32, n)
	for i := range out {
		d := b.data[4*i:]
		out[i] = int32(uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16 | uint32(d[3])<<24)
	}
	return out, nil
}

// channelQuant holds per-output-channel requantization, in both forms.
type channelQuant struct {
	fp32       bool      // requantize with scale (XNNPACK) rather than mult/shift (reference)
	scale      []float32 // inScale * wScale[c] / outScale, in float32 arithmetic
	mult       []int32
	shift      []int32
	weightZero []int32
	outZero    int32
	lo, hi     int32 // output clamp
}

// requantize maps the accumulator of output channel c to the int8 output.
func (q *channelQuant) requantize(acc int32, c int) int8 {
	if q.fp32 {
		// XNNPACK's fp32 requantization: float32(acc) * scale, clamped, rounded half to even. The
		// bounds are integers, so clamping before or after rounding gives the same result.
		v := float32(acc) * q.scale[c]
		v = min(max(v, float32(q.lo-q.outZero)), float32(q.hi-q.outZero))
		return int8(int32(math.RoundToEven(float64(v))) + q.outZero)
	}
	v := fixedpoint.MultiplyByQuantizedMultiplier(acc, q.mult[c], int(q.shift[c])) + q.outZero
	return int8(fixedpoint.Clamp(v, q.lo, q.hi))
}

// filterQuant computes per-channel multipliers for a filter whose channel dimension is axis with n
// channels: real = inScale * wScale[c] / outScale, as TensorFlow Lite does (per-tensor filters:
// the product in float32, then double; per-channel: all in double).
func (c *opContext) filterQuant(w *Tensor, axis, n int, inScale, outScale float32) (*channelQuant, error) {
	if w.Type != models.Int8 {
		return nil, c.unsupported("filter %q is %s; int8 filters only", w.Name, w.Type)
	}
	if w.data == nil {
		return nil, c.unsupported("filter %q is not a constant", w.Name)
	}
	q := w.Quant
	if q == nil || len(q.Scale) == 0 {
		return nil, c.errorf("filter %q has no quantization parameters", w.Name)
	}
	if len(q.Scale) != 1 && (len(q.Scale) != n || q.Axis != axis) {
		return nil, c.errorf("filter %q has %d scales on axis %d, want 1 or %d on axis %d", w.Name, len(q.Scale), q.Axis, n, axis)
	}
	if len(q.ZeroPoint) > 1 && len(q.ZeroPoint) != len(q.Scale) {
		return nil, c.errorf("filter %q has %d zero points for %d scales", w.Name, len(q.ZeroPoint), len(q.Scale))
	}
	cq := &channelQuant{fp32: c.opt.Requantization != Reference, scale: make([]float32, n),
		mult: make([]int32, n), shift: make([]int32, n), weightZero: make([]int32, n)}
	for ch := 0; ch < n; ch++ {
		ws := q.ScaleAt(ch % len(q.Scale))
		if !(ws > 0) || math.IsInf(float64(ws), 0) {
			return nil, c.errorf("filter %q channel %d has invalid scale %g", w.Name, ch, ws)
		}
		var real float64
		if len(q.Scale) == 1 {
			real = float64(inScale*ws) / float64(outScale)
		} else {
			real = float64(inScale) * float64(ws) / float64(outScale)
		}
		m, s := fixedpoint.QuantizeMultiplier(real)
		if s > 30 {
			return nil, c.errorf("channel %d: requantization scale %g too large", ch, real)
		}
		cq.mult[ch], cq.shift[ch] = m, int32(s)
		cq.scale[ch] = inScale * ws / outScale
		// TensorFlow Lite leaves a layer with a per-tensor scale XNNPACK cannot represent to its own
		// kernels (the results barely differ: saturated, or the zero point). Per-channel filters stay
		// with XNNPACK whatever their scales: measured in runtime/tfliteref_test.go, a layer whose
		// first or last channel has a scale of about 700 is requantized as XNNPACK does in all its
		// other channels.
		if sc := cq.scale[ch]; len(q.Scale) == 1 && (sc < 0x1p-32 || sc >= 256) {
			cq.fp32 = false
		}
		z := q.ZeroAt(ch % max(1, len(q.ZeroPoint)))
		if z < -128 || z > 127 {
			return nil, c.errorf("filter %q channel %d has zero point %d outside int8", w.Name, ch, z)
		}
		cq.weightZero[ch] = z
	}
	return cq, nil
}

func stride(s int) int {
	if s <= 0 {
		return 1
	}
	return s
}

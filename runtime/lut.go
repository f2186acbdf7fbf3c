package runtime

import (
	"math"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
	"github.com/edgeinfer/edgeinfer/models"
)

// Activations of one 8-bit input element each (Logistic, HardSwish): whatever the arithmetic, the
// output byte depends only on the input byte, so the op computes its 256 answers once at prepare time,
// with TensorFlow Lite's arithmetic, and runs as a table lookup (TensorFlow Lite does the same for
// Logistic; for HardSwish the table holds exactly what its fixed-point kernel computes).

func init() {
	preparers[models.OpLogistic] = prepareLogistic
	preparers[models.OpHardSwish] = prepareHardSwish
}

// lutOperands checks a one-input elementwise op and returns its scales and zero points.
func (c *opContext) lutOperands() (in, out *Tensor, si float32, zi int32, so float32, zo int32, err error) {
	if err = c.arity(1, 1, 1); err != nil {
		return
	}
	in, out = c.input(0), c.output(0)
	if err = c.wantShape(out, in.Shape); err != nil {
		return
	}
	if si, zi, err = c.quantized("input", in); err != nil {
		return
	}
	so, zo, err = c.quantized("output", out)
	return
}

// runTable sets p.run to the lookup of table: kernels.Lookup (TBL/TBX on arm64), or with
// Options.Generic the loop in Go.
func (c *opContext) runTable(p *preparedOp, table *[256]byte, in, out *Tensor) {
	src, dst := in.Bytes(), out.Bytes()
	if c.opt.Generic {
		p.kernel = "lut-go"
		p.run = func() { requantizeTable(table, dst, src) }
		return
	}
	p.kernel = "lut-" + kernelName(kernels.Path())
	p.run = func() { kernels.Lookup(dst, src, table) }
}

// logisticTable is the 8-bit sigmoid as a table. TensorFlow Lite's XNNPACK engine (create_lut_elementwise
// with sigmoid) and its own int8 kernel (LUTPopulate in kernels/activations.cc) compute the same
// float32 function of the dequantized input; XNNPACK rounds the scaled result half to even (lrintf),
// TensorFlow Lite's kernel half away from zero (TfLiteRound).
func logisticTable(si float32, zi int32, so float32, zo int32, evenTies bool) *[256]byte {
	var t [256]byte
	inv := 1 / so
	for v := int32(-128); v <= 127; v++ {
		x := si * float32(v-zi)
		// XNNPACK's form keeps precision for positive x; TensorFlow Lite's kernel uses the plain one.
		y := 1 / (1 + float32(math.Exp(float64(-x))))
		if evenTies && !math.Signbit(float64(x)) {
			y = 1 - 1/(1+float32(math.Exp(float64(x))))
		}
		var r float64
		if evenTies {
			r = math.RoundToEven(float64(y * inv))
		} else {
			r = math.Round(float64(y * inv))
		}
		q := max(-128, min(127, int32(r)+zo))
		t[uint8(int8(v))] = byte(int8(q))
	}
	return &t
}

func prepareLogistic(c *opContext, p *preparedOp) error {
	in, out, si, zi, so, zo, err := c.lutOperands()
	if err != nil {
		return err
	}
	c.runTable(p, logisticTable(si, zi, so, zo, c.opt.Requantization == XNNPACK), in, out)
	return nil
}

// hardSwishParams are TensorFlow Lite's HardSwishParams (kernels/activations.cc, HardSwishPrepare):
// Q15 multipliers and exponents for the input on the output scale and for the "relu-ish" factor
// relu6(x+3)/6 on the scale where 3.0 is 32768.
type hardSwishParams struct {
	inZero, outZero  int32
	outMult, relMult int16
	outExp, relExp   int
}

// downScaleQ31ToQ15 is DownScaleInt32ToInt16Multiplier: a Q31 multiplier rounded to Q15.
func downScaleQ31ToQ15(m int32) int16 {
	const round = 1 << 15
	if m >= math.MaxInt32-round {
		return math.MaxInt16
	}
	return int16((m + round) >> 16)
}

func newHardSwishParams(si float32, zi int32, so float32, zo int32) (hardSwishParams, bool) {
	hires := (1.0 / 128.0) * si
	const reluish = 3.0 / 32768.0
	p := hardSwishParams{inZero: zi, outZero: zo}
	m, e := fixedpoint.QuantizeMultiplier(float64(hires / so))
	p.outMult, p.outExp = downScaleQ31ToQ15(m), e
	m, e = fixedpoint.QuantizeMultiplier(float64(hires / reluish))
	p.relMult, p.relExp = downScaleQ31ToQ15(m), e
	return p, p.outExp <= 0 // TensorFlow Lite refuses an output multiplier above one
}

// Q15 helpers of reference_ops::HardSwish (gemmlowp's int16 forms).
func satLeftShift16(v int16, n int) int16 {
	r := int64(v) * (1 << n)
	return int16(max(math.MinInt16, min(math.MaxInt16, r)))
}

func satRoundingDoublingHighMul16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - (1 << 14)
	}
	return int16((ab + nudge) / (1 << 15))
}

func satDoublingHighMul16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	return int16((int32(a) * int32(b)) / (1 << 15))
}

func roundingDivideByPOT16(x int16, exp int) int16 {
	return int16(fixedpoint.RoundingDivideByPOT(int32(x), exp))
}

// hardSwish is reference_ops::HardSwish for one int8 value.
func (p *hardSwishParams) hardSwish(v int8) int8 {
	in := int16(int32(v) - p.inZero)
	hires := in * (1 << 7)
	preshift := satRoundingDoublingHighMul16(hires, p.outMult)
	rel := hires
	if p.relExp > 0 {
		rel = satLeftShift16(rel, p.relExp-1)
	}
	rel = satRoundingDoublingHighMul16(rel, p.relMult)
	if p.relExp > 0 {
		rel = satLeftShift16(rel, 1)
	}
	if p.relExp < 0 {
		rel = roundingDivideByPOT16(rel, -p.relExp)
	}
	rel = int16((int32(rel) + (1 << 15)) >> 1)
	out := satDoublingHighMul16(rel, preshift)
	o := int32(roundingDivideByPOT16(out, -p.outExp)) + p.outZero
	return int8(max(-128, min(127, o)))
}

func prepareHardSwish(c *opContext, p *preparedOp) error {
	in, out, si, zi, so, zo, err := c.lutOperands()
	if err != nil {
		return err
	}
	hp, ok := newHardSwishParams(si, zi, so, zo)
	if !ok {
		return c.unsupported("input scale %g over output scale %g: a rescale by more than 128 (TensorFlow Lite refuses it too)", si, so)
	}
	var t [256]byte
	for v := -128; v <= 127; v++ {
		t[uint8(int8(v))] = byte(hp.hardSwish(int8(v)))
	}
	c.runTable(p, &t, in, out)
	return nil
}

func init() { preparers[models.OpTable] = prepareTable }

// prepareTable runs a Table op: the function is already a table, the model's second input (256
// int8 values indexed by the input byte as unsigned).
func prepareTable(c *opContext, p *preparedOp) error {
	if err := c.arity(2, 2, 1); err != nil {
		return err
	}
	in, tab, out := c.input(0), c.input(1), c.output(0)
	if in.Type != models.Int8 || out.Type != models.Int8 {
		return c.unsupported("input %q is %s and output %q %s; Table maps int8 to int8", in.Name, in.Type, out.Name, out.Type)
	}
	if !c.it.model.Tensors[c.op.Inputs[1]].IsConst() || tab.Type != models.Int8 || tab.NumElements() != 256 {
		return c.errorf("table %q must be a constant of 256 int8 values (it is %s %v)", tab.Name, tab.Type, tab.Shape)
	}
	if err := c.wantShape(out, in.Shape); err != nil {
		return err
	}
	t := (*[256]byte)(tab.Bytes())
	c.runTable(p, t, in, out)
	return nil
}

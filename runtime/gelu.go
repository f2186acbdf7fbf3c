package runtime

import (
	"math"

	"github.com/edgeinfer/edgeinfer/models"
)

func init() {
	preparers[models.OpGelu] = prepareGelu
}

// geluExact is TensorFlow Lite's GeluTransform in float32: 0.5·x·erfc(−x/√2).
func geluExact(x float32) float32 {
	return 0.5 * x * float32(math.Erfc(float64(x*float32(-math.Sqrt2/2))))
}

// geluTanh is TensorFlow Lite's GeluTransformApproximate in float32:
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func geluTanh(x float32) float32 {
	const k = float32(2 / math.SqrtPi * math.Sqrt2 / 2) // M_2_SQRTPI * M_SQRT1_2
	inner := k * (x + float32(float32(float32(0.044715)*x)*x)*x)
	return 0.5 * x * (1 + float32(math.Tanh(float64(inner))))
}

// lutInt8 fills table with f applied to every int8 value, as TensorFlow Lite's LUTPopulate does:
// dequantize, transform in float32, multiply by the output's inverse scale, round half away from
// zero, add the zero point, clamp. The table is indexed by the input byte (uint8(q)).
func lutInt8(table *[256]byte, inScale float32, inZero int32, outScale float32, outZero int32, f func(float32) float32) {
	inv := 1 / outScale
	for v := int32(-128); v <= 127; v++ {
		x := inScale * float32(v-inZero)
		y := float32(math.Round(float64(f(x) * inv)))
		q := int32(y) + outZero
		table[uint8(int8(v))] = byte(int8(min(max(q, -128), 127)))
	}
}

func prepareGelu(c *opContext, p *preparedOp) error {
	in, out, si, zi, so, zo, err := c.lutOperands()
	if err != nil {
		return err
	}
	table := new([256]byte)
	f := geluExact
	if c.op.Approximate {
		f = geluTanh
	}
	lutInt8(table, si, zi, so, zo, f)
	c.runTable(p, table, in, out)
	return nil
}

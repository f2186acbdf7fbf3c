package tflite

import (
	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// MUL (with broadcasting), LOGISTIC and HARD_SWISH: the ops of squeeze-excitation blocks,
// MobileNetV3 and EfficientNet.

func init() {
	builtinOps[tfl.BuiltinOperatorMUL] = (*opCtx).mul
	builtinOps[tfl.BuiltinOperatorLOGISTIC] = (*opCtx).elementwise
	builtinOps[tfl.BuiltinOperatorHARD_SWISH] = (*opCtx).elementwise
}

func (c *opCtx) mul() (*models.Op, error) {
	a, b, out, err := c.binary()
	if err != nil {
		return nil, err
	}
	shape, ok := models.BroadcastShape(a.t.Shape, b.t.Shape)
	if !ok {
		return nil, c.errorf("inputs of shapes %v and %v do not broadcast", a.t.Shape, b.t.Shape)
	}
	if len(shape) > 6 {
		return nil, c.errorf("inputs of rank %d: at most 6 are supported", len(shape))
	}
	o := c.newOp(models.OpMul, out, a, b)
	t, ok, err := c.options(tfl.BuiltinOptionsMulOptions)
	if err != nil {
		return nil, err
	}
	if ok {
		var opt tfl.MulOptions
		opt.Init(t.Bytes, t.Pos)
		if o.Activation, err = c.activation(opt.FusedActivationFunction()); err != nil {
			return nil, err
		}
	}
	if err := c.checkShape(out, shape, "the inputs' broadcast shape"); err != nil {
		return nil, err
	}
	return o, nil
}

// elementwise converts LOGISTIC and HARD_SWISH: one input, the output of the same shape.
func (c *opCtx) elementwise() (*models.Op, error) {
	_, in, out, err := c.operands(1, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkInOut(in, out); err != nil {
		return nil, err
	}
	if err := c.checkShape(out, in.t.Shape, "the input's shape"); err != nil {
		return nil, err
	}
	typ := models.OpLogistic
	if c.code == tfl.BuiltinOperatorHARD_SWISH {
		typ = models.OpHardSwish
	}
	return c.newOp(typ, out, in), nil
}

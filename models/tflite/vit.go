package tflite

import (
	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// The transformer family: BATCH_MATMUL and GELU.
func init() {
	builtinOps[tfl.BuiltinOperatorBATCH_MATMUL] = (*opCtx).batchMatMul
	builtinOps[tfl.BuiltinOperatorGELU] = (*opCtx).gelu
}

// batchMatMul converts BATCH_MATMUL (int8 × int8, either operand may be a constant); the runtime
// checks the shapes.
func (c *opCtx) batchMatMul() (*models.Op, error) {
	ins, a, out, err := c.operands(2, 2)
	if err != nil {
		return nil, err
	}
	b, err := c.need(ins, 1)
	if err != nil {
		return nil, err
	}
	for k, o := range []operand{a, b} {
		if err := c.checkAct([]string{"input 0", "input 1"}[k], o, models.Int8); err != nil {
			return nil, err
		}
	}
	if err := c.checkAct("output", out, models.Int8); err != nil {
		return nil, err
	}
	o := c.newOp(models.OpBatchMatMul, out, a, b)
	t, ok, err := c.options(tfl.BuiltinOptionsBatchMatMulOptions)
	if err != nil {
		return nil, err
	}
	if ok {
		var opt tfl.BatchMatMulOptions
		opt.Init(t.Bytes, t.Pos)
		o.AdjX, o.AdjY = opt.AdjX(), opt.AdjY()
	}
	return o, nil
}

// gelu converts GELU (int8, a 256-entry table in TensorFlow Lite as in the runtime).
func (c *opCtx) gelu() (*models.Op, error) {
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
	o := c.newOp(models.OpGelu, out, in)
	t, ok, err := c.options(tfl.BuiltinOptionsGeluOptions)
	if err != nil {
		return nil, err
	}
	if ok {
		var opt tfl.GeluOptions
		opt.Init(t.Bytes, t.Pos)
		o.Approximate = opt.Approximate()
	}
	return o, nil
}

package tflite

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models"
)

// check verifies the structure of a converted model: tensors consistent with their types, shapes
// and quantization; every op input defined before it is read (ops in execution order); every tensor
// written once; graph outputs computed. It stands in for a model-level validation in package models.
func check(m *models.Model) error {
	nt := len(m.Tensors)
	for i := range m.Tensors {
		if err := checkTensor(&m.Tensors[i]); err != nil {
			return fmt.Errorf("model tensor %d %q: %w", i, m.Tensors[i].Name, err)
		}
	}
	defined := make([]bool, nt)
	for i := range m.Tensors {
		defined[i] = m.Tensors[i].IsConst()
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		return fmt.Errorf("model has %d inputs and %d outputs", len(m.Inputs), len(m.Outputs))
	}
	for _, in := range m.Inputs {
		if in < 0 || in >= nt || defined[in] {
			return fmt.Errorf("model input %d is out of range, a constant or listed twice", in)
		}
		defined[in] = true
	}
	for i, op := range m.Ops {
		lo, hi, optional, ok := op.Type.Arity()
		if !ok {
			return fmt.Errorf("model op %d %q: unknown type %s", i, op.Name, op.Type)
		}
		if len(op.Inputs) < lo || (hi >= 0 && len(op.Inputs) > hi) || len(op.Outputs) != 1 {
			return fmt.Errorf("model op %d %q (%s): %d inputs and %d outputs", i, op.Name, op.Type, len(op.Inputs), len(op.Outputs))
		}
		for j, in := range op.Inputs {
			if in == -1 && j == optional {
				continue
			}
			if in < 0 || in >= nt || !defined[in] {
				return fmt.Errorf("model op %d %q (%s): input %d (tensor %d) is not computed before the op", i, op.Name, op.Type, j, in)
			}
		}
		for _, out := range op.Outputs {
			if out < 0 || out >= nt || defined[out] {
				return fmt.Errorf("model op %d %q (%s): output tensor %d is out of range, a constant, an input or written twice", i, op.Name, op.Type, out)
			}
			defined[out] = true
		}
	}
	for _, out := range m.Outputs {
		if out < 0 || out >= nt || !defined[out] || m.Tensors[out].IsConst() {
			return fmt.Errorf("model output tensor %d is not computed by the graph", out)
		}
	}
	return nil
}

func checkTensor(t *models.Tensor) error {
	if t.Type.Size() == 0 {
		return fmt.Errorf("unknown type %s", t.Type)
	}
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 || d > maxElements {
			return fmt.Errorf("bad shape %v", t.Shape)
		}
		n *= int64(d)
		if n > maxElements {
			return fmt.Errorf("shape %v too large", t.Shape)
		}
	}
	if t.Data != nil && int64(len(t.Data)) != n*int64(t.Type.Size()) {
		return fmt.Errorf("%d bytes of data for shape %v of %s", len(t.Data), t.Shape, t.Type)
	}
	if q := t.Quant; q != nil {
		ns, nz := len(q.Scale), len(q.ZeroPoint)
		if ns == 0 || nz > 1 && nz != ns {
			return fmt.Errorf("%d scales and %d zero points", ns, nz)
		}
		if ns > 1 && (q.Axis < 0 || q.Axis >= len(t.Shape) || t.Shape[q.Axis] != ns) {
			return fmt.Errorf("%d scales along dimension %d of shape %v", ns, q.Axis, t.Shape)
		}
	}
	return nil
}

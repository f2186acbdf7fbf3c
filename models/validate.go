package models

import (
	"errors"
	"fmt"
	"math"
)

// Validate checks the structure of m (FORMAT.md §6): dtypes, shapes and data lengths, quantization,
// op arity and attributes, tensor indices, graph inputs and outputs, that every activation has exactly
// one producer and that ops are in execution order, and the preprocessing. It does not check the
// op-specific shape semantics, which the runtime checks when it prepares the graph. The error is a
// *FormatError with Offset -1.
func (m *Model) Validate() error {
	if p := m.check(); p != nil {
		file := "model"
		if m != nil && m.Name != "" {
			file = fmt.Sprintf("model %q", shortName(m.Name))
		}
		return &FormatError{File: file, Section: p.label(m), Offset: -1, Err: p.err}
	}
	return nil
}

// opSig is the arity of an op type (FORMAT.md §5). Every op has exactly one output.
type opSig struct {
	minIn, maxIn int // maxIn -1: no limit
	optional     int // index of the input that may be -1 (absent), or -1 when none may
}

var opSigs = [...]opSig{
	OpConv2D:          {2, 3, 2},
	OpDepthwiseConv2D: {2, 3, 2},
	OpFullyConnected:  {2, 3, 2},
	OpAveragePool2D:   {1, 1, -1},
	OpMaxPool2D:       {1, 1, -1},
	OpMean:            {1, 1, -1},
	OpAdd:             {2, 2, -1},
	OpConcatenation:   {1, -1, -1},
	OpReshape:         {1, 1, -1},
	OpPad:             {1, 1, -1},
	OpSoftmax:         {1, 1, -1},
	OpQuantize:        {1, 1, -1},
	OpDequantize:      {1, 1, -1},
	OpMul:             {2, 2, -1},
	OpLogistic:        {1, 1, -1},
	OpHardSwish:       {1, 1, -1},
	OpTable:           {2, 2, -1},
	OpTranspose:       {1, 1, -1},
	OpSlice:           {1, 1, -1},
	OpBatchMatMul:     {2, 3, 2},
	OpGelu:            {1, 1, -1},
	OpLayerNorm:       {2, 3, 2},
}

// Arity returns the number of inputs an op type takes (at least minIn, at most maxIn; maxIn -1 for no
// limit) and the index of the input that may be absent (-1 for none); ok is false for an unknown type.
// Every op has exactly one output.
func (o OpType) Arity() (minIn, maxIn, optional int, ok bool) {
	if o == OpInvalid || int(o) >= len(opSigs) || opSigs[o] == (opSig{}) {
		return 0, 0, 0, false
	}
	s := opSigs[o]
	return s.minIn, s.maxIn, s.optional, true
}

// Producer marks used by check.
const (
	noProducer     = -1
	graphInputMark = -2
)

// check is Validate's work; it returns the first problem found, or nil.
func (m *Model) check() *problem {
	if m == nil {
		return &problem{kind: secGraph, err: errors.New("nil model")}
	}
	for i := range m.Tensors {
		if err := checkTensor(&m.Tensors[i]); err != nil {
			return &problem{kind: secTensor, index: i, err: err}
		}
	}
	nt := len(m.Tensors)
	inRange := func(idx int) error {
		if idx < 0 || idx >= nt {
			return fmt.Errorf("tensor %d out of range [0, %d)", idx, nt)
		}
		return nil
	}

	// Who produces each tensor: an op index, graphInputMark or noProducer.
	producer := make([]int, nt)
	for i := range producer {
		producer[i] = noProducer
	}
	if len(m.Inputs) == 0 {
		return &problem{kind: secInputs, err: errors.New("the model has no inputs")}
	}
	for k, idx := range m.Inputs {
		if err := inRange(idx); err != nil {
			return &problem{kind: secInputs, err: fmt.Errorf("input %d: %w", k, err)}
		}
		if m.Tensors[idx].IsConst() {
			return &problem{kind: secInputs, err: fmt.Errorf("input %d: tensor %d is a constant", k, idx)}
		}
		if producer[idx] != noProducer {
			return &problem{kind: secInputs, err: fmt.Errorf("input %d: tensor %d listed twice", k, idx)}
		}
		producer[idx] = graphInputMark
	}

	// Pass 1: op types, attributes, outputs (each activation produced once).
	for j := range m.Ops {
		op := &m.Ops[j]
		if err := checkOp(op); err != nil {
			return &problem{kind: secOp, index: j, err: err}
		}
		for k, idx := range op.Outputs {
			if err := inRange(idx); err != nil {
				return &problem{kind: secOp, index: j, err: fmt.Errorf("output %d: %w", k, err)}
			}
			if m.Tensors[idx].IsConst() {
				return &problem{kind: secOp, index: j, err: fmt.Errorf("output %d: tensor %d is a constant", k, idx)}
			}
			switch p := producer[idx]; {
			case p == graphInputMark:
				return &problem{kind: secOp, index: j, err: fmt.Errorf("output %d: tensor %d is a graph input", k, idx)}
			case p != noProducer:
				return &problem{kind: secOp, index: j, err: fmt.Errorf("output %d: tensor %d is already produced by op %d", k, idx, p)}
			}
			producer[idx] = j
		}
	}
	// Pass 2: inputs, which must be constants, graph inputs or outputs of earlier ops.
	for j := range m.Ops {
		op := &m.Ops[j]
		optional := opSigs[op.Type].optional
		for k, idx := range op.Inputs {
			if idx == -1 && k == optional {
				continue
			}
			if idx == -1 {
				return &problem{kind: secOp, index: j, err: fmt.Errorf("input %d: absent (-1) but required", k)}
			}
			if err := inRange(idx); err != nil {
				return &problem{kind: secOp, index: j, err: fmt.Errorf("input %d: %w", k, err)}
			}
			if m.Tensors[idx].IsConst() {
				continue
			}
			switch p := producer[idx]; {
			case p == noProducer:
				return &problem{kind: secOp, index: j, err: fmt.Errorf("input %d: tensor %d is not produced by any op nor a graph input", k, idx)}
			case p >= j:
				return &problem{kind: secOp, index: j, err: fmt.Errorf("input %d: tensor %d is produced by op %d, not an earlier op: ops must be in execution order", k, idx, p)}
			}
		}
	}
	for i := range m.Tensors {
		if !m.Tensors[i].IsConst() && producer[i] == noProducer {
			return &problem{kind: secTensor, index: i, err: errors.New("activation is neither produced by an op nor a graph input")}
		}
	}

	if len(m.Outputs) == 0 {
		return &problem{kind: secOutputs, err: errors.New("the model has no outputs")}
	}
	listed := make([]bool, nt) // linear, not quadratic, in the number of outputs
	for k, idx := range m.Outputs {
		if err := inRange(idx); err != nil {
			return &problem{kind: secOutputs, err: fmt.Errorf("output %d: %w", k, err)}
		}
		if m.Tensors[idx].IsConst() {
			return &problem{kind: secOutputs, err: fmt.Errorf("output %d: tensor %d is a constant", k, idx)}
		}
		if listed[idx] {
			return &problem{kind: secOutputs, err: fmt.Errorf("output %d: tensor %d listed twice", k, idx)}
		}
		listed[idx] = true
	}
	if m.Preprocess != nil {
		if err := checkPreprocess(m.Preprocess); err != nil {
			return &problem{kind: secPreprocess, err: err}
		}
	}
	return nil
}

func fitsInt32(v int) bool { return int64(v) >= math.MinInt32 && int64(v) <= math.MaxInt32 }

// tensorBytes is product(shape) × size(dtype), or an error if a dimension is negative or does not
// fit i32, or the size exceeds maxTensorBytes (FORMAT.md §6). dtype must be valid.
func tensorBytes(t *Tensor) (int, error) {
	n := uint64(t.Type.Size())
	for k, d := range t.Shape {
		if d < 0 || !fitsInt32(d) {
			return 0, fmt.Errorf("dimension %d is %d", k, d)
		}
		// n ≤ maxTensorBytes < 2^31 and d < 2^31: the product cannot overflow.
		if n *= uint64(d); n > maxTensorBytes {
			return 0, fmt.Errorf("shape %v of %v exceeds %d bytes", t.Shape, t.Type, maxTensorBytes)
		}
	}
	return int(n), nil
}

func checkTensor(t *Tensor) error {
	if t.Type.Size() == 0 {
		return fmt.Errorf("invalid dtype %v", t.Type)
	}
	size, err := tensorBytes(t)
	if err != nil {
		return err
	}
	if t.Data != nil && len(t.Data) != size {
		return fmt.Errorf("data length %d, want %d for %v %v", len(t.Data), size, t.Type, t.Shape)
	}
	if t.Quant != nil {
		if err := checkQuant(t.Quant, t); err != nil {
			return fmt.Errorf("quantization: %w", err)
		}
	}
	return nil
}

func checkQuant(q *Quant, t *Tensor) error {
	ns := len(q.Scale)
	if ns == 0 {
		return errors.New("no scale")
	}
	for c, s := range q.Scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) || s < 0 {
			return fmt.Errorf("scale %d is %v", c, s)
		}
	}
	if !fitsInt32(q.Axis) {
		return fmt.Errorf("axis %d", q.Axis)
	}
	if ns > 1 {
		if q.Axis < 0 || q.Axis >= len(t.Shape) {
			return fmt.Errorf("per-channel axis %d out of range for rank %d", q.Axis, len(t.Shape))
		}
		if t.Shape[q.Axis] != ns {
			return fmt.Errorf("%d scales, want 1 or %d (dimension %d)", ns, t.Shape[q.Axis], q.Axis)
		}
	}
	if nz := len(q.ZeroPoint); nz > 1 && nz != ns {
		return fmt.Errorf("%d zero points, want 0, 1 or %d", nz, ns)
	}
	lo, hi := int32(math.MinInt32), int32(math.MaxInt32)
	switch t.Type {
	case Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case UInt8:
		lo, hi = 0, math.MaxUint8
	case Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	}
	for c, z := range q.ZeroPoint {
		if z < lo || z > hi {
			return fmt.Errorf("zero point %d is %d, out of %v range", c, z, t.Type)
		}
	}
	return nil
}

func checkOp(op *Op) error {
	if op.Type == OpInvalid || int(op.Type) >= len(opSigs) {
		return fmt.Errorf("unknown op type %d", uint16(op.Type))
	}
	sig := opSigs[op.Type]
	if sig == (opSig{}) { // a reserved number without an op yet
		return fmt.Errorf("unknown op type %d", uint16(op.Type))
	}
	if n := len(op.Inputs); n < sig.minIn || (sig.maxIn >= 0 && n > sig.maxIn) {
		if sig.maxIn < 0 {
			return fmt.Errorf("%d inputs, want at least %d", n, sig.minIn)
		}
		if sig.minIn == sig.maxIn {
			return fmt.Errorf("%d inputs, want %d", n, sig.minIn)
		}
		return fmt.Errorf("%d inputs, want %d to %d", n, sig.minIn, sig.maxIn)
	}
	if len(op.Outputs) != 1 {
		return fmt.Errorf("%d outputs, want 1", len(op.Outputs))
	}
	nonNeg := func(name string, vs ...int) error {
		for k, v := range vs {
			if v < 0 || !fitsInt32(v) {
				return fmt.Errorf("%s[%d] is %d", name, k, v)
			}
		}
		return nil
	}
	for _, err := range []error{
		nonNeg("stride", op.Stride[:]...),
		nonNeg("dilation", op.Dilation[:]...),
		nonNeg("pad", op.Pad[:]...),
		nonNeg("kernel", op.Kernel[:]...),
		nonNeg("depth multiplier", op.DepthMultiplier),
		nonNeg("paddings", op.Paddings...),
	} {
		if err != nil {
			return err
		}
	}
	if len(op.Paddings)%2 != 0 {
		return fmt.Errorf("%d paddings, want before and after for each dimension", len(op.Paddings))
	}
	if op.Activation > ActReLUN1 {
		return fmt.Errorf("unknown %v", op.Activation)
	}
	if !fitsInt32(op.Axis) {
		return fmt.Errorf("axis %d", op.Axis)
	}
	for k, a := range op.Axes {
		if !fitsInt32(a) {
			return fmt.Errorf("axes[%d] is %d", k, a)
		}
	}
	if b := float64(op.Beta); math.IsNaN(b) || math.IsInf(b, 0) {
		return fmt.Errorf("beta is %v", op.Beta)
	}
	return nil
}

func checkPreprocess(p *Preprocess) error {
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	for c := range 3 {
		if !finite(p.Mean[c]) || !finite(p.Std[c]) {
			return fmt.Errorf("mean %v, std %v: not finite", p.Mean, p.Std)
		}
		if !p.Raw && !(p.Std[c] > 0) {
			return fmt.Errorf("std %v: must be > 0", p.Std)
		}
	}
	if !finite(p.CropFraction) || p.CropFraction < 0 || p.CropFraction > 1 {
		return fmt.Errorf("crop fraction %v, want [0, 1]", p.CropFraction)
	}
	switch p.Resize {
	case "", "bilinear", "nearest":
	default:
		return fmt.Errorf("unknown resize %q", shortName(p.Resize))
	}
	return nil
}

package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/edgeinfer/edgeinfer/models"
)

// Requantization selects how convolutions and fully connected layers scale their int32 accumulators
// to int8 outputs, and how Add, Mean and Quantize round. The two modes are TensorFlow Lite's two
// behaviours: with its XNNPACK delegate (which takes most quantized ops) and with its own kernels.
type Requantization int

const (
	// XNNPACK requantizes as TensorFlow Lite does by default on Arm and x86, through its XNNPACK
	// engine: float32(acc) * (inScale*wScale/outScale as float32), rounded half to even, plus the
	// zero point. It reproduces real TensorFlow Lite's outputs bit for bit on the reference models.
	XNNPACK Requantization = iota
	// Reference requantizes as TensorFlow Lite's reference kernels: a Q31 fixed-point multiplier
	// and a power-of-two shift with gemmlowp's double rounding (internal/fixedpoint). It can differ
	// from XNNPACK by one step per layer, which accumulates to a few steps at the output.
	Reference
)

func (r Requantization) String() string {
	switch r {
	case XNNPACK:
		return "xnnpack"
	case Reference:
		return "reference"
	}
	return fmt.Sprintf("requantization(%d)", int(r))
}

// ParseRequantization reads "xnnpack" or "reference".
func ParseRequantization(s string) (Requantization, error) {
	switch s {
	case "xnnpack", "":
		return XNNPACK, nil
	case "reference":
		return Reference, nil
	}
	return 0, fmt.Errorf("runtime: unknown requantization %q (xnnpack or reference)", s)
}

// Options tune how a model is prepared.
type Options struct {
	// Requantization of convolutions and fully connected layers; XNNPACK by default.
	Requantization Requantization
	// Generic forces the generic (reference) implementation of every op, even where a fast kernel
	// applies: the oracle for differential tests.
	Generic bool
	// Threads is the number of goroutines that share the work of the heavy ops (convolutions);
	// 0 or 1 runs everything on the caller's goroutine. Results are identical for any value.
	Threads int
}

// Interpreter runs one prepared model. It is not safe for concurrent use: make one per goroutine
// (they may share a *models.Model).
type Interpreter struct {
	model   *models.Model
	plan    *MemoryPlan
	arena   []byte
	tensors []Tensor
	ops     []preparedOp
	workers *workers
	// scratch holds one buffer per worker for the fast kernels (im2col tiles, padded rows).
	scratch     [][]int8
	scratchSize int
}

// preparedOp is one op with its kernel chosen and its parameters computed.
type preparedOp struct {
	index  int
	op     *models.Op
	kernel string // which implementation runs it, for inspect and tests
	macs   int64
	// run executes the op; parts, when set instead, executes part of n of it, so that workers can
	// share it.
	run   func()
	parts func(part, n int)
}

// OpInfo describes a prepared op, for tools such as `edgeinfer inspect`.
type OpInfo struct {
	Index   int
	Type    models.OpType
	Name    string
	Kernel  string
	MACs    int64
	Inputs  []int
	Outputs []int
}

// ErrUnsupported is wrapped by errors for ops, types or attributes the runtime does not implement.
var ErrUnsupported = errors.New("unsupported")

// New checks and prepares m for execution. The model must not change while the interpreter lives;
// constant data is used in place (it may alias a memory-mapped file).
func New(m *models.Model, opt Options) (*Interpreter, error) {
	if m == nil {
		return nil, errors.New("runtime: nil model")
	}
	if len(m.Ops) == 0 {
		return nil, fmt.Errorf("runtime: model %q has no ops", m.Name)
	}
	if err := checkStructure(m); err != nil {
		return nil, err
	}
	it := &Interpreter{model: m, plan: planMemory(m), workers: newWorkers(opt.Threads)}
	it.arena = make([]byte, it.plan.ArenaSize)
	it.tensors = make([]Tensor, len(m.Tensors))
	for i := range m.Tensors {
		t := &m.Tensors[i]
		v := Tensor{Name: t.Name, Type: t.Type, Shape: t.Shape, Quant: t.Quant}
		switch {
		case t.IsConst():
			v.data = t.Data
		case it.plan.Offset[i] >= 0:
			off := it.plan.Offset[i]
			v.data = it.arena[off : off+it.plan.Size[i] : off+it.plan.Size[i]]
		}
		it.tensors[i] = v
	}
	it.ops = make([]preparedOp, len(m.Ops))
	for i := range m.Ops {
		op := &m.Ops[i]
		prep, ok := preparers[op.Type]
		if !ok {
			return nil, fmt.Errorf("runtime: model %q: op %d (%s): %w operator", m.Name, i, op.Type, ErrUnsupported)
		}
		c := &opContext{it: it, index: i, op: op, opt: opt}
		p := preparedOp{index: i, op: op, kernel: "generic"}
		if err := prep(c, &p); err != nil {
			it.Close()
			return nil, err
		}
		if p.run == nil && p.parts == nil {
			it.Close()
			return nil, c.errorf("no kernel chosen")
		}
		it.ops[i] = p
	}
	it.scratch = make([][]int8, it.workers.n)
	for i := range it.scratch {
		it.scratch[i] = make([]int8, it.scratchSize)
	}
	return it, nil
}

// checkStructure verifies what the planner and the preparers index with: tensor indices in range,
// activation shapes non-negative, inputs and outputs listed.
func checkStructure(m *models.Model) error {
	n := len(m.Tensors)
	for i := range m.Tensors {
		t := &m.Tensors[i]
		if t.Type.Size() == 0 {
			return fmt.Errorf("runtime: model %q: tensor %d (%q): invalid type %s", m.Name, i, t.Name, t.Type)
		}
		elems := int64(1)
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("runtime: model %q: tensor %d (%q): negative dimension in shape %v", m.Name, i, t.Name, t.Shape)
			}
			elems *= int64(d)
			if elems > 1<<31 {
				return fmt.Errorf("runtime: model %q: tensor %d (%q): shape %v too large", m.Name, i, t.Name, t.Shape)
			}
		}
		if t.IsConst() && int64(len(t.Data)) != elems*int64(t.Type.Size()) {
			return fmt.Errorf("runtime: model %q: tensor %d (%q): %d bytes of data for shape %v of %s", m.Name, i, t.Name, len(t.Data), t.Shape, t.Type)
		}
	}
	inRange := func(what string, idx []int, optional bool) error {
		for _, t := range idx {
			if t == -1 && optional {
				continue
			}
			if t < 0 || t >= n {
				return fmt.Errorf("runtime: model %q: %s: tensor index %d out of range [0, %d)", m.Name, what, t, n)
			}
		}
		return nil
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		return fmt.Errorf("runtime: model %q: no inputs or no outputs", m.Name)
	}
	if err := inRange("inputs", m.Inputs, false); err != nil {
		return err
	}
	if err := inRange("outputs", m.Outputs, false); err != nil {
		return err
	}
	produced := make([]bool, n)
	for _, t := range m.Inputs {
		produced[t] = true
	}
	for i := range m.Ops {
		op := &m.Ops[i]
		where := fmt.Sprintf("op %d (%s)", i, op.Type)
		if err := inRange(where+" inputs", op.Inputs, true); err != nil {
			return err
		}
		if err := inRange(where+" outputs", op.Outputs, false); err != nil {
			return err
		}
		for _, t := range op.Inputs {
			if t >= 0 && !produced[t] && !m.Tensors[t].IsConst() {
				return fmt.Errorf("runtime: model %q: %s reads tensor %d (%q) before any op writes it", m.Name, where, t, m.Tensors[t].Name)
			}
		}
		for _, t := range op.Outputs {
			if m.Tensors[t].IsConst() {
				return fmt.Errorf("runtime: model %q: %s writes constant tensor %d (%q)", m.Name, where, t, m.Tensors[t].Name)
			}
			produced[t] = true
		}
	}
	for _, t := range m.Outputs {
		if !produced[t] && !m.Tensors[t].IsConst() {
			return fmt.Errorf("runtime: model %q: output tensor %d (%q) is never written", m.Name, t, m.Tensors[t].Name)
		}
	}
	return nil
}

// Run executes the model once on the current contents of the input tensors. It checks ctx between
// ops, and allocates nothing.
func (it *Interpreter) Run(ctx context.Context) error {
	for i := range it.ops {
		if err := ctx.Err(); err != nil {
			return err
		}
		if op := &it.ops[i]; op.parts != nil {
			it.workers.parallel(op.parts)
		} else {
			op.run()
		}
	}
	return nil
}

// Close stops the interpreter's worker goroutines. The interpreter must not be used afterwards.
func (it *Interpreter) Close() {
	if it.workers != nil {
		it.workers.close()
	}
}

// Model returns the model the interpreter runs.
func (it *Interpreter) Model() *models.Model { return it.model }

// NumInputs and NumOutputs count the graph's inputs and outputs.
func (it *Interpreter) NumInputs() int  { return len(it.model.Inputs) }
func (it *Interpreter) NumOutputs() int { return len(it.model.Outputs) }

// Input returns graph input i; write its bytes before Run.
func (it *Interpreter) Input(i int) *Tensor { return &it.tensors[it.model.Inputs[i]] }

// Output returns graph output i; read it after Run.
func (it *Interpreter) Output(i int) *Tensor { return &it.tensors[it.model.Outputs[i]] }

// Tensor returns tensor i of the model. Intermediate activations share arena bytes: read them only
// through a Probe, or not at all.
func (it *Interpreter) Tensor(i int) *Tensor { return &it.tensors[i] }

// Plan returns the memory plan.
func (it *Interpreter) Plan() *MemoryPlan { return it.plan }

// Ops describes the prepared ops in execution order.
func (it *Interpreter) Ops() []OpInfo {
	out := make([]OpInfo, len(it.ops))
	for i, p := range it.ops {
		out[i] = OpInfo{Index: i, Type: p.op.Type, Name: p.op.Name, Kernel: p.kernel, MACs: p.macs, Inputs: p.op.Inputs, Outputs: p.op.Outputs}
	}
	return out
}

// MACs is the number of multiply-accumulates of one inference.
func (it *Interpreter) MACs() int64 {
	var n int64
	for _, p := range it.ops {
		n += p.macs
	}
	return n
}

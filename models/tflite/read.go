package tflite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// ReadFile reads the TensorFlow Lite model at path. Errors name path; the model's Name is the
// file's base name without its extension.
func ReadFile(path string) (*models.Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tflite: %w", err)
	}
	return read(b, filepath.Base(path), path)
}

// Read converts the TensorFlow Lite flatbuffer b into a model. name, the file's base name, prefixes
// errors; the model's Name is name without its extension. Constant tensors alias b, except the ones
// converted from UINT8, which are copies: b must not be modified while the model is in use.
func Read(b []byte, name string) (m *models.Model, err error) { return read(b, name, name) }

// read is Read with errors prefixed by file instead of name.
func read(b []byte, name, file string) (m *models.Model, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, &panicError{file: file, value: p, stack: debug.Stack()}
		}
	}()
	if err := verifyModel(b); err != nil {
		return nil, fmt.Errorf("tflite: %s: %s%w", file, truncatedNote(b, err), err)
	}
	r := &reader{name: name, buf: b}
	m, err = r.read()
	if err != nil {
		return nil, fmt.Errorf("tflite: %s: %s%w", file, truncatedNote(b, err), err)
	}
	return m, nil
}

// truncatedNote is "truncated? " for the error of a file whose offsets point past its end, as a
// file cut short has: the rest of the message says which offset.
func truncatedNote(b []byte, err error) string {
	if strings.Contains(err.Error(), "outside the file") {
		return fmt.Sprintf("truncated or corrupt (%d bytes): ", len(b))
	}
	return ""
}

// panicError reports a panic of the flatbuffer accessors that the checks before them missed.
type panicError struct {
	file  string
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("tflite: %s: malformed flatbuffer: %v", e.file, e.value)
}

// reader holds the state of one conversion. Tensor and op indices below are the file's.
type reader struct {
	name    string
	buf     []byte
	m       *tfl.Model
	sg      *tfl.SubGraph
	tensors []*tensorInfo // converted on first use

	ops      []*models.Op // converted so far; tensor indices are ids (see id)
	producer map[int]int  // id -> index in ops of the op writing it
	alias    map[int]int  // file tensor -> the tensor that replaces it (folded ops)
	written  map[int]bool // file tensors written by an op so far
	isInput  map[int]bool // graph inputs
	readers  []int        // file tensor -> number of file ops reading it, +1 if a graph output
	extra    []models.Tensor
}

// Tensor ids while converting: ids below len(r.tensors) are the file's tensors, the others index
// r.extra (tensors the conversion adds) after subtracting len(r.tensors).

func (r *reader) read() (*models.Model, error) {
	r.m = tfl.GetRootAsModel(r.buf, 0)
	r.sg = new(tfl.SubGraph)
	if !r.m.Subgraphs(r.sg, 0) {
		return nil, errors.New("model has no subgraph")
	}
	r.tensors = make([]*tensorInfo, r.sg.TensorsLength())
	r.producer = map[int]int{}
	r.alias = map[int]int{}
	r.written = map[int]bool{}

	inputs, err := r.graphTensors(r.sg.InputsLength(), r.sg.Inputs, "input")
	if err != nil {
		return nil, err
	}
	r.isInput = map[int]bool{}
	for _, i := range inputs {
		r.isInput[i] = true
	}
	outputs, err := r.graphTensors(r.sg.OutputsLength(), r.sg.Outputs, "output")
	if err != nil {
		return nil, err
	}
	if err := r.countReaders(outputs); err != nil {
		return nil, err
	}

	var op tfl.Operator
	for i := range r.sg.OperatorsLength() {
		if !r.sg.Operators(&op, i) {
			return nil, fmt.Errorf("op %d missing", i)
		}
		if err := r.convertOp(i, &op); err != nil {
			return nil, err
		}
	}
	for i, id := range outputs {
		outputs[i] = r.resolve(id)
	}
	return r.finish(inputs, outputs)
}

// graphTensors reads the subgraph's inputs or outputs.
func (r *reader) graphTensors(n int, at func(int) int32, what string) ([]int, error) {
	ids := make([]int, n)
	seen := map[int]bool{}
	for j := range n {
		i := int(at(j))
		if _, err := r.tensor(i); err != nil {
			return nil, fmt.Errorf("graph %s %d: %w", what, j, err)
		}
		if seen[i] {
			return nil, fmt.Errorf("graph %s %d: tensor %d listed twice", what, j, i)
		}
		seen[i] = true
		ids[j] = i
	}
	if n == 0 {
		return nil, fmt.Errorf("model has no graph %s", what)
	}
	return ids, nil
}

// countReaders counts, for every tensor, the ops reading it and whether it is a graph output: a
// standalone ReLU is fused into its producer only if it is the producer's output's sole reader.
func (r *reader) countReaders(outputs []int) error {
	r.readers = make([]int, len(r.tensors))
	for _, o := range outputs {
		r.readers[o]++
	}
	var op tfl.Operator
	for i := range r.sg.OperatorsLength() {
		if !r.sg.Operators(&op, i) {
			return fmt.Errorf("op %d missing", i)
		}
		for j := range op.InputsLength() {
			if k := int(op.Inputs(j)); k >= 0 && k < len(r.readers) {
				r.readers[k]++
			}
		}
	}
	return nil
}

func (r *reader) resolve(id int) int {
	if a, ok := r.alias[id]; ok {
		return a
	}
	return id
}

// info returns the tensor of an id.
func (r *reader) info(id int) *tensorInfo {
	if id < len(r.tensors) {
		return r.tensors[id]
	}
	return &tensorInfo{t: r.extra[id-len(r.tensors)]}
}

func (r *reader) addExtra(t models.Tensor) int {
	r.extra = append(r.extra, t)
	return len(r.tensors) + len(r.extra) - 1
}

// onlyConsumer returns the one op that reads tensor id, nil if none or several do.
func (r *reader) onlyConsumer(id int) *models.Op {
	var found *models.Op
	for _, op := range r.ops {
		for _, in := range op.Inputs {
			if in == id {
				if found != nil && found != op {
					return nil
				}
				found = op
			}
		}
	}
	return found
}

// consumed reports whether any op reads tensor id.
func (r *reader) consumed(id int) bool {
	for _, op := range r.ops {
		if slices.Contains(op.Inputs, id) {
			return true
		}
	}
	return false
}

// finish gives UINT8 graph inputs and outputs their interface tensors, drops the tensors no op or
// graph input or output uses, renumbers, and checks the result.
func (r *reader) finish(inputs, outputs []int) (*models.Model, error) {
	var pre, post []*models.Op
	for i, id := range inputs {
		ti := r.info(id)
		if ti.t.IsConst() {
			return nil, fmt.Errorf("graph input %d: tensor %d %q is a constant", i, id, ti.t.Name)
		}
		if !ti.wasUint8 {
			continue
		}
		u8 := r.addExtra(models.Tensor{Name: ti.t.Name, Type: models.UInt8, Shape: ti.t.Shape, Quant: ti.fileQuant})
		inputs[i] = u8
		// A file QUANTIZE from this UINT8 input reads it as it is: TensorFlow Lite requantizes UINT8
		// to INT8 with its own kernel, which the runtime runs for a mixed-type Quantize.
		if q := r.onlyConsumer(id); q != nil && q.Type == models.OpQuantize && !slices.Contains(outputs, id) {
			q.Inputs[0] = u8
			continue
		}
		ti.t.Name += "/int8"
		pre = append(pre, &models.Op{Type: models.OpQuantize, Name: ti.t.Name, Inputs: []int{u8}, Outputs: []int{id}})
	}
	for i, id := range outputs {
		ti := r.info(id)
		if ti.t.IsConst() {
			return nil, fmt.Errorf("graph output %d: tensor %d %q is a constant", i, id, ti.t.Name)
		}
		if !ti.wasUint8 {
			continue
		}
		name := strings.TrimSuffix(ti.t.Name, "/int8")
		u8 := r.addExtra(models.Tensor{Name: name, Type: models.UInt8, Shape: ti.t.Shape, Quant: ti.fileQuant})
		outputs[i] = u8
		// Likewise a file QUANTIZE that makes this UINT8 output writes it directly.
		if k, ok := r.producer[id]; ok && r.ops[k].Type == models.OpQuantize && !r.consumed(id) &&
			!slices.Contains(inputs, id) && slices.Index(outputs, u8) == i {
			r.ops[k].Outputs[0] = u8
			continue
		}
		if ti.t.Name == name {
			ti.t.Name += "/int8"
		}
		post = append(post, &models.Op{Type: models.OpQuantize, Name: name, Inputs: []int{id}, Outputs: []int{u8}})
	}
	ops := append(append(pre, r.ops...), post...)

	// Keep the tensors in use, in the file's order, then the added ones.
	used := make([]bool, len(r.tensors)+len(r.extra))
	for _, op := range ops {
		for _, id := range op.Inputs {
			if id >= 0 {
				used[id] = true
			}
		}
		for _, id := range op.Outputs {
			used[id] = true
		}
	}
	for _, id := range inputs {
		used[id] = true
	}
	for _, id := range outputs {
		used[id] = true
	}
	index := make([]int, len(used))
	m := &models.Model{Name: strings.TrimSuffix(r.name, filepath.Ext(r.name))}
	for id, u := range used {
		index[id] = -1
		if u {
			index[id] = len(m.Tensors)
			m.Tensors = append(m.Tensors, r.info(id).t)
		}
	}
	renumber := func(ids []int) []int {
		out := make([]int, len(ids))
		for i, id := range ids {
			out[i] = -1
			if id >= 0 {
				out[i] = index[id]
			}
		}
		return out
	}
	for _, op := range ops {
		op.Inputs, op.Outputs = renumber(op.Inputs), renumber(op.Outputs)
		m.Ops = append(m.Ops, *op)
	}
	m.Inputs, m.Outputs = renumber(inputs), renumber(outputs)
	if err := check(m); err != nil {
		return nil, err
	}
	// The file format's structural rules too, so that every imported model can be converted.
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

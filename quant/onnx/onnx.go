package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/x448/float16"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	pb "github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb"
)

// The opset versions of the default domain that Read accepts.
const (
	MinOpset = 11
	MaxOpset = 17
)

// maxElements bounds one initializer, against garbled dims.
const maxElements = graph.MaxElements

// ReadFile reads and imports the ONNX model at path.
func ReadFile(path string) (*graph.Graph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return read(b, filepath.Base(path), path)
}

// Read imports an ONNX model from its protobuf bytes; name identifies it in errors and becomes the
// graph's name.
func Read(b []byte, name string) (*graph.Graph, error) { return read(b, name, name) }

// read is Read with errors naming file instead of name.
func read(b []byte, name, file string) (*graph.Graph, error) {
	var m pb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		if truncated(b) {
			return nil, fmt.Errorf("onnx: %s: truncated: the file ends inside a field (%d bytes)", file, len(b))
		}
		return nil, fmt.Errorf("onnx: %s: not an ONNX protobuf: %w", file, err)
	}
	imp := &importer{model: name}
	g, err := imp.model2graph(&m)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", file, err)
	}
	return g, nil
}

// truncated reports whether the protobuf b ends inside one of its top-level fields: a file cut short
// (the graph, which holds the weights, is one large field).
func truncated(b []byte) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n) == io.ErrUnexpectedEOF
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return protowire.ParseError(n) == io.ErrUnexpectedEOF
		}
		b = b[n:]
	}
	return false
}

type importer struct {
	model  string
	opset  int64
	g      *graph.Graph
	ints   map[string]*intTensor // integer constants: shapes, pads
	floats map[string]*graph.Tensor
	shapes map[string][]int // shapes of computed tensors, found when a Shape node asks (shapes.go)
}

type intTensor struct {
	shape []int
	data  []int64
}

func (imp *importer) model2graph(m *pb.ModelProto) (*graph.Graph, error) {
	if m.GetIrVersion() < 3 {
		return nil, fmt.Errorf("ir_version %d: need 3 or later", m.GetIrVersion())
	}
	found := false
	for _, o := range m.GetOpsetImport() {
		switch o.GetDomain() {
		case "", "ai.onnx":
			if found {
				return nil, fmt.Errorf("opset of the default domain imported twice")
			}
			found = true
			imp.opset = o.GetVersion()
		}
	}
	if !found {
		return nil, fmt.Errorf("no opset_import for the default domain")
	}
	if imp.opset < MinOpset || imp.opset > MaxOpset {
		return nil, fmt.Errorf("opset %d %w (supported are %d to %d)", imp.opset, ErrUnsupported, MinOpset, MaxOpset)
	}
	pg := m.GetGraph()
	if pg == nil {
		return nil, fmt.Errorf("no graph")
	}
	if len(pg.GetSparseInitializer()) > 0 {
		return nil, fmt.Errorf("sparse initializers are %w", ErrUnsupported)
	}
	name := pg.GetName()
	if name == "" {
		name = imp.model
	}
	imp.g = graph.New(name)
	imp.ints = map[string]*intTensor{}
	imp.floats = imp.g.Initializers
	for i, t := range pg.GetInitializer() {
		if err := imp.constant(t, t.GetName()); err != nil {
			return nil, fmt.Errorf("initializer %d %q: %w", i, t.GetName(), err)
		}
	}
	for _, vi := range pg.GetInput() {
		if imp.isConst(vi.GetName()) {
			continue // IR < 4 lists initializers among the inputs
		}
		t, err := valueInfo(vi)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", vi.GetName(), err)
		}
		imp.g.Inputs = append(imp.g.Inputs, t)
	}
	for i, n := range pg.GetNode() {
		if err := imp.node(n); err != nil {
			return nil, fmt.Errorf("node %d %q (%s): %w", i, n.GetName(), n.GetOpType(), err)
		}
	}
	for _, vi := range pg.GetOutput() {
		t, err := valueInfo(vi)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", vi.GetName(), err)
		}
		if imp.ints[t.Name] != nil {
			return nil, fmt.Errorf("output %q is an integer constant", t.Name)
		}
		imp.g.Outputs = append(imp.g.Outputs, t)
	}
	// Integer constants were consumed as attributes; validate what remains.
	if err := imp.g.Validate(); err != nil {
		return nil, err
	}
	return imp.g, nil
}

func (imp *importer) isConst(name string) bool {
	return imp.floats[name] != nil || imp.ints[name] != nil
}

func valueInfo(vi *pb.ValueInfoProto) (*graph.Tensor, error) {
	if vi.GetName() == "" {
		return nil, fmt.Errorf("unnamed")
	}
	t := &graph.Tensor{Name: vi.GetName()}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		if vi.GetType() != nil && vi.GetType().GetValue() != nil {
			return nil, fmt.Errorf("not a tensor")
		}
		return t, nil // type left to inference; shape unknown
	}
	if et := tt.GetElemType(); et != int32(pb.TensorProto_FLOAT) && et != int32(pb.TensorProto_UNDEFINED) {
		return nil, fmt.Errorf("element type %s %w (only FLOAT)", pb.TensorProto_DataType(et), ErrUnsupported)
	}
	if tt.GetShape() == nil {
		return t, nil
	}
	t.Shape = []int{}
	for _, d := range tt.GetShape().GetDim() {
		v := -1
		if _, ok := d.GetValue().(*pb.TensorShapeProto_Dimension_DimValue); ok {
			if d.GetDimValue() < 0 || d.GetDimValue() > maxElements {
				return nil, fmt.Errorf("dimension %d out of range", d.GetDimValue())
			}
			v = int(d.GetDimValue())
		}
		t.Shape = append(t.Shape, v)
	}
	return t, nil
}

// constant decodes t and records it under name, as a float initializer or an integer constant.
func (imp *importer) constant(t *pb.TensorProto, name string) error {
	if name == "" {
		return fmt.Errorf("unnamed constant")
	}
	if imp.isConst(name) {
		return fmt.Errorf("constant %q defined twice", name)
	}
	shape, n, err := dims(t.GetDims())
	if err != nil {
		return err
	}
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return fmt.Errorf("external data is %w (save the model with its weights inside)", ErrUnsupported)
	}
	if t.GetSegment() != nil {
		return fmt.Errorf("segmented tensors are %w", ErrUnsupported)
	}
	raw := t.GetRawData()
	hasRaw := t.RawData != nil
	dt := pb.TensorProto_DataType(t.GetDataType())
	rawLen := func(size int) error {
		if len(raw) != n*size {
			return fmt.Errorf("%s: raw_data has %d bytes, shape %v needs %d", dt, len(raw), shape, n*size)
		}
		return nil
	}
	count := func(have int) error {
		if have != n {
			return fmt.Errorf("%s: %d values, shape %v needs %d", dt, have, shape, n)
		}
		return nil
	}
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16, pb.TensorProto_DOUBLE:
		data := make([]float32, n)
		switch {
		case dt == pb.TensorProto_FLOAT && hasRaw:
			if err := rawLen(4); err != nil {
				return err
			}
			for i := range data {
				data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case dt == pb.TensorProto_FLOAT:
			if err := count(len(t.GetFloatData())); err != nil {
				return err
			}
			copy(data, t.GetFloatData())
		case dt == pb.TensorProto_DOUBLE && hasRaw:
			if err := rawLen(8); err != nil {
				return err
			}
			for i := range data {
				data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		case dt == pb.TensorProto_DOUBLE:
			if err := count(len(t.GetDoubleData())); err != nil {
				return err
			}
			for i, v := range t.GetDoubleData() {
				data[i] = float32(v)
			}
		default: // FLOAT16, BFLOAT16: 16-bit patterns, in raw_data or the low half of int32_data
			bits := make([]uint16, n)
			if hasRaw {
				if err := rawLen(2); err != nil {
					return err
				}
				for i := range bits {
					bits[i] = binary.LittleEndian.Uint16(raw[2*i:])
				}
			} else {
				if err := count(len(t.GetInt32Data())); err != nil {
					return err
				}
				for i, v := range t.GetInt32Data() {
					bits[i] = uint16(v)
				}
			}
			for i, b := range bits {
				if dt == pb.TensorProto_FLOAT16 {
					data[i] = float16.Frombits(b).Float32()
				} else {
					data[i] = math.Float32frombits(uint32(b) << 16)
				}
			}
		}
		imp.floats[name] = &graph.Tensor{Name: name, Shape: shape, Data: data}
	case pb.TensorProto_INT64, pb.TensorProto_INT32, pb.TensorProto_BOOL:
		data := make([]int64, n)
		switch {
		case dt == pb.TensorProto_BOOL && hasRaw:
			if err := rawLen(1); err != nil {
				return err
			}
			for i, v := range raw {
				data[i] = int64(v)
			}
		case dt == pb.TensorProto_INT64 && hasRaw:
			if err := rawLen(8); err != nil {
				return err
			}
			for i := range data {
				data[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case dt == pb.TensorProto_INT64:
			if err := count(len(t.GetInt64Data())); err != nil {
				return err
			}
			copy(data, t.GetInt64Data())
		case hasRaw:
			if err := rawLen(4); err != nil {
				return err
			}
			for i := range data {
				data[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		default:
			if err := count(len(t.GetInt32Data())); err != nil {
				return err
			}
			for i, v := range t.GetInt32Data() {
				data[i] = int64(v)
			}
		}
		imp.ints[name] = &intTensor{shape: shape, data: data}
	default:
		return fmt.Errorf("data type %s is %w", dt, ErrUnsupported)
	}
	return nil
}

func dims(ds []int64) ([]int, int, error) {
	shape := make([]int, len(ds))
	n := 1
	for i, d := range ds {
		if d < 0 || d > maxElements || (d > 0 && n > maxElements/int(d)) {
			return nil, 0, fmt.Errorf("dims %v out of range", ds)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	return shape, n, nil
}

// attrKinds lists the attributes each op accepts and their kinds.
var attrKinds = map[string]map[string]graph.AttrKind{
	"Conv": {"auto_pad": graph.AttrString, "dilations": graph.AttrInts, "group": graph.AttrInt,
		"kernel_shape": graph.AttrInts, "pads": graph.AttrInts, "strides": graph.AttrInts},
	"BatchNormalization": {"epsilon": graph.AttrFloat, "momentum": graph.AttrFloat, "training_mode": graph.AttrInt},
	"Relu":               {},
	"Clip":               {"min": graph.AttrFloat, "max": graph.AttrFloat},
	"Add":                {},
	"Mul":                {},
	"GlobalAveragePool":  {},
	"AveragePool": {"auto_pad": graph.AttrString, "ceil_mode": graph.AttrInt, "count_include_pad": graph.AttrInt,
		"kernel_shape": graph.AttrInts, "pads": graph.AttrInts, "strides": graph.AttrInts},
	"MaxPool": {"auto_pad": graph.AttrString, "ceil_mode": graph.AttrInt, "dilations": graph.AttrInts,
		"kernel_shape": graph.AttrInts, "pads": graph.AttrInts, "storage_order": graph.AttrInt, "strides": graph.AttrInts},
	"Flatten":    {"axis": graph.AttrInt},
	"Reshape":    {"allowzero": graph.AttrInt},
	"Gemm":       {"alpha": graph.AttrFloat, "beta": graph.AttrFloat, "transA": graph.AttrInt, "transB": graph.AttrInt},
	"MatMul":     {},
	"Concat":     {"axis": graph.AttrInt},
	"Pad":        {"mode": graph.AttrString},
	"ReduceMean": {"axes": graph.AttrInts, "keepdims": graph.AttrInt},
	"Identity":   {},
	"Dropout":    {"seed": graph.AttrInt, "ratio": graph.AttrFloat},
	"Constant":   {"value": 0, "value_float": graph.AttrFloat, "value_floats": graph.AttrFloats, "value_int": graph.AttrInt, "value_ints": graph.AttrInts},
}

// arity is the number of inputs (min, max) and of outputs each op may have; max -1 is unbounded.
var arity = map[string][3]int{
	"Conv": {2, 3, 1}, "BatchNormalization": {5, 5, 3}, "Relu": {1, 1, 1}, "Clip": {1, 3, 1},
	"Add": {2, 2, 1}, "Mul": {2, 2, 1}, "GlobalAveragePool": {1, 1, 1}, "AveragePool": {1, 1, 1},
	"MaxPool": {1, 1, 2}, "Flatten": {1, 1, 1}, "Reshape": {2, 2, 1}, "Gemm": {2, 3, 1},
	"MatMul": {2, 2, 1}, "Concat": {1, -1, 1}, "Pad": {2, 3, 1}, "ReduceMean": {1, 1, 1},
	"Identity": {1, 1, 1}, "Dropout": {1, 3, 2}, "Constant": {0, 0, 1},
}

// ErrUnsupported is wrapped by the errors about ops, attributes and values Read does not import
// (errors.Is(err, ErrUnsupported)), as opposed to malformed models.
var ErrUnsupported = errors.New("not supported")

func (imp *importer) node(n *pb.NodeProto) error {
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return fmt.Errorf("domain %q: %w", d, ErrUnsupported)
	}
	if done, err := imp.intNode(n); done {
		return err
	}
	kinds, ok := attrKinds[op]
	if !ok {
		return fmt.Errorf("op %w: edgeinfer has no float or int8 form of %s (it imports %s; a model needing %s needs it added to quant/graph, quant/quantize and the runtime, or the layer replaced before export)",
			ErrUnsupported, op, strings.Join(slices.Sorted(maps.Keys(attrKinds)), ", "), op)
	}
	ar := arity[op]
	ins, outs := n.GetInput(), n.GetOutput()
	for len(ins) > 0 && ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1]
	}
	if len(ins) < ar[0] || (ar[1] >= 0 && len(ins) > ar[1]) {
		return fmt.Errorf("%d inputs, want %d to %d", len(ins), ar[0], ar[1])
	}
	for i, in := range ins {
		if in == "" && op != "Clip" && op != "Pad" && op != "Dropout" {
			return fmt.Errorf("input %d is empty: only Clip, Pad and Dropout have optional inputs before others", i)
		}
	}
	if len(outs) < 1 || len(outs) > ar[2] || outs[0] == "" {
		return fmt.Errorf("%d outputs, want 1 to %d with the first named", len(outs), ar[2])
	}
	keep := 1
	if multiOutput[op] {
		keep = len(outs)
	}
	for _, o := range outs[keep:] {
		if o != "" {
			return fmt.Errorf("optional output %q is %w (inference only)", o, ErrUnsupported)
		}
	}
	attrs := map[string]graph.Attr{}
	var value *pb.TensorProto
	for _, a := range n.GetAttribute() {
		name := a.GetName()
		want, ok := kinds[name]
		if !ok {
			return fmt.Errorf("attribute %q %w", name, ErrUnsupported)
		}
		if a.GetRefAttrName() != "" {
			return fmt.Errorf("attribute %q refers to a function attribute: %w", name, ErrUnsupported)
		}
		if _, dup := attrs[name]; dup || (name == "value" && value != nil) {
			return fmt.Errorf("attribute %q given twice", name)
		}
		if name == "value" {
			if a.GetT() == nil {
				return fmt.Errorf("attribute value: not a tensor")
			}
			value = a.GetT()
			continue
		}
		v, err := attr(a, want)
		if err != nil {
			return fmt.Errorf("attribute %q: %w", name, err)
		}
		attrs[name] = v
	}
	gn := &graph.Node{Name: n.GetName(), Op: op, Inputs: slices.Clone(ins), Outputs: slices.Clone(outs[:keep]), Attrs: attrs}
	out := outs[0]
	var err error
	switch op {
	case "Constant":
		return imp.constantNode(out, value, attrs)
	case "BatchNormalization":
		if attrs["training_mode"].Int != 0 {
			return fmt.Errorf("training_mode %d: %w (inference only)", attrs["training_mode"].Int, ErrUnsupported)
		}
		delete(attrs, "training_mode")
		delete(attrs, "momentum")
	case "Clip":
		for i, bound := range []string{"min", "max"} {
			if len(ins) <= i+1 || ins[i+1] == "" {
				continue
			}
			if _, dup := attrs[bound]; dup {
				return fmt.Errorf("%s given both as attribute and input", bound)
			}
			v, err := imp.floatScalar(ins[i+1])
			if err != nil {
				return fmt.Errorf("%s: %w", bound, err)
			}
			attrs[bound] = graph.Float(v)
		}
		gn.Inputs = ins[:1]
	case "MaxPool":
		if attrs["storage_order"].Int != 0 {
			return fmt.Errorf("storage_order %d: %w", attrs["storage_order"].Int, ErrUnsupported)
		}
		delete(attrs, "storage_order")
		err = spatialAttrs(attrs, true)
	case "AveragePool":
		err = spatialAttrs(attrs, true)
	case "Conv":
		err = spatialAttrs(attrs, false)
		if err == nil {
			if w := imp.floats[ins[1]]; w != nil && len(w.Shape) != 4 {
				err = fmt.Errorf("weights %v: only 2-D convolution is %w", w.Shape, ErrUnsupported)
			}
		}
	case "Reshape":
		shape, e := imp.ints1D(ins[1])
		if e != nil {
			return fmt.Errorf("shape: %w", e)
		}
		attrs["shape"] = graph.Ints(shape...)
		gn.Inputs = ins[:1]
	case "Pad":
		if m := attrs["mode"].String; m != "" && m != "constant" && m != "reflect" && m != "edge" {
			return fmt.Errorf("mode %q %w", m, ErrUnsupported)
		}
		pads, e := imp.ints1D(ins[1])
		if e != nil {
			return fmt.Errorf("pads: %w", e)
		}
		attrs["pads"] = graph.Ints(pads...)
		if len(ins) > 2 && ins[2] != "" {
			v, e := imp.floatScalar(ins[2])
			if e != nil {
				return fmt.Errorf("constant_value: %w", e)
			}
			attrs["value"] = graph.Float(v)
		}
		gn.Inputs = ins[:1]
	case "Dropout":
		if len(ins) > 2 && ins[2] != "" {
			if mode := imp.ints[ins[2]]; mode == nil || len(mode.data) != 1 || mode.data[0] != 0 {
				return fmt.Errorf("training_mode must be a constant false (inference only)")
			}
		}
		gn.Op, gn.Inputs, gn.Attrs = "Identity", ins[:1], map[string]graph.Attr{}
	case "Concat":
		if _, ok := attrs["axis"]; !ok {
			return fmt.Errorf("attribute axis missing")
		}
	default:
		if h := nodeHooks[op]; h != nil {
			err = h(imp, gn, ins)
		}
	}
	if err != nil {
		return err
	}
	for _, name := range gn.Inputs {
		if imp.ints[name] != nil {
			return fmt.Errorf("input %q is an integer tensor: only float tensors flow through the graph", name)
		}
	}
	for _, o := range gn.Outputs {
		if imp.isConst(o) {
			return fmt.Errorf("output %q redefines a constant", o)
		}
	}
	imp.g.Nodes = append(imp.g.Nodes, gn)
	return nil
}

// spatialAttrs checks the 2-D window attributes of Conv and the pools.
func spatialAttrs(attrs map[string]graph.Attr, needKernel bool) error {
	if _, ok := attrs["kernel_shape"]; needKernel && !ok {
		return fmt.Errorf("attribute kernel_shape missing")
	}
	for name, n := range map[string]int{"kernel_shape": 2, "strides": 2, "dilations": 2, "pads": 4} {
		a, ok := attrs[name]
		if !ok {
			continue
		}
		if len(a.Ints) != n {
			return fmt.Errorf("%s %v: only 2-D windows are %w", name, a.Ints, ErrUnsupported)
		}
		for _, v := range a.Ints {
			if v < 0 || (v == 0 && name != "pads") {
				return fmt.Errorf("%s %v: out of range", name, a.Ints)
			}
		}
	}
	switch p := attrs["auto_pad"].String; p {
	case "", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return fmt.Errorf("auto_pad %q %w", p, ErrUnsupported)
	}
	return nil
}

func attr(a *pb.AttributeProto, want graph.AttrKind) (graph.Attr, error) {
	typ := a.GetType()
	if typ == pb.AttributeProto_UNDEFINED { // old exporters: infer from the field set
		switch {
		case a.F != nil:
			typ = pb.AttributeProto_FLOAT
		case a.I != nil:
			typ = pb.AttributeProto_INT
		case a.S != nil:
			typ = pb.AttributeProto_STRING
		case len(a.GetInts()) > 0:
			typ = pb.AttributeProto_INTS
		case len(a.GetFloats()) > 0:
			typ = pb.AttributeProto_FLOATS
		}
	}
	var v graph.Attr
	switch typ {
	case pb.AttributeProto_INT:
		v = graph.Int(a.GetI())
	case pb.AttributeProto_FLOAT:
		v = graph.Float(a.GetF())
	case pb.AttributeProto_STRING:
		v = graph.String(string(a.GetS()))
	case pb.AttributeProto_INTS:
		v = graph.Ints(slices.Clone(a.GetInts())...)
	case pb.AttributeProto_FLOATS:
		v = graph.Floats(slices.Clone(a.GetFloats())...)
	default:
		return v, fmt.Errorf("type %s %w", typ, ErrUnsupported)
	}
	if v.Kind != want {
		return v, fmt.Errorf("type %s, want %s", typ, want)
	}
	return v, nil
}

func (imp *importer) constantNode(out string, value *pb.TensorProto, attrs map[string]graph.Attr) error {
	if len(attrs)+btoi(value != nil) != 1 {
		return fmt.Errorf("want exactly one of value, value_float(s), value_int(s)")
	}
	if value != nil {
		return imp.constant(value, out)
	}
	if imp.isConst(out) {
		return fmt.Errorf("constant %q defined twice", out)
	}
	for name, a := range attrs {
		switch name {
		case "value_float":
			imp.floats[out] = &graph.Tensor{Name: out, Shape: []int{}, Data: []float32{a.Float}}
		case "value_floats":
			imp.floats[out] = &graph.Tensor{Name: out, Shape: []int{len(a.Floats)}, Data: a.Floats}
		case "value_int":
			imp.ints[out] = &intTensor{shape: []int{}, data: []int64{a.Int}}
		case "value_ints":
			imp.ints[out] = &intTensor{shape: []int{len(a.Ints)}, data: a.Ints}
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ints1D returns the integer constant called name, which must have rank 1.
func (imp *importer) ints1D(name string) ([]int64, error) {
	t := imp.ints[name]
	if t == nil {
		if imp.floats[name] != nil {
			return nil, fmt.Errorf("%q is a float tensor, want INT64", name)
		}
		return nil, fmt.Errorf("%q is not a constant: computed shapes are %w", name, ErrUnsupported)
	}
	if len(t.shape) != 1 {
		return nil, fmt.Errorf("%q has shape %v, want rank 1", name, t.shape)
	}
	return t.data, nil
}

// floatScalar returns the one-element float constant called name.
func (imp *importer) floatScalar(name string) (float32, error) {
	t := imp.floats[name]
	if t == nil {
		return 0, fmt.Errorf("%q is not a float constant: computed bounds are %w", name, ErrUnsupported)
	}
	if len(t.Data) != 1 {
		return 0, fmt.Errorf("%q has shape %v, want a scalar", name, t.Shape)
	}
	return t.Data[0], nil
}

package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	flatbuffers "github.com/google/flatbuffers/go"

	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// opCtx is the op being converted.
type opCtx struct {
	r     *reader
	idx   int
	code  tfl.BuiltinOperator
	label string // BUILTIN_NAME, or CUSTOM "code"
	op    *tfl.Operator
}

func (c *opCtx) errorf(format string, args ...any) error {
	return fmt.Errorf("op %d (%s): "+format, append([]any{c.idx, c.label}, args...)...)
}

// operand is one input or output of the op: its id (see reader) and tensor.
type operand struct {
	id int
	*tensorInfo
}

func (o operand) present() bool { return o.id >= 0 }

// inputs checks the op's input count and returns them; absent optional inputs (-1) have id -1.
func (c *opCtx) inputs(lo, hi int) ([]operand, error) {
	n := c.op.InputsLength()
	if n < lo || n > hi {
		if lo == hi {
			return nil, c.errorf("%d inputs, want %d", n, lo)
		}
		return nil, c.errorf("%d inputs, want %d to %d", n, lo, hi)
	}
	ins := make([]operand, n)
	for j := range n {
		k := int(c.op.Inputs(j))
		if k == -1 {
			ins[j] = operand{id: -1}
			continue
		}
		ti, err := c.r.tensor(k)
		if err != nil {
			return nil, c.errorf("input %d: %w", j, err)
		}
		id := c.r.resolve(k)
		if id != k {
			ti = c.r.info(id)
		}
		if !ti.t.IsConst() && !c.r.isInput[id] && !c.r.written[id] {
			return nil, c.errorf("input %d %q is not computed before the op", j, ti.t.Name)
		}
		ins[j] = operand{id, ti}
	}
	return ins, nil
}

// output checks that the op has one output and returns it.
func (c *opCtx) output() (operand, error) {
	if n := c.op.OutputsLength(); n != 1 {
		return operand{}, c.errorf("%d outputs, want 1", n)
	}
	k := int(c.op.Outputs(0))
	ti, err := c.r.tensor(k)
	if err != nil {
		return operand{}, c.errorf("output 0: %w", err)
	}
	switch {
	case c.r.written[k]:
		return operand{}, c.errorf("output %q is written by an earlier op too", ti.t.Name)
	case ti.t.IsConst():
		return operand{}, c.errorf("output %q is a constant", ti.t.Name)
	case c.r.isInput[k]:
		return operand{}, c.errorf("output %q is a graph input", ti.t.Name)
	}
	c.r.written[k] = true
	return operand{k, ti}, nil
}

// operands checks the op's input count (lo to hi) and single output, and returns the inputs, input 0
// (which must be present) and the output: the start of every op with one main input.
func (c *opCtx) operands(lo, hi int) (ins []operand, in, out operand, err error) {
	if ins, err = c.inputs(lo, hi); err != nil {
		return
	}
	if out, err = c.output(); err != nil {
		return
	}
	in, err = c.need(ins, 0)
	return
}

// binary returns the two inputs and the output of an elementwise op of two operands (ADD, MUL):
// both present, the output of the first one's type, the second one of that type too.
func (c *opCtx) binary() (a, b, out operand, err error) {
	var ins []operand
	if ins, a, out, err = c.operands(2, 2); err != nil {
		return
	}
	if b, err = c.need(ins, 1); err != nil {
		return
	}
	if err = c.checkInOut(a, out); err != nil {
		return
	}
	err = c.checkAct("input", b, a.t.Type)
	return
}

// need returns input j, which must be present.
func (c *opCtx) need(ins []operand, j int) (operand, error) {
	if !ins[j].present() {
		return operand{}, c.errorf("input %d is absent", j)
	}
	return ins[j], nil
}

// options returns the op's builtin options table if it has type want; ok is false when the op has
// none (defaults apply), and an error reports options of another type.
func (c *opCtx) options(want tfl.BuiltinOptions) (flatbuffers.Table, bool, error) {
	var t flatbuffers.Table
	typ := c.op.BuiltinOptionsType()
	if typ == tfl.BuiltinOptionsNONE || !c.op.BuiltinOptions(&t) {
		return t, false, nil
	}
	if typ != want {
		return t, false, c.errorf("options of type %s, want %s", typ, want)
	}
	return t, true, nil
}

func (c *opCtx) requireOptions(want tfl.BuiltinOptions) (flatbuffers.Table, error) {
	t, ok, err := c.options(want)
	if err == nil && !ok {
		err = c.errorf("missing %s", want)
	}
	return t, err
}

// convertOp converts file op i and appends it to r.ops (unless it is folded into another).
func (r *reader) convertOp(i int, op *tfl.Operator) error {
	oi := op.OpcodeIndex()
	if int64(oi) >= int64(r.m.OperatorCodesLength()) {
		return fmt.Errorf("op %d: opcode index %d out of range [0, %d)", i, oi, r.m.OperatorCodesLength())
	}
	var opc tfl.OperatorCode
	if !r.m.OperatorCodes(&opc, int(oi)) {
		return fmt.Errorf("op %d: opcode %d missing", i, oi)
	}
	// Files written before builtin_code existed hold the code in deprecated_builtin_code only; newer
	// files hold 127 (PLACEHOLDER_FOR_GREATER_OP_CODES) there for codes above 126.
	code := max(tfl.BuiltinOperator(opc.DeprecatedBuiltinCode()), opc.BuiltinCode())
	c := &opCtx{r: r, idx: i, code: code, label: code.String(), op: op}
	if code == tfl.BuiltinOperatorCUSTOM {
		c.label = fmt.Sprintf("CUSTOM %q", opc.CustomCode())
	}

	var o *models.Op
	var err error
	switch code {
	case tfl.BuiltinOperatorCONV_2D, tfl.BuiltinOperatorDEPTHWISE_CONV_2D:
		o, err = c.conv()
	case tfl.BuiltinOperatorFULLY_CONNECTED:
		o, err = c.fullyConnected()
	case tfl.BuiltinOperatorAVERAGE_POOL_2D, tfl.BuiltinOperatorMAX_POOL_2D:
		o, err = c.pool()
	case tfl.BuiltinOperatorMEAN:
		o, err = c.mean()
	case tfl.BuiltinOperatorADD:
		o, err = c.add()
	case tfl.BuiltinOperatorCONCATENATION:
		o, err = c.concat()
	case tfl.BuiltinOperatorRESHAPE, tfl.BuiltinOperatorSQUEEZE:
		o, err = c.reshape()
	case tfl.BuiltinOperatorPAD, tfl.BuiltinOperatorPADV2:
		o, err = c.pad()
	case tfl.BuiltinOperatorSOFTMAX:
		o, err = c.softmax()
	case tfl.BuiltinOperatorQUANTIZE:
		o, err = c.quantize()
	case tfl.BuiltinOperatorDEQUANTIZE:
		o, err = c.dequantize()
	case tfl.BuiltinOperatorRELU, tfl.BuiltinOperatorRELU6, tfl.BuiltinOperatorRELU_N1_TO_1:
		return c.fuseReLU()
	default:
		f, ok := builtinOps[code]
		if !ok {
			return c.errorf("unsupported operator")
		}
		o, err = f(c)
	}
	if err != nil || o == nil {
		return err
	}
	for _, id := range o.Outputs {
		r.producer[id] = len(r.ops)
	}
	r.ops = append(r.ops, o)
	return nil
}

// newOp starts the IR op for output out.
func (c *opCtx) newOp(t models.OpType, out operand, ins ...operand) *models.Op {
	o := &models.Op{Type: t, Name: out.t.Name, Outputs: []int{out.id}}
	for _, in := range ins {
		o.Inputs = append(o.Inputs, in.id)
	}
	return o
}

// activation converts a fused activation function.
func (c *opCtx) activation(a tfl.ActivationFunctionType) (models.Activation, error) {
	switch a {
	case tfl.ActivationFunctionTypeNONE:
		return models.ActNone, nil
	case tfl.ActivationFunctionTypeRELU:
		return models.ActReLU, nil
	case tfl.ActivationFunctionTypeRELU6:
		return models.ActReLU6, nil
	case tfl.ActivationFunctionTypeRELU_N1_TO_1:
		return models.ActReLUN1, nil
	}
	return 0, c.errorf("unsupported fused activation %s", a)
}

// checkAct checks an activation-like operand: Float32, or Int8 with per-tensor quantization; and,
// when want is set, of type want.
func (c *opCtx) checkAct(what string, o operand, want models.DType) error {
	t := &o.t
	if want != models.DTypeInvalid && t.Type != want {
		return c.errorf("%s %q is %s, want %s", what, t.Name, t.Type, want)
	}
	switch t.Type {
	case models.Float32:
		return nil
	case models.Int8:
		if t.Quant == nil {
			return c.errorf("%s %q is int8 without quantization: unsupported", what, t.Name)
		}
		if t.Quant.PerChannel() {
			return c.errorf("%s %q has per-channel quantization: unsupported", what, t.Name)
		}
		return nil
	}
	return c.errorf("%s %q has unsupported type %s", what, t.Name, t.Type)
}

// checkInOut checks the op's main input and output: same type, Float32 or quantized Int8.
func (c *opCtx) checkInOut(in, out operand) error {
	if err := c.checkAct("input", in, models.DTypeInvalid); err != nil {
		return err
	}
	return c.checkAct("output", out, in.t.Type)
}

func (c *opCtx) checkShape(out operand, want []int, how string) error {
	if !slices.Equal(out.t.Shape, want) {
		return c.errorf("output %q has shape %v, want %v (%s)", out.t.Name, out.t.Shape, want, how)
	}
	return nil
}

func (c *opCtx) checkRank(what string, o operand, rank int) error {
	if len(o.t.Shape) != rank {
		return c.errorf("%s %q has shape %v, want rank %d", what, o.t.Name, o.t.Shape, rank)
	}
	return nil
}

func (c *opCtx) sameQuant(in, out operand) error {
	if !quantEqual(in.t.Quant, out.t.Quant) {
		return c.errorf("input %q and output %q have different quantization: unsupported", in.t.Name, out.t.Name)
	}
	return nil
}

// checkWeights checks the filter (or weights) and bias of a convolution or fully connected op whose
// input has type typ; outAxis is the output-channel dimension of the filter, channels its size.
func (c *opCtx) checkWeights(typ models.DType, filter, bias operand, outAxis, channels int) error {
	f := &filter.t
	if !f.IsConst() {
		return c.errorf("filter %q is not a constant: unsupported", f.Name)
	}
	switch typ {
	case models.Float32:
		if f.Type != models.Float32 && f.Type != models.Float16 {
			return c.errorf("filter %q is %s with a float32 input: unsupported", f.Name, f.Type)
		}
	case models.Int8:
		if f.Type != models.Int8 || f.Quant == nil {
			return c.errorf("filter %q is %s, want quantized int8", f.Name, f.Type)
		}
		if f.Quant.PerChannel() && f.Quant.Axis != outAxis {
			return c.errorf("filter %q is quantized along dimension %d, want %d", f.Name, f.Quant.Axis, outAxis)
		}
	}
	if !bias.present() {
		return nil
	}
	b := &bias.t
	if !b.IsConst() {
		return c.errorf("bias %q is not a constant: unsupported", b.Name)
	}
	if !slices.Equal(b.Shape, []int{channels}) {
		return c.errorf("bias %q has shape %v, want [%d]", b.Name, b.Shape, channels)
	}
	switch {
	case typ == models.Float32 && (b.Type == models.Float32 || b.Type == models.Float16):
	case typ == models.Int8 && b.Type == models.Int32:
	default:
		return c.errorf("bias %q is %s with a %s input: unsupported", b.Name, b.Type, typ)
	}
	return nil
}

// window computes the output size and padding of one spatial dimension as TensorFlow Lite does
// (tensorflow/lite/kernels/padding.h): SAME gives ceil(in/stride), VALID ceil((in-k'+1)/stride)
// with the dilated kernel k' = (k-1)*dilation+1; the total padding (out-1)*stride+k'-in, if
// positive, is split with the odd element after.
func window(padding tfl.Padding, in, k, stride, dilation int) (out, before, after int, err error) {
	if k < 1 || stride < 1 || dilation < 1 {
		return 0, 0, 0, fmt.Errorf("kernel %d, stride %d, dilation %d: each must be at least 1", k, stride, dilation)
	}
	eff := int64(k-1)*int64(dilation) + 1
	var o int64
	switch padding {
	case tfl.PaddingSAME:
		o = (int64(in) + int64(stride) - 1) / int64(stride)
	case tfl.PaddingVALID:
		if int64(in) < eff {
			return 0, 0, 0, fmt.Errorf("VALID window of %d (kernel %d, dilation %d) larger than the input's %d", eff, k, dilation, in)
		}
		o = (int64(in) - eff + int64(stride)) / int64(stride)
	default:
		return 0, 0, 0, fmt.Errorf("unsupported padding %s", padding)
	}
	total := max((o-1)*int64(stride)+eff-int64(in), 0)
	if total > math.MaxInt32 {
		return 0, 0, 0, fmt.Errorf("padding of %d too large", total)
	}
	return int(o), int(total / 2), int(total - total/2), nil
}

// spatial fills Stride, Dilation and Pad and returns the output height and width.
func (c *opCtx) spatial(o *models.Op, padding tfl.Padding, in []int, kh, kw, sh, sw, dh, dw int) (oh, ow int, err error) {
	oh, top, bottom, err := window(padding, in[1], kh, sh, dh)
	if err != nil {
		return 0, 0, c.errorf("height: %v", err)
	}
	ow, left, right, err := window(padding, in[2], kw, sw, dw)
	if err != nil {
		return 0, 0, c.errorf("width: %v", err)
	}
	o.Stride = [2]int{sh, sw}
	o.Dilation = [2]int{dh, dw}
	o.Pad = [4]int{top, left, bottom, right}
	return oh, ow, nil
}

// weighted reads the operands of a convolution or fully connected op: input, weights, an optional
// bias (id -1 when absent) and the output.
func (c *opCtx) weighted() (in, w, bias, out operand, err error) {
	ins, in, out, err := c.operands(2, 3)
	if err != nil {
		return
	}
	if w, err = c.need(ins, 1); err != nil {
		return
	}
	bias = operand{id: -1}
	if len(ins) == 3 {
		bias = ins[2]
	}
	err = c.checkInOut(in, out)
	return
}

func (c *opCtx) conv() (*models.Op, error) {
	in, filter, bias, out, err := c.weighted()
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		what string
		o    operand
	}{{"input", in}, {"filter", filter}, {"output", out}} {
		if err := c.checkRank(x.what, x.o, 4); err != nil {
			return nil, err
		}
	}
	is, fs := in.t.Shape, filter.t.Shape

	var o *models.Op
	var padding tfl.Padding
	var sh, sw, dh, dw, channels, outAxis int
	var act tfl.ActivationFunctionType
	if c.code == tfl.BuiltinOperatorCONV_2D {
		t, err := c.requireOptions(tfl.BuiltinOptionsConv2DOptions)
		if err != nil {
			return nil, err
		}
		var opt tfl.Conv2DOptions
		opt.Init(t.Bytes, t.Pos)
		padding, act = opt.Padding(), opt.FusedActivationFunction()
		sh, sw, dh, dw = int(opt.StrideH()), int(opt.StrideW()), int(opt.DilationHFactor()), int(opt.DilationWFactor())
		if fs[3] != is[3] {
			return nil, c.errorf("filter %q has shape %v for an input of %d channels (grouped convolution): unsupported", filter.t.Name, fs, is[3])
		}
		channels, outAxis = fs[0], 0
		o = c.newOp(models.OpConv2D, out, in, filter, bias)
	} else {
		t, err := c.requireOptions(tfl.BuiltinOptionsDepthwiseConv2DOptions)
		if err != nil {
			return nil, err
		}
		var opt tfl.DepthwiseConv2DOptions
		opt.Init(t.Bytes, t.Pos)
		padding, act = opt.Padding(), opt.FusedActivationFunction()
		sh, sw, dh, dw = int(opt.StrideH()), int(opt.StrideW()), int(opt.DilationHFactor()), int(opt.DilationWFactor())
		if fs[0] != 1 {
			return nil, c.errorf("filter %q has shape %v, want [1, KH, KW, C*M]", filter.t.Name, fs)
		}
		if is[3] == 0 || fs[3] == 0 || fs[3]%is[3] != 0 {
			return nil, c.errorf("filter %q has %d channels for an input of %d", filter.t.Name, fs[3], is[3])
		}
		m := fs[3] / is[3]
		if dm := int(opt.DepthMultiplier()); dm != 0 && dm != m {
			return nil, c.errorf("depth multiplier %d, but filter %q has %d channels for an input of %d", dm, filter.t.Name, fs[3], is[3])
		}
		channels, outAxis = fs[3], 3
		o = c.newOp(models.OpDepthwiseConv2D, out, in, filter, bias)
		o.DepthMultiplier = m
	}
	if err := c.checkWeights(in.t.Type, filter, bias, outAxis, channels); err != nil {
		return nil, err
	}
	if o.Activation, err = c.activation(act); err != nil {
		return nil, err
	}
	oh, ow, err := c.spatial(o, padding, is, fs[1], fs[2], sh, sw, dh, dw)
	if err != nil {
		return nil, err
	}
	if err := c.checkShape(out, []int{is[0], oh, ow, channels}, "from input, filter, strides, dilation and padding"); err != nil {
		return nil, err
	}
	return o, nil
}

func (c *opCtx) fullyConnected() (*models.Op, error) {
	in, w, bias, out, err := c.weighted()
	if err != nil {
		return nil, err
	}
	if err := c.checkRank("weights", w, 2); err != nil {
		return nil, err
	}
	o := c.newOp(models.OpFullyConnected, out, in, w, bias)
	t, ok, err := c.options(tfl.BuiltinOptionsFullyConnectedOptions)
	if err != nil {
		return nil, err
	}
	keep := false
	if ok {
		var opt tfl.FullyConnectedOptions
		opt.Init(t.Bytes, t.Pos)
		if f := opt.WeightsFormat(); f != tfl.FullyConnectedOptionsWeightsFormatDEFAULT {
			return nil, c.errorf("unsupported weights format %s", f)
		}
		keep = opt.KeepNumDims()
		if o.Activation, err = c.activation(opt.FusedActivationFunction()); err != nil {
			return nil, err
		}
	}
	if keep && len(in.t.Shape) != 2 {
		// With a rank-2 input keep_num_dims changes nothing.
		return nil, c.errorf("keep_num_dims with an input of shape %v: unsupported", in.t.Shape)
	}
	nOut, nIn := w.t.Shape[0], w.t.Shape[1]
	if err := c.checkWeights(in.t.Type, w, bias, 0, nOut); err != nil {
		return nil, err
	}
	n := in.t.NumElements()
	if len(in.t.Shape) == 0 || nIn == 0 || n%nIn != 0 {
		return nil, c.errorf("input %q of shape %v does not split into rows of %d", in.t.Name, in.t.Shape, nIn)
	}
	if err := c.checkShape(out, []int{n / nIn, nOut}, "input rows by weights rows"); err != nil {
		return nil, err
	}
	return o, nil
}

func (c *opCtx) pool() (*models.Op, error) {
	_, in, out, err := c.operands(1, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkInOut(in, out); err != nil {
		return nil, err
	}
	if err := c.checkRank("input", in, 4); err != nil {
		return nil, err
	}
	if err := c.sameQuant(in, out); err != nil {
		return nil, err
	}
	t, err := c.requireOptions(tfl.BuiltinOptionsPool2DOptions)
	if err != nil {
		return nil, err
	}
	var opt tfl.Pool2DOptions
	opt.Init(t.Bytes, t.Pos)
	typ := models.OpAveragePool2D
	if c.code == tfl.BuiltinOperatorMAX_POOL_2D {
		typ = models.OpMaxPool2D
	}
	o := c.newOp(typ, out, in)
	if o.Activation, err = c.activation(opt.FusedActivationFunction()); err != nil {
		return nil, err
	}
	kh, kw := int(opt.FilterHeight()), int(opt.FilterWidth())
	is := in.t.Shape
	oh, ow, err := c.spatial(o, opt.Padding(), is, kh, kw, int(opt.StrideH()), int(opt.StrideW()), 1, 1)
	if err != nil {
		return nil, err
	}
	o.Kernel = [2]int{kh, kw}
	o.Dilation = [2]int{}
	// TensorFlow Lite's uint8 average pool rounds ties up; its int8 kernel rounds them away from zero.
	o.UInt8Rounding = typ == models.OpAveragePool2D && in.wasUint8
	if err := c.checkShape(out, []int{is[0], oh, ow, is[3]}, "from input, window, strides and padding"); err != nil {
		return nil, err
	}
	return o, nil
}

// constInts reads a constant Int32 or Int64 tensor.
func (c *opCtx) constInts(what string, o operand, allow64 bool) ([]int64, error) {
	t := &o.t
	if !t.IsConst() {
		return nil, c.errorf("%s %q is not a constant: unsupported", what, t.Name)
	}
	switch {
	case t.Type == models.Int32:
		v := make([]int64, len(t.Data)/4)
		for i := range v {
			v[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return v, nil
	case t.Type == models.Int64 && allow64:
		v := make([]int64, len(t.Data)/8)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return v, nil
	}
	return nil, c.errorf("%s %q has unsupported type %s", what, t.Name, t.Type)
}

func (c *opCtx) mean() (*models.Op, error) {
	ins, in, out, err := c.operands(2, 2)
	if err != nil {
		return nil, err
	}
	axesT, err := c.need(ins, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkInOut(in, out); err != nil {
		return nil, err
	}
	axes, err := c.constInts("axes", axesT, false)
	if err != nil {
		return nil, err
	}
	if len(axesT.t.Shape) > 1 {
		return nil, c.errorf("axes %q has shape %v, want a vector", axesT.t.Name, axesT.t.Shape)
	}
	o := c.newOp(models.OpMean, out, in)
	o.UInt8Rounding = in.wasUint8 // TensorFlow Lite's uint8 MEAN truncates a non-negative sum
	t, ok, err := c.options(tfl.BuiltinOptionsReducerOptions)
	if err != nil {
		return nil, err
	}
	if ok {
		var opt tfl.ReducerOptions
		opt.Init(t.Bytes, t.Pos)
		o.KeepDims = opt.KeepDims()
	}
	rank := len(in.t.Shape)
	reduced := make([]bool, rank)
	for _, a := range axes {
		if a < -int64(rank) || a >= int64(rank) {
			return nil, c.errorf("axis %d out of range for input of shape %v", a, in.t.Shape)
		}
		if a < 0 {
			a += int64(rank)
		}
		if !reduced[a] { // TensorFlow Lite ignores repeated axes
			reduced[a] = true
			o.Axes = append(o.Axes, int(a))
		}
	}
	want := []int{}
	for d, n := range in.t.Shape {
		switch {
		case !reduced[d]:
			want = append(want, n)
		case o.KeepDims:
			want = append(want, 1)
		}
	}
	if err := c.checkShape(out, want, "input without the reduced axes"); err != nil {
		return nil, err
	}
	return o, nil
}

func (c *opCtx) add() (*models.Op, error) {
	a, b, out, err := c.binary()
	if err != nil {
		return nil, err
	}
	if !slices.Equal(a.t.Shape, b.t.Shape) {
		return nil, c.errorf("inputs of shapes %v and %v (broadcasting): unsupported", a.t.Shape, b.t.Shape)
	}
	o := c.newOp(models.OpAdd, out, a, b)
	t, ok, err := c.options(tfl.BuiltinOptionsAddOptions)
	if err != nil {
		return nil, err
	}
	if ok {
		var opt tfl.AddOptions
		opt.Init(t.Bytes, t.Pos)
		if o.Activation, err = c.activation(opt.FusedActivationFunction()); err != nil {
			return nil, err
		}
	}
	if err := c.checkShape(out, a.t.Shape, "the inputs' shape"); err != nil {
		return nil, err
	}
	return o, nil
}

func (c *opCtx) concat() (*models.Op, error) {
	ins, err := c.inputs(1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	out, err := c.output()
	if err != nil {
		return nil, err
	}
	axis := 0
	t, ok, err := c.options(tfl.BuiltinOptionsConcatenationOptions)
	if err != nil {
		return nil, err
	}
	if ok {
		var opt tfl.ConcatenationOptions
		opt.Init(t.Bytes, t.Pos)
		if a := opt.FusedActivationFunction(); a != tfl.ActivationFunctionTypeNONE {
			return nil, c.errorf("unsupported fused activation %s", a)
		}
		axis = int(opt.Axis())
	}
	rank := len(out.t.Shape)
	if axis < -rank || axis >= rank {
		return nil, c.errorf("axis %d out of range for output of shape %v", axis, out.t.Shape)
	}
	if axis < 0 {
		axis += rank
	}
	o := c.newOp(models.OpConcatenation, out)
	o.Axis = axis
	var want []int
	for j := range ins {
		in, err := c.need(ins, j)
		if err != nil {
			return nil, err
		}
		if err := c.checkAct(fmt.Sprintf("input %d", j), in, out.t.Type); err != nil {
			return nil, err
		}
		s := in.t.Shape
		if len(s) != rank {
			return nil, c.errorf("input %q has shape %v, want rank %d", in.t.Name, s, rank)
		}
		if j == 0 {
			want = slices.Clone(s)
		} else {
			for d := range s {
				if d != axis && s[d] != want[d] {
					return nil, c.errorf("input %q has shape %v, incompatible with %v on axis %d", in.t.Name, s, ins[0].t.Shape, axis)
				}
			}
			want[axis] += s[axis]
		}
		o.Inputs = append(o.Inputs, in.id)
	}
	if err := c.checkAct("output", out, models.DTypeInvalid); err != nil {
		return nil, err
	}
	if err := c.checkShape(out, want, "the inputs joined along the axis"); err != nil {
		return nil, err
	}
	return o, nil
}

func (c *opCtx) reshape() (*models.Op, error) {
	hi := 2
	if c.code == tfl.BuiltinOperatorSQUEEZE {
		hi = 1
	}
	_, in, out, err := c.operands(1, hi)
	if err != nil {
		return nil, err
	}
	if err := c.checkInOut(in, out); err != nil {
		return nil, err
	}
	if err := c.sameQuant(in, out); err != nil {
		return nil, err
	}
	if in.t.NumElements() != out.t.NumElements() {
		return nil, c.errorf("output %q of shape %v has not the element count of input %q of shape %v", out.t.Name, out.t.Shape, in.t.Name, in.t.Shape)
	}
	// The new shape (a second input or options) is the output tensor's shape: not needed.
	return c.newOp(models.OpReshape, out, in), nil
}

func (c *opCtx) pad() (*models.Op, error) {
	n := 2
	if c.code == tfl.BuiltinOperatorPADV2 {
		n = 3
	}
	ins, in, out, err := c.operands(n, n)
	if err != nil {
		return nil, err
	}
	pt, err := c.need(ins, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkInOut(in, out); err != nil {
		return nil, err
	}
	if err := c.sameQuant(in, out); err != nil {
		return nil, err
	}
	rank := len(in.t.Shape)
	if !slices.Equal(pt.t.Shape, []int{rank, 2}) {
		return nil, c.errorf("paddings %q has shape %v, want [%d 2]", pt.t.Name, pt.t.Shape, rank)
	}
	p, err := c.constInts("paddings", pt, true)
	if err != nil {
		return nil, err
	}
	o := c.newOp(models.OpPad, out, in)
	want := make([]int, rank)
	for d := range rank {
		b, a := p[2*d], p[2*d+1]
		if b < 0 || a < 0 || b > maxElements || a > maxElements {
			return nil, c.errorf("paddings %v: each must be in [0, %d]", p, maxElements)
		}
		want[d] = in.t.Shape[d] + int(b) + int(a)
		o.Paddings = append(o.Paddings, int(b), int(a))
	}
	if err := c.checkShape(out, want, "input plus paddings"); err != nil {
		return nil, err
	}
	if n == 3 {
		if err := c.padValue(ins[2], out); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// padValue checks that PADV2's constant value is the output's zero (its zero point when quantized),
// the value OpPad pads with.
func (c *opCtx) padValue(v, out operand) error {
	if !v.present() || !v.t.IsConst() || v.t.NumElements() != 1 || v.t.Type != out.t.Type {
		return c.errorf("constant value must be a constant scalar of the output's type %s", out.t.Type)
	}
	switch out.t.Type {
	case models.Int8:
		if got, want := int32(int8(v.t.Data[0])), out.t.Quant.ZeroAt(0); got != want {
			return c.errorf("constant value %d is not the output zero point %d: unsupported", got, want)
		}
	case models.Float32:
		if got := v.t.Float32s()[0]; got != 0 {
			return c.errorf("constant value %v is not 0: unsupported", got)
		}
	}
	return nil
}

func (c *opCtx) softmax() (*models.Op, error) {
	_, in, out, err := c.operands(1, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkInOut(in, out); err != nil {
		return nil, err
	}
	if len(in.t.Shape) == 0 {
		return nil, c.errorf("input %q is a scalar", in.t.Name)
	}
	t, err := c.requireOptions(tfl.BuiltinOptionsSoftmaxOptions)
	if err != nil {
		return nil, err
	}
	var opt tfl.SoftmaxOptions
	opt.Init(t.Bytes, t.Pos)
	o := c.newOp(models.OpSoftmax, out, in)
	o.Beta = opt.Beta()
	if !(o.Beta > 0) || math.IsInf(float64(o.Beta), 0) {
		return nil, c.errorf("beta %v: unsupported", o.Beta)
	}
	if err := c.checkShape(out, in.t.Shape, "the input's shape"); err != nil {
		return nil, err
	}
	return o, nil
}

func (c *opCtx) quantize() (*models.Op, error) {
	_, in, out, err := c.operands(1, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkAct("input", in, models.DTypeInvalid); err != nil {
		return nil, err
	}
	if err := c.checkAct("output", out, models.Int8); err != nil {
		return nil, err
	}
	if err := c.checkShape(out, in.t.Shape, "the input's shape"); err != nil {
		return nil, err
	}
	return c.newOp(models.OpQuantize, out, in), nil
}

// dequantize converts DEQUANTIZE, except of a Float16 constant: that one is folded, the constant
// taking the output's place (it stays Float16 in the model; the runtime widens it when it loads).
func (c *opCtx) dequantize() (*models.Op, error) {
	_, in, out, err := c.operands(1, 1)
	if err != nil {
		return nil, err
	}
	if err := c.checkAct("output", out, models.Float32); err != nil {
		return nil, err
	}
	if err := c.checkShape(out, in.t.Shape, "the input's shape"); err != nil {
		return nil, err
	}
	if in.t.Type == models.Float16 {
		if !in.t.IsConst() {
			return nil, c.errorf("input %q is a float16 activation: unsupported", in.t.Name)
		}
		c.r.alias[out.id] = in.id
		return nil, nil
	}
	if err := c.checkAct("input", in, models.Int8); err != nil {
		return nil, err
	}
	return c.newOp(models.OpDequantize, out, in), nil
}

// fuseReLU folds a standalone RELU, RELU6 or RELU_N1_TO_1 into the op producing its input, when the
// result is exact: the producer supports a fused activation, nothing else reads its output, and the
// quantization does not change.
func (c *opCtx) fuseReLU() error {
	_, in, out, err := c.operands(1, 1)
	if err != nil {
		return err
	}
	if err := c.checkInOut(in, out); err != nil {
		return err
	}
	if err := c.checkShape(out, in.t.Shape, "the input's shape"); err != nil {
		return err
	}
	p, ok := c.r.producer[in.id]
	if !ok {
		return c.errorf("input %q is not the output of an op: unsupported", in.t.Name)
	}
	prod := c.r.ops[p]
	switch prod.Type {
	case models.OpConv2D, models.OpDepthwiseConv2D, models.OpFullyConnected, models.OpAdd,
		models.OpAveragePool2D, models.OpMaxPool2D:
	default:
		return c.errorf("input %q comes from a %s, which has no fused activation: unsupported", in.t.Name, prod.Type)
	}
	if in.id >= len(c.r.readers) || c.r.readers[in.id] != 1 {
		return c.errorf("input %q is also read elsewhere: cannot fuse into its producer: unsupported", in.t.Name)
	}
	if !quantEqual(in.t.Quant, out.t.Quant) {
		return c.errorf("output %q is quantized unlike input %q: cannot fuse into its producer: unsupported", out.t.Name, in.t.Name)
	}
	act := map[tfl.BuiltinOperator]models.Activation{
		tfl.BuiltinOperatorRELU: models.ActReLU, tfl.BuiltinOperatorRELU6: models.ActReLU6,
		tfl.BuiltinOperatorRELU_N1_TO_1: models.ActReLUN1,
	}[c.code]
	combined, ok := combine(prod.Activation, act)
	if !ok {
		return c.errorf("%s after a fused %s: unsupported", act, prod.Activation)
	}
	prod.Activation = combined
	prod.Outputs[0] = out.id
	delete(c.r.producer, in.id)
	c.r.producer[out.id] = p
	return nil
}

// combine returns the activation clamping to the intersection of a's and b's ranges.
func combine(a, b models.Activation) (models.Activation, bool) {
	switch {
	case a == b || b == models.ActNone:
		return a, true
	case a == models.ActNone:
		return b, true
	case a == models.ActReLU && b == models.ActReLU6, a == models.ActReLU6 && b == models.ActReLU:
		return models.ActReLU6, true
	}
	return 0, false // [0, 1]: no such activation
}

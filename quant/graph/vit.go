package graph

import (
	"fmt"
	"math"
	"slices"
)

// The transformer family (ViT): elementwise math of the decomposed LayerNorm and GELU, Transpose
// and Gather for the heads and the class token, LayerNormalization, and the fused nodes
// quant/transform makes (Gelu, BatchMatMul, Linear, ToTokens).
func init() {
	floatOps["Sub"] = one(func(_ *Node, ins []*Tensor) (*Tensor, error) {
		return binary(ins, func(a, b float32) float32 { return a - b })
	})
	floatOps["Div"] = one(func(_ *Node, ins []*Tensor) (*Tensor, error) {
		return binary(ins, func(a, b float32) float32 { return a / b })
	})
	floatOps["Pow"] = one(func(_ *Node, ins []*Tensor) (*Tensor, error) {
		return binary(ins, func(a, b float32) float32 {
			if b == 2 {
				return a * a
			}
			return float32(math.Pow(float64(a), float64(b)))
		})
	})
	floatOps["Sqrt"] = one(func(_ *Node, ins []*Tensor) (*Tensor, error) {
		return unary(ins, func(v float32) float32 { return float32(math.Sqrt(float64(v))) })
	})
	floatOps["Erf"] = one(func(_ *Node, ins []*Tensor) (*Tensor, error) {
		return unary(ins, func(v float32) float32 { return float32(math.Erf(float64(v))) })
	})
	floatOps["Tanh"] = one(func(_ *Node, ins []*Tensor) (*Tensor, error) {
		return unary(ins, func(v float32) float32 { return float32(math.Tanh(float64(v))) })
	})
	floatOps["Gelu"] = one(gelu)
	floatOps["LayerNormalization"] = one(layerNorm)
	floatOps["Gather"] = one(gatherOp)
	floatOps["BatchMatMul"] = one(batchMatMul)
	floatOps["Linear"] = one(linear)
	floatOps["ToTokens"] = one(toTokens)
}

// GeluFloat is GELU in float64: 0.5·x·(1 + erf(x/√2)), or with approximate the tanh form.
func GeluFloat(x float64, approximate bool) float64 {
	if approximate {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
}

// gelu is ONNX's Gelu (opset 20), attribute approximate "none" or "tanh".
func gelu(n *Node, ins []*Tensor) (*Tensor, error) {
	approx := false
	switch a := n.AttrString("approximate", "none"); a {
	case "none":
	case "tanh":
		approx = true
	default:
		return nil, fmt.Errorf("approximate %q: want none or tanh", a)
	}
	return unary(ins, func(v float32) float32 { return float32(GeluFloat(float64(v), approx)) })
}

// layerNorm is ONNX's LayerNormalization (opset 17) over the axes from axis (default -1) on, in
// float64; scale and bias broadcast over those axes.
func layerNorm(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r == 0 {
		return nil, fmt.Errorf("input is a scalar")
	}
	ax, err := axis(n.AttrInt("axis", -1), r, r)
	if err != nil {
		return nil, err
	}
	d := ShapeLen(x.Shape[ax:])
	param := func(k int) ([]float32, error) {
		if k >= len(ins) || ins[k] == nil {
			return nil, nil
		}
		t := ins[k]
		if len(t.Data) != d && len(t.Data) != 1 {
			return nil, fmt.Errorf("input %d shape %v does not broadcast over %v", k, t.Shape, x.Shape[ax:])
		}
		return t.Data, nil
	}
	scale, err := param(1)
	if err != nil {
		return nil, err
	}
	if scale == nil {
		return nil, fmt.Errorf("input 1 (scale) missing")
	}
	bias, err := param(2)
	if err != nil {
		return nil, err
	}
	eps := float64(n.AttrFloat("epsilon", 1e-5))
	out, err := alloc(slices.Clone(x.Shape))
	if err != nil {
		return nil, err
	}
	at := func(p []float32, i int) float64 {
		if len(p) == 1 {
			return float64(p[0])
		}
		return float64(p[i])
	}
	for o := 0; o+d <= len(x.Data) && d > 0; o += d {
		row := x.Data[o : o+d]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(d)
		var sq float64
		for _, v := range row {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		rstd := 1 / math.Sqrt(sq/float64(d)+eps)
		for i, v := range row {
			y := (float64(v) - mean) * rstd * at(scale, i)
			if bias != nil {
				y += at(bias, i)
			}
			out.Data[o+i] = float32(y)
		}
	}
	return out, nil
}

// gatherOp is ONNX's Gather with constant indices (attributes indices and indices_shape, set by the
// importer): out = x[..., indices, ...] along axis.
func gatherOp(n *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r == 0 {
		return nil, fmt.Errorf("input is a scalar")
	}
	ax, err := axis(n.AttrInt("axis", 0), r, r)
	if err != nil {
		return nil, err
	}
	idx := n.AttrInts("indices")
	var ishape []int
	for _, d := range n.AttrInts("indices_shape") {
		ishape = append(ishape, int(d))
	}
	if ShapeLen(ishape) != len(idx) {
		return nil, fmt.Errorf("indices %v do not fill shape %v", idx, ishape)
	}
	dim := x.Shape[ax]
	shape := slices.Concat(x.Shape[:ax], ishape, x.Shape[ax+1:])
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	outer, inner := ShapeLen(x.Shape[:ax]), ShapeLen(x.Shape[ax+1:])
	o := 0
	for b := range outer {
		for _, v := range idx {
			if v < -int64(dim) || v >= int64(dim) {
				return nil, fmt.Errorf("index %d out of range for dimension %d of size %d", v, ax, dim)
			}
			if v < 0 {
				v += int64(dim)
			}
			src := (b*dim + int(v)) * inner
			o += copy(out.Data[o:], x.Data[src:src+inner])
		}
	}
	return out, nil
}

// batchMatMul is the fused form of MatMul between two computed tensors (TensorFlow Lite's
// BATCH_MATMUL): attributes adj_x and adj_y transpose the last two dimensions of A and B.
func batchMatMul(n *Node, ins []*Tensor) (*Tensor, error) {
	a, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	b, err := in(ins, 1)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) < 2 || len(b.Shape) < 2 {
		return nil, fmt.Errorf("A %v, B %v: want rank 2 or more", a.Shape, b.Shape)
	}
	if n.AttrInt("adj_x", 0) != 0 {
		if a, err = swapLast(a); err != nil {
			return nil, err
		}
	}
	if n.AttrInt("adj_y", 0) != 0 {
		if b, err = swapLast(b); err != nil {
			return nil, err
		}
	}
	return matmul([]*Tensor{a, b})
}

// swapLast transposes the last two dimensions.
func swapLast(x *Tensor) (*Tensor, error) {
	r := len(x.Shape)
	perm := make([]int64, r)
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[r-2], perm[r-1] = perm[r-1], perm[r-2]
	return transpose(&Node{Attrs: map[string]Attr{"perm": Ints(perm...)}}, []*Tensor{x})
}

// linear is the fused fully connected layer over the last axis of a tensor of any rank (MatMul by
// a constant [K, N] plus an optional bias [N]), which quant/transform makes for token tensors.
func linear(_ *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	w, err := in(ins, 1)
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 2 || len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != w.Shape[0] {
		return nil, fmt.Errorf("input %v and weights %v do not multiply", x.Shape, w.Shape)
	}
	K, N := w.Shape[0], w.Shape[1]
	var bias []float32
	if len(ins) > 2 && ins[2] != nil {
		if len(ins[2].Data) != N {
			return nil, fmt.Errorf("bias shape %v, want [%d]", ins[2].Shape, N)
		}
		bias = ins[2].Data
	}
	shape := slices.Clone(x.Shape)
	shape[len(shape)-1] = N
	out, err := alloc(shape)
	if err != nil {
		return nil, err
	}
	rows := len(x.Data) / max(K, 1)
	for r := range rows {
		xr := x.Data[r*K : (r+1)*K]
		o := out.Data[r*N : (r+1)*N]
		for j := range N {
			var acc float32
			for k, v := range xr {
				acc += v * w.Data[k*N+j]
			}
			if bias != nil {
				acc += bias[j]
			}
			o[j] = acc
		}
	}
	return out, nil
}

// toTokens turns an NCHW feature map [N, C, H, W] into tokens [N, H·W, C] (PyTorch's
// x.flatten(2).transpose(1, 2)), fused by quant/transform from Reshape + Transpose.
func toTokens(_ *Node, ins []*Tensor) (*Tensor, error) {
	x, err := in(ins, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("input %v: want NCHW", x.Shape)
	}
	N, C, HW := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	out, err := alloc([]int{N, HW, C})
	if err != nil {
		return nil, err
	}
	for b := range N {
		for c := range C {
			for p := range HW {
				out.Data[(b*HW+p)*C+c] = x.Data[(b*C+c)*HW+p]
			}
		}
	}
	return out, nil
}

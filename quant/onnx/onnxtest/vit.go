package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ViTOptions choose the export form of ViTTiny.
type ViTOptions struct {
	// LayerNorm: "op" for opset 17's LayerNormalization, "decomposed" for the ReduceMean, Sub, Pow,
	// ReduceMean, Add, Sqrt, Div, Mul, Add chain that older opsets get.
	LayerNorm string
	// Gelu: "erf" (nn.GELU(): Div, Erf, Add, Mul, Mul) or "tanh" (nn.GELU(approximate="tanh"):
	// Pow, Mul, Add, Mul, Tanh, Add, Mul, Mul).
	Gelu string
	// Pool: "mean" (mean over all tokens: ReduceMean) or "cls" (the class token: Gather).
	Pool string
	// FusedQKV computes q, k and v with one Linear layer as timm does: Reshape [1, T, 3, H, d],
	// Transpose [2, 0, 3, 1, 4], then q, k, v = qkv[0], qkv[1], qkv[2] (Gather).
	FusedQKV bool
	// Dim, Heads, Blocks and MLP (hidden width) size the model; 0 means 64, 2, 2 and 2·Dim.
	Dim, Heads, Blocks, MLP int64
}

// ViTTiny builds a ViT for 32x32 images as torch.onnx.export writes a small PyTorch ViT: patch
// embedding Conv(4x4, stride 4) → flatten(2).transpose(1, 2) (Reshape, Transpose) → class token
// (Concat with a constant) → positional embedding (Add) → pre-norm blocks (LayerNorm, attention
// with separate q/k/v Linear layers (MatMul + Add), heads split by Reshape + Transpose, scores
// q·kᵀ (Transpose + MatMul) scaled (Mul), Softmax, ·v (MatMul), heads merged by Transpose +
// Reshape, projection, residual Add; LayerNorm, MLP Linear → GELU → Linear, residual Add) → final
// LayerNorm → pooling → Gemm to 10 classes. Input "x" [1, 3, 32, 32], output "logits" [1, 10].
func ViTTiny(opset int64, seed uint64, o ViTOptions) *Builder {
	if o.Dim == 0 {
		o.Dim = 64
	}
	if o.Heads == 0 {
		o.Heads = 2
	}
	if o.Blocks == 0 {
		o.Blocks = 2
	}
	if o.MLP == 0 {
		o.MLP = 2 * o.Dim
	}
	rng := rand.New(rand.NewPCG(seed, 0x766974))
	b := New("vit_tiny", opset)
	x := b.Input("x", 1, 3, 32, 32)
	D, H := o.Dim, o.Heads
	dh := D / H
	const P, T = 4, 65 // patch size, tokens (64 patches and the class token)
	k := 0
	name := func(s string) string { k++; return fmt.Sprintf("%s%d", s, k) }
	uniform := func(n string, fanIn int64, shape ...int64) string {
		return b.Random(rng, n, float32(math.Sqrt(3/float64(fanIn))), shape...)
	}
	scalar := func(n string, v float32) string { return b.Float(name(n), []int64{}, []float32{v}) }
	linear := func(in string, din, dout int64) string {
		n := name("linear")
		mm := b.Op("MatMul", n+"_mm", nil, in, uniform(n+"_w", din, din, dout))
		return b.Op("Add", n, nil, mm, b.Random(rng, n+"_b", 0.1, dout))
	}
	layerNorm := func(in string) string {
		n := name("ln")
		g := b.Float(n+"_g", []int64{D}, between(rng, int(D), 0.7, 1.3))
		beta := b.Random(rng, n+"_beta", 0.2, D)
		if o.LayerNorm == "op" {
			return b.Op("LayerNormalization", n, Attrs{"axis": -1, "epsilon": float32(1e-5)}, in, g, beta)
		}
		mean := b.Op("ReduceMean", n+"_mean", Attrs{"axes": []int64{-1}}, in)
		d := b.Op("Sub", n+"_sub", nil, in, mean)
		sq := b.Op("Pow", n+"_pow", nil, d, scalar("two", 2))
		v := b.Op("ReduceMean", n+"_var", Attrs{"axes": []int64{-1}}, sq)
		std := b.Op("Sqrt", n+"_sqrt", nil, b.Op("Add", n+"_eps", nil, v, scalar("eps", 1e-5)))
		y := b.Op("Div", n+"_div", nil, d, std)
		return b.Op("Add", n, nil, b.Op("Mul", n+"_mul", nil, y, g), beta)
	}
	gelu := func(in string) string {
		n := name("gelu")
		if o.Gelu == "tanh" {
			cube := b.Op("Pow", n+"_pow", nil, in, scalar("three", 3))
			inner := b.Op("Add", n+"_add0", nil, in, b.Op("Mul", n+"_mul0", nil, cube, scalar("c", 0.044715)))
			t := b.Op("Tanh", n+"_tanh", nil, b.Op("Mul", n+"_mul1", nil, inner, scalar("s2pi", float32(math.Sqrt(2/math.Pi)))))
			half := b.Op("Mul", n+"_mul2", nil, in, scalar("half", 0.5))
			return b.Op("Mul", n, nil, half, b.Op("Add", n+"_add1", nil, t, scalar("one", 1)))
		}
		e := b.Op("Erf", n+"_erf", nil, b.Op("Div", n+"_div", nil, in, scalar("sqrt2", float32(math.Sqrt2))))
		m := b.Op("Mul", n+"_mul", nil, in, b.Op("Add", n+"_add", nil, e, scalar("one", 1)))
		return b.Op("Mul", n, nil, m, scalar("half", 0.5))
	}
	heads := func(in string, perm []int64) string {
		n := name("heads")
		r := b.Op("Reshape", n+"_reshape", nil, in, b.Ints(n+"_shape", 1, T, H, dh))
		return b.Op("Transpose", n, Attrs{"perm": perm}, r)
	}
	attention := func(in string) string {
		var q, k, v string
		if o.FusedQKV {
			n := name("qkv")
			r := b.Op("Reshape", n+"_reshape", nil, linear(in, D, 3*D), b.Ints(n+"_shape", 1, T, 3, H, dh))
			t := b.Op("Transpose", n, Attrs{"perm": []int64{2, 0, 3, 1, 4}}, r)
			pick := func(i int64) string {
				return b.Op("Gather", fmt.Sprintf("%s_%d", n, i), Attrs{"axis": 0}, t, b.Init(Int64Tensor(fmt.Sprintf("%s_i%d", n, i), []int64{}, []int64{i})))
			}
			q, k, v = pick(0), pick(1), pick(2)
		} else {
			q = heads(linear(in, D, D), []int64{0, 2, 1, 3})
			k = heads(linear(in, D, D), []int64{0, 2, 1, 3})
			v = heads(linear(in, D, D), []int64{0, 2, 1, 3})
		}
		kt := b.Op("Transpose", name("kt"), Attrs{"perm": []int64{0, 1, 3, 2}}, k)
		s := b.Op("MatMul", name("scores"), nil, q, kt)
		s = b.Op("Mul", name("scaled"), nil, s, scalar("scale", float32(1/math.Sqrt(float64(dh)))))
		p := b.Op("Softmax", name("softmax"), Attrs{"axis": -1}, s)
		a := b.Op("MatMul", name("attn"), nil, p, v)
		n := name("merge")
		a = b.Op("Transpose", n+"_t", Attrs{"perm": []int64{0, 2, 1, 3}}, a)
		a = b.Op("Reshape", n, nil, a, b.Ints(n+"_shape", 1, T, D))
		return linear(a, D, D)
	}

	pe := b.Op("Conv", "patch", Attrs{"kernel_shape": []int64{P, P}, "strides": []int64{P, P}},
		x, uniform("patch_w", 3*P*P, D, 3, P, P), b.Random(rng, "patch_b", 0.1, D))
	tok := b.Op("Reshape", "flatten", nil, pe, b.Ints("flatten_shape", 1, D, -1))
	tok = b.Op("Transpose", "tokens", Attrs{"perm": []int64{0, 2, 1}}, tok)
	h := b.Op("Concat", "cls_concat", Attrs{"axis": 1}, b.Random(rng, "cls_token", 0.5, 1, 1, D), tok)
	h = b.Op("Add", "pos_add", nil, h, b.Random(rng, "pos_embed", 0.5, 1, T, D))
	for range o.Blocks {
		h = b.Op("Add", name("res"), nil, h, attention(layerNorm(h)))
		h = b.Op("Add", name("res"), nil, h, linear(gelu(linear(layerNorm(h), D, o.MLP)), o.MLP, D))
	}
	h = layerNorm(h)
	if o.Pool == "cls" {
		h = b.Op("Gather", "cls_pick", Attrs{"axis": 1}, h, b.Init(Int64Tensor("cls_index", []int64{}, []int64{0})))
	} else {
		h = b.Op("ReduceMean", "pool", Attrs{"axes": []int64{1}, "keepdims": 0}, h)
	}
	b.Op("Gemm", "logits", Attrs{"transB": 1}, h, uniform("head_w", D, 10, D), b.Random(rng, "head_b", 0.1, 10))
	b.Output("logits", 1, 10)
	return b
}

package onnxtest

import "math/rand/v2"

// The integer shape arithmetic PyTorch's exporter writes for sizes read from tensors:
// view(x.size(0), -1) as Shape, Gather, Unsqueeze, Concat into a Reshape, and a size computed with
// integer Div and Mul (as chunk's split points are).
func init() {
	extraCases = append(extraCases, Case{Name: "shape_arithmetic", Inputs: []Shaped{{"x", []int64{2, 4, 6, 6}}}, build: func(b *Builder, rng *rand.Rand) {
		r := b.Op("Relu", "r", nil, "x")
		s := b.Op("Shape", "s", nil, r)
		n := b.Op("Gather", "n", Attrs{"axis": 0}, s, b.Init(Int64Tensor("i0", []int64{}, []int64{0})))
		c := b.Op("Gather", "c", Attrs{"axis": 0}, s, b.Init(Int64Tensor("i1", []int64{}, []int64{1})))
		half := b.Op("Mul", "half", nil, b.Op("Div", "div", nil, c, b.Init(Int64Tensor("two", []int64{}, []int64{2}))), b.Init(Int64Tensor("one", []int64{}, []int64{1})))
		var un, uh string
		if b.Opset() >= 13 {
			ax := b.Ints("axes", 0)
			un = b.Op("Unsqueeze", "un", nil, n, ax)
			uh = b.Op("Unsqueeze", "uh", nil, half, ax)
		} else {
			un = b.Op("Unsqueeze", "un", Attrs{"axes": []int64{0}}, n)
			uh = b.Op("Unsqueeze", "uh", Attrs{"axes": []int64{0}}, half)
		}
		shape := b.Op("Concat", "shape", Attrs{"axis": 0}, un, uh, b.Ints("rest", -1))
		b.Op("Reshape", "y", nil, r, shape)
		b.Output("y")
	}})
}

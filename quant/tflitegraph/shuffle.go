package tflitegraph

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/graph"
)

// The channel-shuffle family: TRANSPOSE, SLICE (and so SPLIT) and RESHAPE at any rank act on the
// file's NHWC order, while the graph holds 4-D tensors as NCHW. Each becomes the same node on the
// tensor in the file's order: a 4-D input is first transposed to NHWC, a 4-D output transposed back
// to NCHW. The quantizer's lowering makes these transposes free where it can.

func init() {
	converters[models.OpTranspose] = (*converter).transpose
	converters[models.OpSlice] = (*converter).slice
}

// fileOrder returns a graph tensor holding x (a graph tensor of file shape fs) in the file's order.
func (c *converter) fileOrder(op *models.Op, x string, fs []int) string {
	if len(fs) != 4 {
		return x
	}
	name := fmt.Sprintf("%s/nhwc/%d", x, len(c.g.Nodes))
	c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: op.Name + "/to_nhwc", Op: "Transpose", Inputs: []string{x}, Outputs: []string{name},
		Attrs: map[string]graph.Attr{"perm": graph.Ints(0, 2, 3, 1)}})
	return name
}

// addInFileOrder adds node typ on x (in the file's order) writing op's output, transposed to NCHW
// when it is 4-D.
func (c *converter) addInFileOrder(op *models.Op, typ string, x string, attrs map[string]graph.Attr) {
	out := c.names[op.Outputs[0]]
	if len(c.m.Tensors[op.Outputs[0]].Shape) != 4 {
		c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: op.Name, Op: typ, Inputs: []string{x}, Outputs: []string{out}, Attrs: attrs})
		return
	}
	tmp := out + "/nhwc"
	c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: op.Name, Op: typ, Inputs: []string{x}, Outputs: []string{tmp}, Attrs: attrs},
		&graph.Node{Name: op.Name + "/to_nchw", Op: "Transpose", Inputs: []string{tmp}, Outputs: []string{out},
			Attrs: map[string]graph.Attr{"perm": graph.Ints(0, 3, 1, 2)}})
}

func ints64(v []int) []int64 {
	out := make([]int64, len(v))
	for k, x := range v {
		out[k] = int64(x)
	}
	return out
}

// reshapeAny is a RESHAPE the flattening rules do not cover: a Reshape in the file's order.
func (c *converter) reshapeAny(i int, op *models.Op, x string, xt *models.Tensor, attrs map[string]graph.Attr) error {
	if _, ok := c.flat[x]; ok {
		return c.fail(i, "reshape of the flattened %v is not supported", xt.Shape)
	}
	attrs["shape"] = graph.Ints(ints64(c.m.Tensors[op.Outputs[0]].Shape)...)
	c.addInFileOrder(op, "Reshape", c.fileOrder(op, x, xt.Shape), attrs)
	return nil
}

func (c *converter) transpose(i int, op *models.Op, attrs map[string]graph.Attr) error {
	x, xt, err := c.activationIn(i, 0)
	if err != nil {
		return err
	}
	if _, ok := c.flat[x]; ok {
		return c.fail(i, "transpose of the flattened %v is not supported", xt.Shape)
	}
	if len(op.Axes) != len(xt.Shape) {
		return c.fail(i, "permutation %v for an input of rank %d", op.Axes, len(xt.Shape))
	}
	attrs["perm"] = graph.Ints(ints64(op.Axes)...)
	c.addInFileOrder(op, "Transpose", c.fileOrder(op, x, xt.Shape), attrs)
	return nil
}

func (c *converter) slice(i int, op *models.Op, attrs map[string]graph.Attr) error {
	x, xt, err := c.activationIn(i, 0)
	if err != nil {
		return err
	}
	if _, ok := c.flat[x]; ok {
		return c.fail(i, "slice of the flattened %v is not supported", xt.Shape)
	}
	r := len(xt.Shape)
	if len(op.Paddings) != 2*r || (len(op.Axes) != 0 && len(op.Axes) != r) {
		return c.fail(i, "begin/end %v, strides %v for an input of rank %d", op.Paddings, op.Axes, r)
	}
	var starts, ends, steps []int64
	for d := range r {
		b, e, s := op.Paddings[2*d], op.Paddings[2*d+1], 1
		if len(op.Axes) != 0 {
			s = op.Axes[d]
		}
		starts, ends, steps = append(starts, int64(b)), append(ends, int64(e)), append(steps, int64(s))
	}
	attrs["starts"], attrs["ends"], attrs["steps"] = graph.Ints(starts...), graph.Ints(ends...), graph.Ints(steps...)
	out := c.m.Tensors[op.Outputs[0]].Shape
	if len(out) == r {
		c.addInFileOrder(op, "Slice", c.fileOrder(op, x, xt.Shape), attrs)
		return nil
	}
	// STRIDED_SLICE's shrink_axis_mask: slice, then drop the size-1 dimensions.
	xs := c.fileOrder(op, x, xt.Shape)
	tmp := fmt.Sprintf("%s/slice/%d", c.names[op.Outputs[0]], len(c.g.Nodes))
	c.g.Nodes = append(c.g.Nodes, &graph.Node{Name: op.Name + "/slice", Op: "Slice", Inputs: []string{xs}, Outputs: []string{tmp}, Attrs: attrs})
	c.addInFileOrder(op, "Reshape", tmp, map[string]graph.Attr{"shape": graph.Ints(ints64(out)...)})
	return nil
}

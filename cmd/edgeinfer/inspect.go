package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func init() {
	commands["inspect"] = command{"print a model's ops, shapes, quantization, MACs and memory plan", runInspect}
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inspect", "MODEL")
	tensors := fs.Bool("tensors", false, "also list every tensor with its arena offset")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one model")
	}
	path, err := resolveModel(fs.Arg(0))
	if err != nil {
		return err
	}
	format, err := load.Sniff(path)
	if err != nil {
		return err
	}
	m, closer, err := load.Model(path)
	if err != nil {
		return err
	}
	defer closer.Close()
	it, err := runtime.New(m, runtime.Options{})
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "model %q (%s format, %d tensors, %d ops)\n", m.Name, format, len(m.Tensors), len(m.Ops))
	for i := 0; i < it.NumInputs(); i++ {
		fmt.Fprintf(w, "input %d:  %s\n", i, describe(it.Input(i)))
	}
	for i := 0; i < it.NumOutputs(); i++ {
		fmt.Fprintf(w, "output %d: %s\n", i, describe(it.Output(i)))
	}
	if len(m.Labels) > 0 {
		fmt.Fprintf(w, "labels: %d (%s, ...)\n", len(m.Labels), m.Labels[0])
	}
	if p := m.Preprocess; p != nil {
		fmt.Fprintf(w, "preprocess: raw=%v mean=%v std=%v resize=%q bgr=%v crop=%g\n", p.Raw, p.Mean, p.Std, p.Resize, p.BGR, p.CropFraction)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\top\tkernel\toutput\tquant\tattrs\tMACs")
	var weights int64
	for _, op := range it.Ops() {
		o := it.Tensor(op.Outputs[0])
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s %v\t%s\t%s\t%s\n", op.Index, op.Type, op.Kernel, o.Type, o.Shape, quantString(o.Quant), attrs(&m.Ops[op.Index]), human(op.MACs))
		for _, t := range op.Inputs {
			if t >= 0 && m.Tensors[t].IsConst() {
				weights += int64(len(m.Tensors[t].Data))
			}
		}
	}
	tw.Flush()
	plan := it.Plan()
	fmt.Fprintf(w, "\ntotal: %s MACs, %s bytes of constants\n", human(it.MACs()), human(weights))
	fmt.Fprintf(w, "memory plan: activation arena %s bytes (one buffer per tensor would need %s, %.1fx)\n",
		human(int64(plan.ArenaSize)), human(int64(plan.NaiveSize)), float64(plan.NaiveSize)/float64(max(plan.ArenaSize, 1)))
	if *tensors {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\ntensor\tname\ttype\tshape\tquant\tlive ops\tarena offset\tbytes")
		for i := range m.Tensors {
			t := it.Tensor(i)
			live, off := "const", "-"
			if plan.Offset[i] >= 0 {
				live, off = fmt.Sprintf("%d..%d", plan.First[i], plan.Last[i]), fmt.Sprint(plan.Offset[i])
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\t%s\t%s\t%d\n", i, t.Name, t.Type, t.Shape, quantString(t.Quant), live, off, len(t.Bytes()))
		}
		tw.Flush()
	}
	return nil
}

func describe(t *runtime.Tensor) string {
	return fmt.Sprintf("%q %s %v %s", t.Name, t.Type, t.Shape, quantString(t.Quant))
}

func quantString(q *models.Quant) string {
	if q == nil || len(q.Scale) == 0 {
		return "-"
	}
	if len(q.Scale) == 1 {
		return fmt.Sprintf("scale=%.6g zp=%d", q.Scale[0], q.ZeroAt(0))
	}
	lo, hi := q.Scale[0], q.Scale[0]
	for _, s := range q.Scale {
		lo, hi = min(lo, s), max(hi, s)
	}
	return fmt.Sprintf("per-channel(axis %d, %d scales %.3g..%.3g)", q.Axis, len(q.Scale), lo, hi)
}

func attrs(op *models.Op) string {
	var parts []string
	switch op.Type {
	case models.OpConv2D, models.OpDepthwiseConv2D, models.OpAveragePool2D, models.OpMaxPool2D:
		if op.Kernel != [2]int{} {
			parts = append(parts, fmt.Sprintf("k=%dx%d", op.Kernel[0], op.Kernel[1]))
		}
		parts = append(parts, fmt.Sprintf("s=%d,%d", max(op.Stride[0], 1), max(op.Stride[1], 1)))
		if op.Pad != [4]int{} {
			parts = append(parts, fmt.Sprintf("pad=%v", op.Pad))
		}
		if op.Dilation[0] > 1 || op.Dilation[1] > 1 {
			parts = append(parts, fmt.Sprintf("dil=%d,%d", op.Dilation[0], op.Dilation[1]))
		}
		if op.DepthMultiplier > 1 {
			parts = append(parts, fmt.Sprintf("mult=%d", op.DepthMultiplier))
		}
	case models.OpMean:
		parts = append(parts, fmt.Sprintf("axes=%v keep=%v", op.Axes, op.KeepDims))
	case models.OpConcatenation:
		parts = append(parts, fmt.Sprintf("axis=%d", op.Axis))
	case models.OpPad:
		parts = append(parts, fmt.Sprintf("paddings=%v", op.Paddings))
	case models.OpTranspose:
		parts = append(parts, fmt.Sprintf("perm=%v", op.Axes))
	case models.OpSlice:
		parts = append(parts, fmt.Sprintf("begin,end=%v", op.Paddings))
		if len(op.Axes) > 0 {
			parts = append(parts, fmt.Sprintf("strides=%v", op.Axes))
		}
	}
	if op.Activation != models.ActNone {
		parts = append(parts, op.Activation.String())
	}
	return strings.Join(parts, " ")
}

// human prints n with a k/M/G suffix.
func human(n int64) string {
	switch {
	case n >= 10_000_000_000:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 10_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

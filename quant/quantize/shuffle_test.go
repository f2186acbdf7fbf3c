package quantize_test

import (
	"context"
	"math"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
)

// The channel-shuffle, concat and pooling families (issue 13) quantized with the default method and
// run by the runtime: every layer close to float, the top-1 class the same on most images, and the
// channel shuffles lowered as one Transpose each.
func TestQuantizeShuffleFamily(t *testing.T) {
	set := synthetic{n: 200, size: 16}
	nets := []struct {
		name       string
		b          *onnxtest.Builder
		transposes int // Transpose ops in the int8 model
	}{
		{"shufflenetv2", onnxtest.ShuffleNetV2Net(13, 5), 3},
		{"shufflenetv2_opset11", onnxtest.ShuffleNetV2Net(11, 6), 3},
		{"inception", onnxtest.InceptionNet(13, 5), 0},
		// DenseNet-BC's pre-activation BatchNormalization reads a concatenation and folds into no
		// convolution: transform.FoldBatchNorm makes it a 1x1 depthwise Conv (ReLU fused).
		{"densenet_bc", onnxtest.DenseNetNet(true, 13, 5), 0},
		{"densenet_post", onnxtest.DenseNetNet(false, 13, 5), 0},
		{"resnet", onnxtest.ResNetNet(13, 5), 0},
	}
	for _, net := range nets {
		t.Run(net.name, func(t *testing.T) {
			g := prepare(t, net.b)
			cal := calibrate(t, g, set, 64)
			m, err := quantize.Quantize(context.Background(), cal, quantize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[models.OpType]int{}
			for _, op := range m.Ops {
				ops[op.Type]++
			}
			if ops[models.OpTranspose] != net.transposes {
				t.Errorf("%d Transpose ops, want %d (all: %v)", ops[models.OpTranspose], net.transposes, ops)
			}
			stats, err := quantize.CompareLayers(context.Background(), cal, m, 16)
			if err != nil {
				t.Fatal(err)
			}
			worst, at := math.Inf(1), ""
			reshapes := 0 // the channel shuffles' outputs, compared in the graph's order
			for _, s := range stats {
				if s.Op == "Reshape" {
					reshapes++
				}
				if s.Cosine < worst {
					worst, at = s.Cosine, s.Tensor+" ("+s.Op+")"
				}
			}
			last := stats[len(stats)-1]
			agree := agreement(t, g, cal, m, set, dataset.Spread(set.Len(), 100)[1:])
			t.Logf("%d ops %v; %d layers compared, worst cosine %.4f at %s, output SQNR %.1f dB, top-1 agreement %.0f%%",
				len(m.Ops), ops, len(stats), worst, at, last.SQNR, 100*agree)
			if net.transposes > 0 && reshapes < net.transposes {
				t.Errorf("%d Reshape outputs compared with float, want the %d channel shuffles'", reshapes, net.transposes)
			}
			if worst < 0.98 || last.SQNR < 15 || agree < 0.85 {
				t.Errorf("worst cosine %.4f, output SQNR %.1f dB, agreement %.2f: want >= 0.98, 15 dB, 0.85", worst, last.SQNR, agree)
			}
		})
	}
}

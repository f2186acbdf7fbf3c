package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/arch"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// The fast kernels (kernels_arm, on arm64 the NEON paths the CPU selects) must give exactly the bytes
// of the generic implementation, on whole real networks, for every requantization mode and thread
// count.
func TestFastKernelsMatchGeneric(t *testing.T) {
	type net struct {
		name string
		m    *models.Model
	}
	var nets []net
	for _, rel := range []string{"imagenet/mobilenet_v1_0.25_128_quant.tflite", "imagenet/mobilenet_v2_1.0_224_quant.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite"} {
		m, err := tflite.ReadFile(shareddata.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, net{rel, m})
	}
	if !testing.Short() {
		m, err := arch.Build("mobilenet_v1_1.0_224", 3)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, net{"arch/mobilenet_v1_1.0_224", m})
	}
	// All 3x3 convolutions: on the SMLAL path (Cortex-A72/A53) the stride-1 ones run Winograd F(2,3)
	// (kernels_arm/winograd.go), which must give the generic kernels' bytes. The generic network
	// takes minutes under qemu, so this runs on request (kernels_arm's tests cover the layer shapes
	// on every CI run): EDGEINFER_TEST_REPVGG=1 qemu-aarch64 runtime.test -test.run FastKernels.
	if os.Getenv("EDGEINFER_TEST_REPVGG") == "1" {
		m, err := arch.Build("repvgg_a0_224", 3)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, net{"arch/repvgg_a0_224", m})
	}
	for _, n := range nets {
		for _, mode := range []runtime.Requantization{runtime.XNNPACK, runtime.Reference} {
			t.Run(fmt.Sprintf("%s/%s", n.name, mode), func(t *testing.T) {
				ref := newInterp(t, n.m, runtime.Options{Requantization: mode, Generic: true})
				fast := newInterp(t, n.m, runtime.Options{Requantization: mode, Threads: 2})
				kernels := map[string]int{}
				for _, op := range fast.Ops() {
					kernels[op.Kernel]++
				}
				t.Logf("kernels: %v", kernels)
				rng := rand.New(rand.NewPCG(5, 6))
				input := make([]byte, len(ref.Input(0).Bytes()))
				for trial := 0; trial < 2; trial++ {
					for i := range input {
						input[i] = byte(rng.IntN(256))
					}
					want, got := infer(t, ref, input), infer(t, fast, input)
					if !bytes.Equal(want, got) {
						t.Fatalf("trial %d: fast kernels differ from generic: largest byte difference %d", trial, maxDiff(got, want, true))
					}
				}
				if n := testing.AllocsPerRun(2, func() { fast.Run(context.Background()) }); n != 0 {
					t.Errorf("fast path allocates %v times per inference", n)
				}
			})
		}
	}
}

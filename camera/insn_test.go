package camera

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// TestInsnHarness runs the fused preprocessing EDGEINFER_INSN="FORMAT_WxH_METHOD:N" times, for
// counting executed instructions under qemu (camera/insncount.sh). Without the variable it skips.
func TestInsnHarness(t *testing.T) {
	spec := os.Getenv("EDGEINFER_INSN")
	if spec == "" {
		t.Skip("EDGEINFER_INSN not set (camera/insncount.sh sets it)")
	}
	var fs, method string
	var w, h, n int
	if _, err := fmt.Sscanf(spec, "%4s_%dx%d_%s", &fs, &w, &h, &method); err != nil {
		t.Fatalf("EDGEINFER_INSN %q: %v", spec, err)
	}
	for i := len(method) - 1; i >= 0; i-- {
		if method[i] == ':' {
			fmt.Sscanf(method[i+1:], "%d", &n)
			method = method[:i]
			break
		}
	}
	format, err := ParsePixelFormat(fs)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPreprocessor(models.Int8, []int{1, 224, 224, 3}, &models.Quant{Scale: []float32{1. / 128}, ZeroPoint: []int32{0}},
		&models.Preprocess{Mean: [3]float32{.5, .5, .5}, Std: [3]float32{.5, .5, .5}}, method)
	if err != nil {
		t.Fatal(err)
	}
	f := randomFrame(rand.New(rand.NewPCG(1, 1)), format, w, h, 0)
	dst := make([]byte, 224*224*3)
	for i := 0; i < n; i++ {
		if err := p.FillFrame(dst, f); err != nil {
			t.Fatal(err)
		}
	}
}

package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models"
)

func TestSniffAndLoadBothFormats(t *testing.T) {
	src := shareddata.Path(t, "mlperf_tiny/pretrainedResnet_quant.tflite")
	if f, err := Sniff(src); err != nil || f != FormatTFLite {
		t.Fatalf("Sniff(tflite) = %q, %v", f, err)
	}
	m, c, err := Model(src)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The same model in edgeinfer's format, under a misleading name: the magic decides.
	eim := filepath.Join(t.TempDir(), "model.tflite")
	if err := m.WriteFile(eim, models.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if f, err := Sniff(eim); err != nil || f != FormatEdgeinfer {
		t.Fatalf("Sniff(edgeinfer) = %q, %v", f, err)
	}
	m2, c2, err := Model(eim)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if len(m2.Ops) != len(m.Ops) || len(m2.Tensors) != len(m.Tensors) {
		t.Fatalf("round trip: %d ops %d tensors, want %d and %d", len(m2.Ops), len(m2.Tensors), len(m.Ops), len(m.Tensors))
	}
}

func TestSniffErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("TF"), 0o644)
	for _, p := range []string{short, filepath.Join(dir, "missing")} {
		if _, _, err := Model(p); err == nil || !strings.HasPrefix(err.Error(), "load: ") {
			t.Errorf("Model(%s) error %v", p, err)
		}
	}
}

package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

// TestRunGroup runs the pipeline on the ImageNet MobileNetV2 with the cat photo, watching the
// built-in group "cat" and a user-defined group from the file: each is published over MQTT under
// its name like a class (ON on its class topic), though no single cat class reaches the threshold
// the group does.
func TestRunGroup(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v2_1.0_224_quant.tflite")
	img := shareddata.Path(t, "imagenet/cat.bmp")
	data, err := os.ReadFile(shareddata.Path(t, "imagenet/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	os.WriteFile(conf, []byte(`watch:
  - class: cat
    on: 0.9
  - class: cat_flap
    on: 0.9
groups:
  cat_flap: [pet, porcupine, "red fox"]
`), 0o644)
	var cfg Config
	if err := cfg.LoadFile(conf); err != nil {
		t.Fatal(err)
	}
	brokerAddr := freeAddr(t)
	cfg.Model, cfg.Labels = model, strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	cfg.Source, cfg.Device, cfg.Listen = "file:"+img+"?loop=1", "grouptest", "off"
	cfg.MQTT.Listen = brokerAddr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()
	msgs := subscribe(t, "tcp://"+brokerAddr, "edgeinfer/grouptest/class/#")
	on := map[string]bool{}
	deadline := time.After(slowdown * 60 * time.Second)
	for !on["cat"] || !on["cat_flap"] {
		select {
		case m := <-msgs:
			name := strings.TrimPrefix(m.Topic(), "edgeinfer/grouptest/class/")
			if string(m.Payload()) == mqtt.On {
				on[name] = true
			}
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		case <-deadline:
			t.Fatalf("after %v: ON for %v, want cat and cat_flap", slowdown*60*time.Second, on)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

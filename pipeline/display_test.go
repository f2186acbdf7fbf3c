package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgeinfer/edgeinfer/display"
)

// lockedRecord is periph's I2C recorder, safe to read while the display goroutine writes.
type lockedRecord struct {
	mu sync.Mutex
	i2ctest.Record
}

func (r *lockedRecord) Tx(addr uint16, w, rd []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Record.Tx(addr, w, rd)
}

// TestRunDisplay: with display: set, the label goes to the SSD1306 (gobot's driver on a periph
// bus, here periph's recorder): its init sequence, then a full frame write per label change.
func TestRunDisplay(t *testing.T) {
	mp, labels := modelAndLabels(t)
	rec := &lockedRecord{}
	var opened display.Config
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=160x120", Listen: "off", Frames: 5,
		MQTT: MQTT{Listen: freeAddr(t)},
		Display: &Display{Address: 0x3D, Height: 32, Open: func(c display.Config) (display.Screen, error) {
			opened = c
			return display.New(rec, c)
		}}}
	if err := Run(context.Background(), cfg, quietLog()); err != nil {
		t.Fatal(err)
	}
	if opened.Bus != 1 || opened.Address != 0x3D || opened.Height != 32 {
		t.Fatalf("display opened with %+v", opened)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	frames := 0
	for _, op := range rec.Ops {
		if op.Addr != 0x3D {
			t.Fatalf("I2C transaction to %#x", op.Addr)
		}
		if len(op.W) == 1+128*32/8 && op.W[0] == 0x40 {
			frames++
		}
	}
	if frames == 0 {
		t.Fatalf("no frame written to the display in %d transactions", len(rec.Ops))
	}
}

func TestDisplayConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "edgeinfer.yaml")
	os.WriteFile(p, []byte("display:\n  bus: 0\n  address: 0x3d\n  height: 32\n"), 0o644)
	var c Config
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	if c.Display == nil || c.Display.Bus == nil || *c.Display.Bus != 0 || c.Display.Address != 0x3d || c.Display.Height != 32 {
		t.Fatalf("display %+v", c.Display)
	}
	os.WriteFile(p, []byte("display:\n  adress: 0x3d\n"), 0o644)
	if err := new(Config).LoadFile(p); err == nil || !strings.Contains(err.Error(), `"adress"`) || !strings.Contains(err.Error(), ":2") {
		t.Fatalf("typo: %v", err)
	}
}

package gpiosmoketest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/gpio"
)

func TestLoopback(t *testing.T) {
	pins := strings.Split(os.Getenv("EDGEINFER_GPIO_LOOPBACK"), ",")
	if len(pins) != 2 {
		t.Skip("EDGEINFER_GPIO_LOOPBACK=OUT,IN not set (two GPIO lines wired together; see the package doc)")
	}
	out, in := strings.TrimSpace(pins[0]), strings.TrimSpace(pins[1])
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	edges := make(chan bool, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, err := gpio.Watch(ctx, gpio.Chardev{}, gpio.Input{Pin: in, Edge: "both", Pull: "down", Debounce: 10 * time.Millisecond},
		func(active bool) { edges <- active })
	if err != nil {
		t.Fatal(err)
	}
	expect := func(want bool) {
		t.Helper()
		select {
		case got := <-edges:
			if got != want {
				t.Errorf("%s: edge to %v, want %v", in, got, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: no edge to %v within 2 s: is it wired to %s?", in, want, out)
		}
	}

	as, err := gpio.Open(gpio.Chardev{}, []gpio.Action{{Class: "x", Kind: gpio.LED, Pin: out}}, log)
	if err != nil {
		t.Fatal(err)
	}
	as.Set("x", true)
	expect(true)
	as.Set("x", false)
	expect(false)
	as.Set("x", true)
	expect(true)
	if err := as.Close(); err != nil { // off at Close
		t.Fatal(err)
	}
	expect(false)

	as, err = gpio.Open(gpio.Chardev{}, []gpio.Action{{Class: "x", Kind: gpio.Pulse, Pin: out, Duration: 100 * time.Millisecond}}, log)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	as.Set("x", true)
	expect(true)
	expect(false)
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Errorf("100 ms pulse seen for %v", d)
	}
	as.Close()
	cancel()
	<-done
}

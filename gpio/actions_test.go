package gpio_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	egpio "github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/gpio/gpiotest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitLevel waits up to 2 s for p to be at level l.
func waitLevel(t *testing.T, p *gpiotest.Pin, l gpio.Level) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); p.Level() != l; {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after 2 s, want %v (history %v)", p.N, p.Level(), l, p.Levels())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestActions(t *testing.T) {
	var lines gpiotest.Lines
	as, err := egpio.Open(&lines, []egpio.Action{
		{Class: "cat", Kind: egpio.LED, Pin: "GPIO17"},
		{Class: "cat", Kind: egpio.Pulse, Pin: "P1-13", ActiveLow: true, Duration: 30 * time.Millisecond},
		{Class: "dog", Kind: egpio.Buzzer, Pin: "gpiochip0:0", Pattern: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}},
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	led, relay, buzz := lines.Pin("GPIO17"), lines.Pin("GPIO27"), lines.Pin("gpiochip0:0")
	// Opened inactive: low, and high for the active-low relay.
	if led.Level() != gpio.Low || relay.Level() != gpio.High || buzz.Level() != gpio.Low {
		t.Fatalf("after Open: led %v relay %v buzzer %v, want Low High Low", led.Level(), relay.Level(), buzz.Level())
	}

	as.Set("cat", true)
	waitLevel(t, led, gpio.High)
	waitLevel(t, relay, gpio.Low) // pulse on
	start := time.Now()
	waitLevel(t, relay, gpio.High) // and off again by itself
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("30ms pulse lasted %v", d)
	}
	h := relay.History()
	if n := len(h); n != 3 || h[2].At.Sub(h[1].At) < 30*time.Millisecond {
		t.Errorf("relay history %v: want off, on, off with >= 30ms on", h)
	}
	if led.Level() != gpio.High {
		t.Error("LED went off while the class is still active")
	}
	as.Set("cat", false)
	waitLevel(t, led, gpio.Low)

	as.Set("dog", true)
	time.Sleep(200 * time.Millisecond)
	if got := buzz.Levels(); len(got) != 5 || got[1] != gpio.High || got[2] != gpio.Low || got[3] != gpio.High || got[4] != gpio.Low {
		t.Errorf("buzzer levels %v, want Low (open) then High Low High Low", got)
	}

	as.Set("cat", true)
	waitLevel(t, led, gpio.High)
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
	if led.Level() != gpio.Low || relay.Level() != gpio.High || buzz.Level() != gpio.Low {
		t.Errorf("after Close: led %v relay %v buzzer %v, want every output inactive", led.Level(), relay.Level(), buzz.Level())
	}
	if led.Requested() || relay.Requested() || buzz.Requested() {
		t.Error("lines not released by Close")
	}
	as.Set("cat", true) // after Close: nothing, no panic
	if err := as.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOpenErrors: a bad action or line fails Open, and leaves the lines already opened inactive
// and released.
func TestOpenErrors(t *testing.T) {
	lines := gpiotest.Lines{Fail: map[string]error{"GPIO22": errors.New("busy")}}
	_, err := egpio.Open(&lines, []egpio.Action{
		{Class: "cat", Kind: egpio.LED, Pin: "GPIO17", ActiveLow: true},
		{Class: "cat", Kind: egpio.LED, Pin: "GPIO22"},
	}, quiet())
	var ae *egpio.ActionError
	if !errors.As(err, &ae) || ae.Index != 1 || ae.Field != "pin" || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("Open with a busy line: %v", err)
	}
	if p := lines.Pin("GPIO17"); p.Requested() || p.Level() != gpio.High {
		t.Errorf("first line after the failed Open: requested %v, level %v; want released, inactive (High)", p.Requested(), p.Level())
	}
	for _, c := range []struct {
		a    egpio.Action
		want string
	}{
		{egpio.Action{Kind: egpio.LED, Pin: "GPIO5"}, "class: missing"},
		{egpio.Action{Class: "cat", Kind: "lamp", Pin: "GPIO5"}, `kind: "lamp": want led, pulse or buzzer`},
		{egpio.Action{Class: "cat", Kind: egpio.LED, Pin: "P1-2"}, "pin: gpio: pin \"P1-2\": header pin 2 is 5V power"},
		{egpio.Action{Class: "cat", Kind: egpio.LED, Pin: "GPIO5", Duration: time.Second}, "duration: only a pulse"},
		{egpio.Action{Class: "cat", Kind: egpio.Pulse, Pin: "GPIO5", Duration: -time.Second}, "must not be negative"},
		{egpio.Action{Class: "cat", Kind: egpio.Buzzer, Pin: "GPIO5", Pattern: []time.Duration{time.Millisecond, 0}}, "pattern: step 1"},
	} {
		_, err := egpio.Open(&gpiotest.Lines{}, []egpio.Action{c.a}, quiet())
		var ae *egpio.ActionError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &ae) || ae.Index != 0 || !strings.HasPrefix(c.want, ae.Field+": ") && ae.Field != "duration" {
			t.Errorf("Open(%+v): %v, want an ActionError with %q", c.a, err, c.want)
		}
		if _, cerr := c.a.Check(); cerr == nil || !errors.As(cerr, new(*egpio.FieldError)) {
			t.Errorf("Check(%+v): %v, want a FieldError", c.a, cerr)
		}
	}
	_, err = egpio.Open(&gpiotest.Lines{}, []egpio.Action{
		{Class: "cat", Kind: egpio.LED, Pin: "P1-11"}, {Class: "dog", Kind: egpio.LED, Pin: "GPIO17"},
	}, quiet())
	if err == nil || !strings.Contains(err.Error(), "action 0 drives it already") {
		t.Errorf("two actions on one line: %v", err)
	}
}

// TestOutErrorOnOpen: a line that cannot be written fails Open and is released.
func TestOutErrorOnOpen(t *testing.T) {
	var lines gpiotest.Lines
	p := lines.Pin("GPIO5")
	p.OutErr = errors.New("EIO")
	_, err := egpio.Open(&lines, []egpio.Action{{Class: "cat", Kind: egpio.LED, Pin: "GPIO5"}}, quiet())
	if err == nil || !strings.Contains(err.Error(), "EIO") || p.Requested() {
		t.Errorf("Open on an unwritable line: %v, requested %v", err, p.Requested())
	}
}

func TestWatch(t *testing.T) {
	var lines gpiotest.Lines
	btn := lines.Pin("GPIO23")
	var fired, released atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done, err := egpio.Watch(ctx, &lines, egpio.Input{Pin: "P1-16", Pull: "down", Debounce: 20 * time.Millisecond}, func(active bool) {
		if active {
			fired.Add(1)
		} else {
			released.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if btn.Pull() != gpio.PullDown {
		t.Errorf("pull %v, want down", btn.Pull())
	}
	// A bouncy press: high, low, high within the debounce time, then held; then released.
	btn.Set(gpio.High)
	btn.Set(gpio.Low)
	time.Sleep(2 * time.Millisecond)
	btn.Set(gpio.High)
	time.Sleep(150 * time.Millisecond)
	btn.Set(gpio.Low)
	time.Sleep(150 * time.Millisecond)
	// A glitch shorter than the debounce time that comes back: no edge.
	btn.Set(gpio.High)
	btn.Set(gpio.Low)
	time.Sleep(150 * time.Millisecond)
	if f, r := fired.Load(), released.Load(); f != 1 || r != 0 {
		t.Errorf("rising-edge watch fired %d times (and %d releases), want 1 (and 0)", f, r)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("watch did not end with ctx")
	}
	if btn.Requested() {
		t.Error("input line not released")
	}

	_, err = egpio.Watch(context.Background(), &lines, egpio.Input{Pin: "GPIO23", Edge: "up"}, func(bool) {})
	if err == nil || !strings.Contains(err.Error(), `edge: "up": want rising, falling or both`) {
		t.Errorf("bad edge: %v", err)
	}
}

// TestWatchActiveLow: with active_low and edge both, a button to ground fires active on the
// falling level and inactive on the rising one.
func TestWatchActiveLow(t *testing.T) {
	var lines gpiotest.Lines
	btn := lines.Pin("GPIO4")
	btn.Set(gpio.High) // pulled up, not pressed
	got := make(chan bool, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := egpio.Watch(ctx, &lines, egpio.Input{Pin: "GPIO4", Edge: "both", ActiveLow: true, Debounce: 10 * time.Millisecond},
		func(a bool) { got <- a }); err != nil {
		t.Fatal(err)
	}
	btn.Set(gpio.Low)
	time.Sleep(100 * time.Millisecond)
	btn.Set(gpio.High)
	for _, want := range []bool{true, false} {
		select {
		case a := <-got:
			if a != want {
				t.Errorf("fired %v, want %v", a, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no edge (want active=%v)", want)
		}
	}
}

// TestAllOff: AllOff turns every open line inactive and keeps it so.
func TestAllOff(t *testing.T) {
	var lines gpiotest.Lines
	as, err := egpio.Open(&lines, []egpio.Action{{Class: "cat", Kind: egpio.LED, Pin: "GPIO17", ActiveLow: true}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	led := lines.Pin("GPIO17")
	as.Set("cat", true)
	waitLevel(t, led, gpio.Low)
	egpio.AllOff()
	if led.Level() != gpio.High {
		t.Fatal("AllOff left the active-low LED on")
	}
	as.Set("cat", true)
	time.Sleep(50 * time.Millisecond)
	if led.Level() != gpio.High {
		t.Error("a write after AllOff turned the LED on again")
	}
	as.Close()
}

package gpio

import (
	"context"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Input configures an input line that triggers something. The yaml tags are those of
// edgeinfer.yaml's trigger.
type Input struct {
	Pin string `yaml:"pin"`
	// Edge is the change that counts: rising (default), falling or both. With ActiveLow, rising
	// means the line becoming active, i.e. going low.
	Edge string `yaml:"edge"`
	// Pull is the line's bias: up, down or none (default: leave as it is).
	Pull      string        `yaml:"pull"`
	ActiveLow bool          `yaml:"active_low"`
	Debounce  time.Duration `yaml:"debounce"` // default 50ms
}

// DefaultDebounce is Input.Debounce when zero.
const DefaultDebounce = 50 * time.Millisecond

// Check checks in's fields and returns its pin. Its errors are *FieldError.
func (in *Input) Check() (Pin, error) {
	p, err := ParsePin(in.Pin)
	if err != nil {
		return Pin{}, &FieldError{"pin", err}
	}
	if _, err := in.edge(); err != nil {
		return Pin{}, &FieldError{"edge", err}
	}
	if _, err := in.pull(); err != nil {
		return Pin{}, &FieldError{"pull", err}
	}
	if in.Debounce < 0 {
		return Pin{}, &FieldError{"debounce", fmt.Errorf("%v: must not be negative", in.Debounce)}
	}
	return p, nil
}

func (in *Input) edge() (gpio.Edge, error) {
	switch strings.ToLower(in.Edge) {
	case "", "rising":
		return gpio.RisingEdge, nil
	case "falling":
		return gpio.FallingEdge, nil
	case "both":
		return gpio.BothEdges, nil
	}
	return gpio.NoEdge, fmt.Errorf("%q: want rising, falling or both", in.Edge)
}

func (in *Input) pull() (gpio.Pull, error) {
	switch strings.ToLower(in.Pull) {
	case "", "none":
		return gpio.PullNoChange, nil
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	case "float", "off":
		return gpio.Float, nil
	}
	return gpio.PullNoChange, fmt.Errorf("%q: want up, down or none", in.Pull)
}

// Watch requests in's line and calls fire(active) from its own goroutine for every debounced
// edge of the kind in.Edge asks for (active: the line is now active). It returns once the line
// is configured; the watch ends, and the line is released, when ctx ends. The returned channel
// is closed then.
func Watch(ctx context.Context, lines Lines, in Input, fire func(active bool)) (<-chan struct{}, error) {
	p, err := in.Check()
	if err != nil {
		return nil, fmt.Errorf("gpio: trigger: %w", err)
	}
	edge, _ := in.edge()
	pull, _ := in.pull()
	if in.Debounce == 0 {
		in.Debounce = DefaultDebounce
	}
	pin, err := lines.Input(p)
	if err != nil {
		if strings.HasPrefix(err.Error(), "gpio: ") {
			return nil, err // Chardev's errors name the pin
		}
		return nil, fmt.Errorf("gpio: pin %s: %w", p, err)
	}
	// Both edges from the kernel, whatever in.Edge says: the debouncer must see the line go back.
	if err := pin.In(pull, gpio.BothEdges); err != nil {
		Release(pin)
		return nil, fmt.Errorf("gpio: pin %s: %w", p, err)
	}
	stable := bool(pin.Read()) != in.ActiveLow // before returning: edges after Watch count
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer Release(pin)
		watch(ctx, pin, edge, in.ActiveLow, stable, in.Debounce, fire)
	}()
	return done, nil
}

// poll bounds each wait for an edge, so that the watch notices ctx ending.
const poll = 100 * time.Millisecond

func watch(ctx context.Context, pin gpio.PinIn, edge gpio.Edge, activeLow, stable bool, debounce time.Duration, fire func(bool)) {
	active := func() bool { return bool(pin.Read()) != activeLow }
	for ctx.Err() == nil {
		if !pin.WaitForEdge(poll) {
			continue
		}
		// An edge: wait until the line has been quiet for debounce, then see where it settled.
		for ctx.Err() == nil && pin.WaitForEdge(debounce) {
		}
		now := active()
		if now == stable {
			continue // a glitch, or a bounce that came back
		}
		stable = now
		if edge == gpio.BothEdges || (edge == gpio.RisingEdge) == now {
			fire(now)
		}
	}
}

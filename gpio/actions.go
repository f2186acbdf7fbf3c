package gpio

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Kind is what an action does with its line.
type Kind string

// The kinds of action.
const (
	LED    Kind = "led"    // active while the class is active
	Pulse  Kind = "pulse"  // active for Duration when the class becomes active
	Buzzer Kind = "buzzer" // follows Pattern when the class becomes active
)

// Defaults of an Action's timing.
const (
	DefaultPulse = 500 * time.Millisecond
)

// DefaultPattern is a buzzer's pattern when none is given: 100ms on, 100ms off, 100ms on.
var DefaultPattern = []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}

// Action ties a class to an output line. The yaml tags are those of edgeinfer.yaml's actions.
type Action struct {
	Class     string          `yaml:"class"`
	Kind      Kind            `yaml:"kind"`
	Pin       string          `yaml:"pin"`
	ActiveLow bool            `yaml:"active_low"`
	Duration  time.Duration   `yaml:"duration"` // pulse only
	Pattern   []time.Duration `yaml:"pattern"`  // buzzer only: on, off, on, ...
}

// FieldError is an error in one field of an Action; Field is its yaml name.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Check checks a's fields (not its class, which needs the model's labels) and returns its pin.
// Its errors are *FieldError.
func (a *Action) Check() (Pin, error) {
	fe := func(field, format string, args ...any) error {
		return &FieldError{field, fmt.Errorf(format, args...)}
	}
	if a.Class == "" {
		return Pin{}, fe("class", "missing: the class whose state drives the line")
	}
	switch a.Kind {
	case LED, Pulse, Buzzer:
	case "":
		return Pin{}, fe("kind", "missing: want led, pulse or buzzer")
	default:
		return Pin{}, fe("kind", "%q: want led, pulse or buzzer", string(a.Kind))
	}
	p, err := ParsePin(a.Pin)
	if err != nil {
		return Pin{}, &FieldError{"pin", err}
	}
	if a.Duration < 0 {
		return Pin{}, fe("duration", "%v: must not be negative", a.Duration)
	}
	if a.Duration != 0 && a.Kind != Pulse {
		return Pin{}, fe("duration", "only a pulse has a duration (a %s does not)", a.Kind)
	}
	if len(a.Pattern) != 0 && a.Kind != Buzzer {
		return Pin{}, fe("pattern", "only a buzzer has a pattern (a %s does not)", a.Kind)
	}
	for i, d := range a.Pattern {
		if d <= 0 {
			return Pin{}, fe("pattern", "step %d: %v: must be positive", i, d)
		}
	}
	return p, nil
}

// ActionError is Open failing on one action: Index is its place in the list, Field the yaml name
// of the field at fault ("pin" when its line could not be had).
type ActionError struct {
	Index int
	Field string
	Err   error
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("gpio: action %d: %s: %v", e.Index, e.Field, e.Err)
}
func (e *ActionError) Unwrap() error { return e.Err }

// Actions drives the output lines of a set of actions. Build it with Open; its methods may be
// called concurrently.
type Actions struct {
	outs    []*output
	byClass map[string][]*output
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
}

// output is one action's line and the goroutine that times it.
type output struct {
	a    Action
	pin  gpio.PinOut
	ev   chan bool
	done chan struct{}
	log  *slog.Logger

	mu     sync.Mutex // serialises writes with AllOff
	active bool
	halted bool // AllOff ran: no more writes
}

// open outputs, for AllOff.
var (
	openMu  sync.Mutex
	openSet = map[*output]bool{}
)

// Open checks the actions, requests their lines as outputs and sets them inactive. Two actions
// may not share a line. Its errors are *ActionError; on error every line it opened is inactive and
// released again.
func Open(lines Lines, actions []Action, log *slog.Logger) (*Actions, error) {
	if log == nil {
		log = slog.Default()
	}
	as := &Actions{byClass: map[string][]*output{}}
	used := map[string]int{}
	for i, a := range actions {
		p, err := a.Check()
		if err != nil {
			as.Close()
			fe := err.(*FieldError)
			return nil, &ActionError{i, fe.Field, fe.Err}
		}
		if j, ok := used[p.Key()]; ok {
			as.Close()
			return nil, &ActionError{i, "pin", fmt.Errorf("%s: action %d drives it already", p, j)}
		}
		used[p.Key()] = i
		pin, err := lines.Output(p)
		if err != nil {
			as.Close()
			return nil, &ActionError{i, "pin", err}
		}
		if a.Kind == Pulse && a.Duration == 0 {
			a.Duration = DefaultPulse
		}
		if a.Kind == Buzzer && len(a.Pattern) == 0 {
			a.Pattern = DefaultPattern
		}
		o := &output{a: a, pin: pin, ev: make(chan bool, 16), done: make(chan struct{}), log: log}
		if err := o.write(false); err != nil {
			Release(pin)
			as.Close()
			return nil, &ActionError{i, "pin", fmt.Errorf("%s: setting it inactive: %w", p, err)}
		}
		openMu.Lock()
		openSet[o] = true
		openMu.Unlock()
		as.outs = append(as.outs, o)
		as.byClass[a.Class] = append(as.byClass[a.Class], o)
		as.wg.Add(1)
		go o.run(&as.wg)
	}
	return as, nil
}

// Set passes a class's transition to its actions. It does not block on the lines and does not
// allocate; after Close it does nothing.
func (as *Actions) Set(class string, active bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.closed {
		return
	}
	for _, o := range as.byClass[class] {
		select {
		case o.ev <- active:
		default:
			o.log.Warn("gpio: action busy: transition dropped", "class", class, "active", active)
		}
	}
}

// Close stops the actions, drives every line inactive and releases it. It returns the first error
// of those writes; it may be called more than once.
func (as *Actions) Close() error {
	as.mu.Lock()
	if as.closed {
		as.mu.Unlock()
		return nil
	}
	as.closed = true
	as.mu.Unlock()
	for _, o := range as.outs {
		close(o.done)
	}
	as.wg.Wait()
	var errs []error
	for _, o := range as.outs {
		if err := o.write(false); err != nil {
			errs = append(errs, fmt.Errorf("gpio: %s %s: turning off: %w", o.a.Kind, o.a.Class, err))
		}
		Release(o.pin)
		openMu.Lock()
		delete(openSet, o)
		openMu.Unlock()
	}
	return errors.Join(errs...)
}

// AllOff drives every line of every open Actions inactive, and keeps them so: later writes to
// them are ignored. It is for a forced exit (os.Exit), where Close does not run.
func AllOff() {
	openMu.Lock()
	defer openMu.Unlock()
	for o := range openSet {
		o.mu.Lock()
		o.pin.Out(gpio.Level(o.a.ActiveLow))
		o.active, o.halted = false, true
		o.mu.Unlock()
	}
}

// write sets the line active or inactive, honouring ActiveLow; after AllOff it does nothing.
func (o *output) write(active bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.halted {
		return nil
	}
	if err := o.pin.Out(gpio.Level(active != o.a.ActiveLow)); err != nil {
		return err
	}
	o.active = active
	return nil
}

func (o *output) set(active bool) {
	if err := o.write(active); err != nil {
		o.log.Warn("gpio: write", "pin", o.a.Pin, "class", o.a.Class, "active", active, "err", err)
	}
}

// run times the action's line until done is closed.
func (o *output) run(wg *sync.WaitGroup) {
	defer wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	step := 0 // buzzer: the pattern step being played
	for {
		select {
		case <-o.done:
			t.Stop()
			return
		case on := <-o.ev:
			switch o.a.Kind {
			case LED:
				o.set(on)
			case Pulse:
				if on {
					o.set(true)
					t.Reset(o.a.Duration)
				}
			case Buzzer:
				if on {
					step = 0
					o.set(true)
					t.Reset(o.a.Pattern[0])
				}
			}
		case <-t.C:
			switch o.a.Kind {
			case Pulse:
				o.set(false)
			case Buzzer:
				step++
				if step < len(o.a.Pattern) {
					o.set(step%2 == 0)
					t.Reset(o.a.Pattern[step])
				} else {
					o.set(false)
				}
			}
		}
	}
}

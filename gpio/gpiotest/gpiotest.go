// Package gpiotest has fakes of package gpio's lines for tests without hardware: Lines hands out
// Pins that record every level written to them, and on which a test makes input edges.
package gpiotest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"

	egpio "github.com/edgeinfer/edgeinfer/gpio"
)

// Lines is a fake gpio.Lines. Its zero value is ready: it makes a Pin on the first request of each
// line. Set Fail to make requests of the named line (Pin.String) fail.
type Lines struct {
	mu   sync.Mutex
	pins map[string]*Pin
	// Fail maps a pin's canonical name to the error its request returns.
	Fail map[string]error
}

// Pin returns the fake line named name (a gpio.Pin's String, e.g. "GPIO17" or "gpiochip0:3"),
// creating it if needed.
func (l *Lines) Pin(name string) *Pin {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pins == nil {
		l.pins = map[string]*Pin{}
	}
	p := l.pins[name]
	if p == nil {
		p = &Pin{N: name, edges: make(chan struct{}, 64)}
		l.pins[name] = p
	}
	return p
}

func canonical(p egpio.Pin) string {
	if p.Chip != "" {
		return p.String()
	}
	return fmt.Sprintf("GPIO%d", p.BCM)
}

func (l *Lines) request(p egpio.Pin) (*Pin, error) {
	name := canonical(p)
	if err := l.Fail[name]; err != nil {
		return nil, err
	}
	fp := l.Pin(name)
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if fp.requested {
		return nil, fmt.Errorf("gpiotest: %s: busy", name)
	}
	fp.requested = true
	fp.Requests++
	return fp, nil
}

// Output implements gpio.Lines.
func (l *Lines) Output(p egpio.Pin) (gpio.PinOut, error) { return l.request(p) }

// Input implements gpio.Lines.
func (l *Lines) Input(p egpio.Pin) (gpio.PinIn, error) { return l.request(p) }

// Change is one level written to a Pin, with when.
type Change struct {
	Level gpio.Level
	At    time.Time
}

// Pin is a fake line. Outputs record what was written (History); inputs get edges from Set.
type Pin struct {
	N string

	mu        sync.Mutex
	level     gpio.Level
	history   []Change
	requested bool
	edges     chan struct{}
	pull      gpio.Pull
	edge      gpio.Edge
	// Requests counts the times the line was requested; OutErr, when set, is returned by Out.
	Requests int
	OutErr   error
}

// Level is the line's current level.
func (p *Pin) Level() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// History is a copy of the levels written with Out, oldest first.
func (p *Pin) History() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Change(nil), p.history...)
}

// Levels is History without the times.
func (p *Pin) Levels() []gpio.Level {
	h := p.History()
	l := make([]gpio.Level, len(h))
	for i, c := range h {
		l[i] = c.Level
	}
	return l
}

// Requested reports whether the line is requested (not released).
func (p *Pin) Requested() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requested
}

// Set changes an input line's level as the outside world would, making an edge when it differs.
func (p *Pin) Set(l gpio.Level) {
	p.mu.Lock()
	changed := p.level != l
	p.level = l
	p.mu.Unlock()
	if changed {
		select {
		case p.edges <- struct{}{}:
		default:
		}
	}
}

// Close releases the line.
func (p *Pin) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requested = false
}

func (p *Pin) String() string             { return p.N }
func (p *Pin) Name() string               { return p.N }
func (p *Pin) Number() int                { return -1 }
func (p *Pin) Function() string           { return string(p.Func()) }
func (p *Pin) Func() pin.Func             { return gpio.IN }
func (p *Pin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN, gpio.OUT} }
func (p *Pin) SetFunc(f pin.Func) error   { return errors.New("gpiotest: SetFunc: not supported") }
func (p *Pin) Halt() error                { return nil }
func (p *Pin) DefaultPull() gpio.Pull     { return gpio.PullNoChange }
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("gpiotest: PWM: not supported")
}

// Pull is the bias In asked for.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// In implements gpio.PinIn.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pull, p.edge = pull, edge
	return nil
}

// Read implements gpio.PinIn.
func (p *Pin) Read() gpio.Level { return p.Level() }

// WaitForEdge implements gpio.PinIn: it returns true when Set made an edge within timeout.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
		return false
	}
}

// Out implements gpio.PinOut.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.OutErr != nil {
		return p.OutErr
	}
	p.level = l
	p.history = append(p.history, Change{l, time.Now()})
	return nil
}

var (
	_ egpio.Lines = (*Lines)(nil)
	_ gpio.PinIO  = (*Pin)(nil)
)

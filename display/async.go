package display

import (
	"log/slog"
	"sync"
)

// Screen is what shows a label: an OLED, or a fake in tests.
type Screen interface {
	Show(label string, score float64) error
	Close() error
}

// Async shows labels on a Screen from its own goroutine, so that a slow bus never holds up the
// frame loop: Post never blocks and allocates nothing; while the screen is busy the newest label
// waits and older ones are dropped. A failing screen is logged once per new error.
type Async struct {
	s    Screen
	log  *slog.Logger
	ch   chan item
	wg   sync.WaitGroup
	once sync.Once
}

type item struct {
	label string
	score float64
}

// NewAsync starts showing on s.
func NewAsync(s Screen, log *slog.Logger) *Async {
	a := &Async{s: s, log: log, ch: make(chan item, 1)}
	a.wg.Add(1)
	go a.run()
	return a
}

func (a *Async) run() {
	defer a.wg.Done()
	var lastErr string
	for it := range a.ch {
		err := a.s.Show(it.label, it.score)
		switch {
		case err != nil && err.Error() != lastErr:
			lastErr = err.Error()
			a.log.Warn("display: cannot show the label", "err", err)
		case err == nil && lastErr != "":
			lastErr = ""
			a.log.Info("display: working again")
		}
	}
}

// Post asks for label and score to be shown.
func (a *Async) Post(label string, score float64) {
	it := item{label, score}
	for {
		select {
		case a.ch <- it:
			return
		default:
		}
		select { // full: drop the waiting one, then try again
		case <-a.ch:
		default:
		}
	}
}

// Close waits for the label being shown, then closes the screen. Post must not be called after.
func (a *Async) Close() error {
	var err error
	a.once.Do(func() {
		close(a.ch)
		a.wg.Wait()
		err = a.s.Close()
	})
	return err
}

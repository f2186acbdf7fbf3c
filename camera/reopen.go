package camera

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeinfer/edgeinfer/internal/ratelog"
)

// Backoff is the wait between attempts to reopen a lost camera: it starts at Min and doubles up to
// Max; a frame received resets it.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff waits 100 ms, then 200 ms, ... up to 5 s between attempts.
var DefaultBackoff = Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}

// Forever, as a StartTimeout, retries a source that cannot be opened at start without end.
const Forever time.Duration = -1

// logEvery is the interval of the sources' rate-limited warnings: the first of a kind is written,
// the others in the next minute are counted and the count written with the next one.
const logEvery = time.Minute

// State is a source's condition, as Options.OnState reports it each time it changes.
type State struct {
	Source string    // the URL, device, command or path
	Lost   bool      // no frames: the source is being reopened, or its files cannot be read
	Err    error     // why, when Lost
	Since  time.Time // when the source entered this state
}

// stateReporter calls a callback when a source is lost or comes back (not for each frame).
type stateReporter struct {
	name    string
	onState func(State)
	lost    bool
}

func (s *stateReporter) set(lost bool, err error) {
	if lost == s.lost {
		return
	}
	s.lost = lost
	if s.onState != nil {
		s.onState(State{Source: s.name, Lost: lost, Err: err, Since: time.Now()})
	}
}

// reopener keeps a Source open: when it fails (a USB camera unplugged, rpicam-vid dead, a stream
// cut), it closes it and opens it again with backoff, until Next's context ends. Sequence numbers
// continue across reopenings. A source that cannot be opened, or fails before its first frame, is
// retried the same way for startTimeout (0: not at all, the error is returned; Forever: without
// end).
type reopener struct {
	name    string
	open    func(ctx context.Context) (Source, error)
	backoff Backoff
	log     *ratelog.Logger

	startTimeout time.Duration
	onState      func(State)
	started      time.Time
	state        stateReporter

	mu      sync.Mutex
	closed  bool
	cur     Source
	wait    time.Duration
	base    uint64 // added to the current source's sequence numbers
	lastSeq uint64
	frames  uint64
	// Reopens counts the times the source was lost and opened again.
	reopens int
}

func newReopener(name string, b Backoff, log *slog.Logger, open func(ctx context.Context) (Source, error)) *reopener {
	if b.Min <= 0 {
		b = DefaultBackoff
	}
	return &reopener{name: name, open: open, backoff: b, log: ratelog.New(log, logEvery)}
}

// start opens the source, and returns the reopener around it. When that fails it returns the error
// if startTimeout is 0, else the reopener, which keeps trying in Next.
func (r *reopener) start(ctx context.Context) (Source, error) {
	r.started = time.Now()
	r.state = stateReporter{name: r.name, onState: r.onState}
	s, err := r.open(ctx)
	if err != nil {
		if r.startTimeout == 0 || ctx.Err() != nil {
			return nil, err
		}
		r.state.set(true, err)
		r.log.Warn("camera: cannot open; retrying", "source", r.name, "err", err, "start_timeout", timeoutString(r.startTimeout))
		return r, nil
	}
	r.cur = s
	return r, nil
}

// timeoutString writes a start timeout as the start_timeout parameter takes it.
func timeoutString(d time.Duration) string {
	if d < 0 {
		return "forever"
	}
	return d.String()
}

// giveUp reports whether a source that has never given a frame should stop being retried, and the
// error to return then.
func (r *reopener) giveUp(err error) (bool, error) {
	if r.frames > 0 || r.reopens > 0 {
		return false, nil
	}
	switch {
	case r.startTimeout == 0:
		return true, err // never worked, and no retrying asked for: say so at once
	case r.startTimeout > 0 && time.Since(r.started) >= r.startTimeout:
		return true, fmt.Errorf("camera: %s: no frame within start_timeout %s: %w", r.name, r.startTimeout, err)
	}
	return false, nil
}

func (r *reopener) Next(ctx context.Context) (*Frame, error) {
	for {
		r.mu.Lock()
		closed, cur := r.closed, r.cur
		r.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if cur == nil {
			s, err := r.open(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if stop, err := r.giveUp(err); stop {
					return nil, err
				}
				if r.wait == 0 {
					r.wait = r.backoff.Min
				}
				r.state.set(true, err)
				r.log.Warn("camera: cannot reopen", "source", r.name, "err", err, "retry_in", r.wait)
				if err := sleep(ctx, r.wait); err != nil {
					return nil, err
				}
				r.wait = min(2*r.wait, r.backoff.Max)
				continue
			}
			r.mu.Lock()
			if r.closed {
				r.mu.Unlock()
				s.Close()
				return nil, ErrClosed
			}
			r.cur, cur = s, s
			r.log.Flush() // the failed attempts counted since the last warning, before the news
			if r.frames > 0 {
				r.base = r.lastSeq + 1
				r.reopens++
				r.log.Info("camera: reopened", "source", r.name)
			} else if r.state.lost {
				r.log.Info("camera: opened", "source", r.name)
			}
			r.mu.Unlock()
		}
		f, err := cur.Next(ctx)
		if err == nil || IsFrameError(err) {
			var fe *FrameError
			switch {
			case f != nil:
				f.Sequence += r.base
				r.lastSeq = f.Sequence
			case errors.As(err, &fe):
				fe.Sequence += r.base
				r.lastSeq = fe.Sequence
			}
			r.frames++
			r.wait = 0
			if r.state.lost {
				r.state.set(false, nil)
			}
			return f, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrClosed) || errors.Is(err, io.EOF) {
			return nil, err
		}
		r.mu.Lock()
		r.cur = nil
		r.mu.Unlock()
		cur.Close()
		if errors.Is(err, errSnapshotDone) {
			continue
		}
		if stop, err := r.giveUp(err); stop {
			return nil, err // failed before its first frame: a setup problem to report
		}
		r.state.set(true, err)
		r.log.Warn("camera: source lost", "source", r.name, "err", err)
		if r.wait == 0 {
			r.wait = r.backoff.Min
		}
		if err := sleep(ctx, r.wait); err != nil {
			return nil, err
		}
		r.wait = min(2*r.wait, r.backoff.Max)
	}
}

func (r *reopener) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.log.Flush()
	if r.cur != nil {
		err := r.cur.Close()
		r.cur = nil
		return err
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

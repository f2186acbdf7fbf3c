package camera

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Backoff is the wait between attempts to reopen a lost camera: it starts at Min and doubles up to
// Max; a frame received resets it.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff waits 100 ms, then 200 ms, ... up to 5 s between attempts.
var DefaultBackoff = Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}

// reopener keeps a Source open: when it fails (a USB camera unplugged, rpicam-vid dead, a stream
// cut), it closes it and opens it again with backoff, until Next's context ends. Sequence numbers
// continue across reopenings.
type reopener struct {
	name    string
	open    func(ctx context.Context) (Source, error)
	backoff Backoff
	log     *slog.Logger

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
	if log == nil {
		log = slog.Default()
	}
	return &reopener{name: name, open: open, backoff: b, log: log}
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
				if r.frames == 0 && r.reopens == 0 {
					return nil, err // never worked: say so at once
				}
				if r.wait == 0 {
					r.wait = r.backoff.Min
				}
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
			if r.frames > 0 {
				r.base = r.lastSeq + 1
				r.reopens++
				r.log.Info("camera: reopened", "source", r.name)
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
		if r.frames == 0 {
			return nil, err // failed before its first frame: a setup problem to report, not to retry
		}
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

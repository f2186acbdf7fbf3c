package camera

import (
	"context"
	"sync"
)

// Latest reads a source in the background and keeps only its newest frame: a consumer slower than
// the camera (inference) gets the most recent frame at each Next instead of falling behind, and the
// frames it had no time for are dropped. Three buffers are copied into in turn, so in steady state
// nothing is allocated. Bad frames (*FrameError) are passed on when no newer frame has come.
type Latest struct {
	src    Source
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	ready   chan struct{} // signalled (non-blocking) when a frame or an error arrives
	bufs    [3]Frame
	newest  int // index of the newest unread frame, -1 if none
	reading int // index the consumer holds, -1 if none
	ferr    error
	err     error
	dropped uint64
}

// NewLatest starts reading src. Close stops the reader and closes src.
func NewLatest(src Source) *Latest {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Latest{src: src, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{}, 1), newest: -1, reading: -1}
	go l.run(ctx)
	return l
}

func (l *Latest) run(ctx context.Context) {
	defer close(l.done)
	w := 0
	for {
		f, err := l.src.Next(ctx)
		l.mu.Lock()
		switch {
		case err != nil && IsFrameError(err):
			l.ferr = err
		case err != nil:
			l.err = err
		default:
			b := &l.bufs[w]
			data := b.Data
			if cap(data) < len(f.Data) {
				data = make([]byte, len(f.Data))
			}
			*b = *f
			b.Data = data[:len(f.Data)]
			copy(b.Data, f.Data)
			if l.newest >= 0 {
				l.dropped++
			}
			l.newest, l.ferr = w, nil
			for w = 0; w == l.newest || w == l.reading; w++ {
			}
		}
		stop := l.err != nil
		l.mu.Unlock()
		select {
		case l.ready <- struct{}{}:
		default:
		}
		if stop {
			return
		}
	}
}

// Next returns the newest frame not yet returned, waiting for one if needed. The frame stays valid
// until the next call to Next.
func (l *Latest) Next(ctx context.Context) (*Frame, error) {
	for {
		l.mu.Lock()
		if l.newest >= 0 {
			l.reading, l.newest = l.newest, -1
			f := &l.bufs[l.reading]
			l.mu.Unlock()
			return f, nil
		}
		if l.ferr != nil {
			err := l.ferr
			l.ferr = nil
			l.mu.Unlock()
			return nil, err
		}
		if l.err != nil {
			err := l.err
			l.mu.Unlock()
			return nil, err
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.ready:
		}
	}
}

// Dropped counts the frames replaced by a newer one before anyone read them.
func (l *Latest) Dropped() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Close stops the background reader and closes the source.
func (l *Latest) Close() error {
	l.cancel()
	err := l.src.Close()
	<-l.done
	return err
}

var _ Source = (*Latest)(nil)

package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxKinds bounds the messages tracked separately; the rest share the slot named overflowKind.
const maxKinds = 64

// overflowKind is the shared slot of messages beyond maxKinds.
const overflowKind = "\x00other"

// Logger writes the first record of each message per interval and counts the others.
type Logger struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	level      slog.Level
	msg        string // the last suppressed record's message and attributes, for Flush
	args       []any
	written    time.Time // when a record of this kind was last written
	suppressed int       // records counted since then
}

// New returns a Logger writing to log (slog.Default() when nil) at most one record of each message
// per interval every (a minute when not positive).
func New(log *slog.Logger, every time.Duration) *Logger {
	if log == nil {
		log = slog.Default()
	}
	if every <= 0 {
		every = time.Minute
	}
	return &Logger{log: log, every: every, now: time.Now, kinds: map[string]*kind{}}
}

// Warn logs at level WARN, or counts the record if one with the same message was written less
// than an interval ago.
func (l *Logger) Warn(msg string, args ...any) {
	l.Log(context.Background(), slog.LevelWarn, msg, args...)
}

// Info logs at level INFO, or counts the record (see Warn).
func (l *Logger) Info(msg string, args ...any) {
	l.Log(context.Background(), slog.LevelInfo, msg, args...)
}

// Error logs at level ERROR, or counts the record (see Warn).
func (l *Logger) Error(msg string, args ...any) {
	l.Log(context.Background(), slog.LevelError, msg, args...)
}

// Log writes the record, with suppressed=N when N records of its message were counted since the
// last one written, or counts it when one was written less than an interval ago. It reports
// whether it wrote.
func (l *Logger) Log(ctx context.Context, level slog.Level, msg string, args ...any) bool {
	if !l.log.Enabled(ctx, level) {
		return false
	}
	now := l.now()
	l.mu.Lock()
	key := msg
	k := l.kinds[key]
	if k == nil {
		if len(l.kinds) >= maxKinds {
			l.evict(now)
		}
		if len(l.kinds) >= maxKinds {
			key = overflowKind
			k = l.kinds[key]
		}
		if k == nil {
			k = &kind{}
			l.kinds[key] = k
		}
	} else if now.Sub(k.written) < l.every {
		k.suppressed++
		k.level, k.msg, k.args = level, msg, args
		l.mu.Unlock()
		return false
	}
	if key == overflowKind && !k.written.IsZero() && now.Sub(k.written) < l.every {
		k.suppressed++
		k.level, k.msg, k.args = level, msg, args
		l.mu.Unlock()
		return false
	}
	n := k.suppressed
	k.written, k.suppressed, k.msg, k.args = now, 0, "", nil
	l.mu.Unlock()
	if n > 0 {
		args = append(args[:len(args):len(args)], "suppressed", n)
	}
	l.log.Log(ctx, level, msg, args...)
	return true
}

// evict forgets the kinds with nothing counted whose interval has passed. l.mu is held.
func (l *Logger) evict(now time.Time) {
	for key, k := range l.kinds {
		if k.suppressed == 0 && now.Sub(k.written) >= l.every {
			delete(l.kinds, key)
		}
	}
}

// Flush writes, for each message with N records counted and not yet reported, the attributes of the
// last of them with suppressed=N. Call it when whatever logs stops, so that the count is not lost.
func (l *Logger) Flush() {
	type rec struct {
		level slog.Level
		msg   string
		args  []any
	}
	var out []rec
	now := l.now()
	l.mu.Lock()
	for _, k := range l.kinds {
		if k.suppressed > 0 {
			args := append(k.args[:len(k.args):len(k.args)], "suppressed", k.suppressed)
			out = append(out, rec{k.level, k.msg, args})
			k.written, k.suppressed, k.msg, k.args = now, 0, "", nil
		}
	}
	l.mu.Unlock()
	for _, r := range out {
		l.log.Log(context.Background(), r.level, r.msg, r.args...)
	}
}

// Suppressed is the number of records counted and not yet reported.
func (l *Logger) Suppressed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, k := range l.kinds {
		n += k.suppressed
	}
	return n
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// oneShotLog returns the logger that one-shot commands hand to the libraries (camera sources,
// firmware build): plain "edgeinfer CMD: message (key value, ...)" lines on stderr, "WARN: " or
// "ERROR: " after the command name when it is one, instead of the daemon's slog key=value lines.
func oneShotLog(e *env, cmd string) *slog.Logger {
	return slog.New(&noteHandler{w: e.stderr, cmd: cmd, mu: new(sync.Mutex)})
}

// noteHandler is the slog.Handler of oneShotLog. Groups are flattened.
type noteHandler struct {
	w     io.Writer
	cmd   string
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *noteHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *noteHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "edgeinfer %s: ", h.cmd)
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("ERROR: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("WARN: ")
	}
	b.WriteString(trimPkgPrefixes(r.Message))
	var kv []string
	add := func(a slog.Attr) bool {
		if !a.Equal(slog.Attr{}) {
			v := a.Value.Resolve()
			if err, ok := v.Any().(error); ok {
				kv = append(kv, a.Key+" "+errorText(err))
			} else {
				kv = append(kv, a.Key+" "+v.String())
			}
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if len(kv) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(kv, ", "))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *noteHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *noteHandler) WithGroup(string) slog.Handler { return h }

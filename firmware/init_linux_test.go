//go:build linux

package firmware

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSupervise: a command that keeps failing is restarted with a doubling back-off capped at
// 30 s; ending the context stops a running command with SIGTERM.
func TestSupervise(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runs := 0
	var waits []time.Duration
	err = superviseCmd(ctx, log, func() *exec.Cmd {
		runs++
		if runs == 8 {
			// The eighth run waits for SIGTERM, which ending the context sends.
			return exec.Command(sh, "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done")
		}
		return exec.Command(sh, "-c", "exit 3")
	}, func(_ context.Context, d time.Duration) {
		waits = append(waits, d)
		if len(waits) == 7 {
			go func() { time.Sleep(300 * time.Millisecond); cancel() }()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("superviseCmd returned %v, want context.Canceled", err)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if runs != 8 || !slices.Equal(waits, want) {
		t.Errorf("%d runs, waits %v; want 8 runs, waits %v", runs, waits, want)
	}
	if n := strings.Count(logs.String(), "exit status 3"); n != 7 {
		t.Errorf("%d exits logged, want 7:\n%s", n, logs.String())
	}
}

package ratelog

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a manual time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTest(every time.Duration) (*Logger, *bytes.Buffer, *clock) {
	var b bytes.Buffer
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	l := New(slog.New(h), every)
	l.now = c.now
	return l, &b, c
}

func lines(b *bytes.Buffer) []string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestRepeatsAreCounted(t *testing.T) {
	l, b, c := newTest(time.Second)
	for i := 0; i < 1000; i++ {
		l.Warn("camera: cannot read", "file", fmt.Sprint(i))
		c.add(time.Millisecond) // 1000 records a second
	}
	l.Warn("camera: cannot read", "file", "last") // 1 s after the first: written, with the count
	got := lines(b)
	want := []string{
		`level=WARN msg="camera: cannot read" file=0`,
		`level=WARN msg="camera: cannot read" file=last suppressed=999`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l.Suppressed() != 0 {
		t.Fatalf("%d still counted", l.Suppressed())
	}
}

func TestKindsAreSeparateAndFlush(t *testing.T) {
	l, b, c := newTest(time.Minute)
	l.Warn("a", "n", 1)
	l.Info("b", "n", 1)
	l.Warn("a", "n", 2)
	l.Warn("a", "n", 3)
	l.Info("b", "n", 2)
	c.add(time.Second)
	if n := l.Suppressed(); n != 3 {
		t.Fatalf("suppressed %d, want 3", n)
	}
	l.Flush()
	l.Flush() // nothing more
	got := strings.Join(lines(b), "\n")
	for _, w := range []string{
		`level=WARN msg=a n=1`, `level=INFO msg=b n=1`,
		`level=WARN msg=a n=3 suppressed=2`, `level=INFO msg=b n=2 suppressed=1`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("no %q in\n%s", w, got)
		}
	}
	if n := len(lines(b)); n != 4 {
		t.Errorf("%d lines, want 4:\n%s", n, got)
	}
	// After a flush the interval starts again: the next record is counted, not written.
	l.Warn("a", "n", 4)
	if n := len(lines(b)); n != 4 {
		t.Errorf("a record right after a flush was written")
	}
}

// A flood of distinct messages (one per unknown class name, say) is bounded as well.
func TestManyKindsAreBounded(t *testing.T) {
	l, b, _ := newTest(time.Minute)
	for i := 0; i < 100000; i++ {
		l.Warn(fmt.Sprintf("unknown class %d", i))
	}
	if n := len(lines(b)); n > maxKinds+1 {
		t.Fatalf("%d lines for 100000 distinct messages", n)
	}
	b.Reset()
	l.Flush()
	if got := b.String(); !strings.Contains(got, "unknown class 99999") || !strings.Contains(got, fmt.Sprintf("suppressed=%d", 100000-maxKinds-1)) {
		t.Fatalf("flush: %s", got)
	}
}

func TestDisabledLevelIsNotCounted(t *testing.T) {
	var b bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})), time.Minute)
	l.Info("x")
	l.Info("x")
	l.Flush()
	if b.Len() != 0 || l.Suppressed() != 0 {
		t.Fatalf("debug records written or counted: %q", b.String())
	}
}

func TestConcurrentUse(t *testing.T) {
	l, b, _ := newTest(time.Hour)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				l.Warn("same")
			}
		}()
	}
	wg.Wait()
	if n := len(lines(b)); n != 1 || l.Suppressed() != 7999 {
		t.Fatalf("%d lines, %d suppressed", n, l.Suppressed())
	}
}

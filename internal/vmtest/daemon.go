package vmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// findDaemon returns the path of a service's executable (on PATH, else in /usr/sbin, where Debian
// puts daemons), or skips t when it is not installed (fails it under EDGEINFER_REQUIRE_VM=1).
func findDaemon(t testing.TB, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	bin = "/usr/sbin/" + name
	if _, serr := os.Stat(bin); serr != nil {
		unavailable(t, fmt.Errorf("vmtest: %s not found (Debian package %s): %w", name, pkg, err))
	}
	return bin
}

// startRetrying calls start up to five times: a free port chosen by the test can be taken before
// the daemon binds it, and the daemon then exits.
func startRetrying[T any](t testing.TB, what string, start func() (T, error)) T {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		v, err := start()
		if err == nil {
			return v
		}
		lastErr = err
	}
	t.Fatalf("vmtest: %s did not start: %v", what, lastErr)
	var zero T
	return zero
}

// daemon is a service a test started in the foreground of a child process.
type daemon struct {
	name   string
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan error
}

// startDaemon starts bin with args, collecting its output.
func startDaemon(name, bin string, args ...string) (*daemon, error) {
	d := &daemon{name: name, cmd: exec.Command(bin, args...), out: &lockedBuffer{}, exited: make(chan error, 1)}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("vmtest: starting %s: %w", name, err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	return d, nil
}

// stop sends SIGTERM, and SIGKILL after 5 s.
func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// waitReady polls ready every 20 ms for up to 10 s. Once it reports true the daemon must still be
// running 20 ms later: what answered could be another process that took the port. On success the
// daemon is stopped when t ends; on failure it is stopped now.
func (d *daemon) waitReady(t testing.TB, port int, ready func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-d.exited:
			return fmt.Errorf("vmtest: %s on port %d exited (%v): %s", d.name, port, err, d.out.String())
		default:
		}
		if ready() {
			select {
			case err := <-d.exited:
				return fmt.Errorf("vmtest: %s on port %d exited (%v): %s", d.name, port, err, d.out.String())
			case <-time.After(20 * time.Millisecond):
			}
			t.Cleanup(d.stop)
			return nil
		}
		if time.Now().After(deadline) {
			d.stop()
			return fmt.Errorf("vmtest: %s on port %d not ready after 10 s: %s", d.name, port, d.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

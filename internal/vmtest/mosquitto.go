package vmtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Broker is a mosquitto MQTT broker that StartMosquitto started on the host's loopback.
type Broker struct {
	Port int
}

// HostURL is the broker's address for clients on the host.
func (b *Broker) HostURL() string { return "tcp://127.0.0.1:" + strconv.Itoa(b.Port) }

// GuestURL is the broker's address for clients in the guest.
func (b *Broker) GuestURL() string { return "tcp://" + HostIP + ":" + strconv.Itoa(b.Port) }

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

// StartMosquitto starts a mosquitto broker for t on a free port of 127.0.0.1 (anonymous, no
// persistence) and stops it when t ends. A port taken between choosing and binding it makes mosquitto
// exit; it is then started again on another, so parallel and back-to-back runs never share a port. It
// skips t when mosquitto is not installed, or fails it under EDGEINFER_REQUIRE_VM=1. Host only.
func StartMosquitto(t testing.TB) *Broker {
	t.Helper()
	if InGuest() {
		t.Fatal("vmtest: StartMosquitto runs on the host only; guard it with !vmtest.InGuest()")
	}
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/mosquitto"); serr != nil {
			unavailable(t, fmt.Errorf("vmtest: mosquitto not found: %w", err))
		}
		bin = "/usr/sbin/mosquitto"
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		b, err := startMosquitto(t, bin)
		if err == nil {
			return b
		}
		lastErr = err
	}
	t.Fatalf("vmtest: mosquitto did not start: %v", lastErr)
	return nil
}

func startMosquitto(t testing.TB, bin string) (*Broker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	cmd := exec.Command(bin, "-c", conf)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("vmtest: starting mosquitto: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("vmtest: mosquitto on port %d exited (%v): %s", port, err, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			// The listener could be another process that took the port; ours is alive only if it bound.
			select {
			case err := <-exited:
				return nil, fmt.Errorf("vmtest: mosquitto on port %d exited (%v): %s", port, err, out.String())
			case <-time.After(20 * time.Millisecond):
			}
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("vmtest: mosquitto on port %d not accepting connections: %v: %s", port, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(stop)
	return &Broker{Port: port}, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("vmtest: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("vmtest: listener has no TCP address")
	}
	return addr.Port, nil
}

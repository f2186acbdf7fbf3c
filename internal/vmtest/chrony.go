package vmtest

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// NTPServer is a chrony NTP server that StartNTPServer started on the host's loopback.
type NTPServer struct {
	Port int
}

// HostAddr is the server's address for clients on the host.
func (s *NTPServer) HostAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// GuestAddr is the server's address for clients in the guest (QEMU forwards UDP too).
func (s *NTPServer) GuestAddr() string { return net.JoinHostPort(HostIP, strconv.Itoa(s.Port)) }

// StartNTPServer starts chronyd (Debian package chrony) for t as an NTP server on a free UDP port of
// 127.0.0.1, serving the host's clock at stratum 8 without touching it (-x), and stops it when t
// ends. It skips t when chronyd is not installed, or fails it under EDGEINFER_REQUIRE_VM=1. Host only.
func StartNTPServer(t testing.TB) *NTPServer {
	t.Helper()
	if InGuest() {
		t.Fatal("vmtest: StartNTPServer runs on the host only")
	}
	bin, err := exec.LookPath("chronyd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/chronyd"); serr != nil {
			unavailable(t, fmt.Errorf("vmtest: chronyd not found (Debian package chrony): %w", err))
		}
		bin = "/usr/sbin/chronyd"
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := startChrony(t, bin)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("vmtest: chronyd did not start: %v", lastErr)
	return nil
}

func startChrony(t testing.TB, bin string) (*NTPServer, error) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	dir := t.TempDir()
	os.Chmod(dir, 0o777) // chronyd may drop privileges
	conf := filepath.Join(dir, "chrony.conf")
	text := fmt.Sprintf("port %d\nbindaddress 127.0.0.1\nlocal stratum 8\nallow 127.0.0.1\ncmdport 0\npidfile %s\n",
		port, filepath.Join(dir, "chronyd.pid"))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	// -d: foreground, -x: never set the clock, -U: no check for root.
	cmd := exec.Command(bin, "-d", "-x", "-U", "-f", conf)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("vmtest: starting chronyd: %w", err)
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
	s := &NTPServer{Port: port}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("vmtest: chronyd on port %d exited (%v): %s", port, err, out.String())
		default:
		}
		if ntpAnswers(s.HostAddr()) {
			t.Cleanup(stop)
			return s, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("vmtest: chronyd on port %d does not answer: %s", port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ntpAnswers reports whether a server answers a client request at addr in mode 4.
func ntpAnswers(addr string) bool {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	req := make([]byte, 48)
	req[0] = 4<<3 | 3
	binary.BigEndian.PutUint64(req[40:], 0x0123456789abcdef)
	if _, err := c.Write(req); err != nil {
		return false
	}
	b := make([]byte, 128)
	n, err := c.Read(b)
	return err == nil && n >= 48 && b[0]&7 == 4
}

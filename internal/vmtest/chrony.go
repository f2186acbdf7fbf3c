package vmtest

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
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
	bin := findDaemon(t, "chronyd", "chrony")
	return startRetrying(t, "chronyd", func() (*NTPServer, error) { return startChrony(t, bin) })
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
	d, err := startDaemon("chronyd", bin, "-d", "-x", "-U", "-f", conf)
	if err != nil {
		return nil, err
	}
	s := &NTPServer{Port: port}
	if err := d.waitReady(t, port, func() bool { return ntpAnswers(s.HostAddr()) }); err != nil {
		return nil, err
	}
	return s, nil
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

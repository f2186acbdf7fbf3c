package vmtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
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

// StartMosquitto starts a mosquitto broker for t on a free port of 127.0.0.1 (anonymous, no
// persistence) and stops it when t ends. A port taken between choosing and binding it makes mosquitto
// exit; it is then started again on another, so parallel and back-to-back runs never share a port. It
// skips t when mosquitto is not installed, or fails it under EDGEINFER_REQUIRE_VM=1. Host only.
func StartMosquitto(t testing.TB) *Broker {
	t.Helper()
	if InGuest() {
		t.Fatal("vmtest: StartMosquitto runs on the host only; guard it with !vmtest.InGuest()")
	}
	bin := findDaemon(t, "mosquitto", "mosquitto")
	return startRetrying(t, "mosquitto", func() (*Broker, error) { return startMosquitto(t, bin) })
}

func startMosquitto(t testing.TB, bin string) (*Broker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	d, err := startDaemon("mosquitto", bin, "-c", conf)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err = d.waitReady(t, port, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
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

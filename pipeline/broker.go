package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is the embedded MQTT broker.
type Broker struct {
	srv  *mochi.Server
	addr string
}

// StartBroker starts an MQTT broker on addr (host:port; port 0 picks a free one) that accepts
// anonymous clients from loopback addresses only.
func StartBroker(addr string, log *slog.Logger) (*Broker, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("pipeline: embedded MQTT broker: %s is in use: another broker is running: set mqtt.broker (e.g. tcp://%s) to use it, or mqtt.listen to another address", addr, addr)
		}
		return nil, fmt.Errorf("pipeline: embedded MQTT broker: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	srv := mochi.New(&mochi.Options{Logger: log.With("component", "mqtt-broker")})
	if err := srv.AddHook(new(localOnly), nil); err != nil {
		ln.Close()
		return nil, fmt.Errorf("pipeline: embedded MQTT broker: %w", err)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("pipeline: embedded MQTT broker: %w", err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("pipeline: embedded MQTT broker: %w", err)
	}
	return &Broker{srv: srv, addr: ln.Addr().String()}, nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's address for clients.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error { return b.srv.Close() }

// localOnly lets in any client connecting from a loopback address, and no other.
type localOnly struct{ mochi.HookBase }

func (h *localOnly) ID() string { return "edgeinfer-local-only" }

func (h *localOnly) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnConnectAuthenticate, mochi.OnACLCheck}, []byte{b})
}

func (h *localOnly) OnConnectAuthenticate(cl *mochi.Client, _ packets.Packet) bool {
	return isLoopback(cl.Net.Remote)
}

func (h *localOnly) OnACLCheck(cl *mochi.Client, _ string, _ bool) bool {
	return cl.Net.Inline || isLoopback(cl.Net.Remote)
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

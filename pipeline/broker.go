package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/edgeinfer/edgeinfer/internal/credentials"
)

// Broker is the embedded MQTT broker.
type Broker struct {
	srv  *mochi.Server
	addr string
}

// BrokerMaxPacket is the largest MQTT packet the embedded broker accepts (1 MiB): a client sending
// a larger one is disconnected before the packet is read, so that no client can make the broker,
// or the daemon subscribed to its command topic, hold a huge payload in memory.
const BrokerMaxPacket = 1 << 20

// StartBroker starts an MQTT broker on addr (host:port; port 0 picks a free one) that accepts
// anonymous clients from loopback addresses only, and packets of at most BrokerMaxPacket bytes.
func StartBroker(addr string, log *slog.Logger) (*Broker, error) {
	return startBroker(addr, &authHook{id: "edgeinfer-local-only", auth: func(cl *mochi.Client, _ packets.Packet) bool {
		return isLoopback(cl.Net.Remote)
	}, acl: func(cl *mochi.Client) bool {
		return cl.Net.Inline || isLoopback(cl.Net.Remote)
	}}, log)
}

// StartBrokerAuth starts an MQTT broker on addr, as StartBroker does, that accepts the clients
// whose CONNECT carries the username and password of c, from any address, loopback included, and
// no others: it is the broker to listen beyond loopback with (see isLoopbackAddr).
func StartBrokerAuth(addr string, c credentials.Credentials, log *slog.Logger) (*Broker, error) {
	if c.Username == "" || c.Password == "" {
		return nil, errors.New("pipeline: embedded MQTT broker: empty username or password")
	}
	return startBroker(addr, &authHook{id: "edgeinfer-password", auth: func(_ *mochi.Client, pk packets.Packet) bool {
		return pk.Connect.UsernameFlag && pk.Connect.PasswordFlag && c.Check(pk.Connect.Username, pk.Connect.Password)
	}, acl: func(*mochi.Client) bool {
		return true // every client that got in was authenticated (or is the broker's own inline client)
	}}, log)
}

func startBroker(addr string, auth mochi.Hook, log *slog.Logger) (*Broker, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("pipeline: embedded MQTT broker: %s is in use: another broker is running: set mqtt.broker (--broker) to tcp://%s to use it, or mqtt.listen (--mqtt-listen) to another address", addr, addr)
		}
		return nil, fmt.Errorf("pipeline: embedded MQTT broker: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	// mochi logs every listener and hook start and stop at Info, and a closed connection at Warn:
	// only its errors are worth the daemon's log.
	blog := slog.New(minLevel{log.Handler(), slog.LevelError}).With("component", "mqtt-broker")
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = BrokerMaxPacket
	srv := mochi.New(&mochi.Options{Logger: blog, Capabilities: caps})
	if err := srv.AddHook(auth, nil); err != nil {
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

// URL is the broker's address for clients on this machine: its address, or 127.0.0.1 and its port
// when it listens on every interface.
func (b *Broker) URL() string {
	if h, p, err := net.SplitHostPort(b.addr); err == nil && net.ParseIP(h).IsUnspecified() {
		return "tcp://" + net.JoinHostPort("127.0.0.1", p)
	}
	return "tcp://" + b.addr
}

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error { return b.srv.Close() }

// minLevel drops the records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(g string) slog.Handler { return minLevel{h.Handler.WithGroup(g), h.min} }

// authHook is the embedded broker's access control: auth decides who may connect, acl whether a
// client that did may publish or subscribe (to any topic). StartBroker's lets in clients from
// loopback addresses only; StartBrokerAuth's the clients that give its username and password
// (compared in constant time), wherever they connect from.
type authHook struct {
	mochi.HookBase
	id   string
	auth func(cl *mochi.Client, pk packets.Packet) bool
	acl  func(cl *mochi.Client) bool
}

func (h *authHook) ID() string { return h.id }

func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnConnectAuthenticate, mochi.OnACLCheck}, []byte{b})
}

func (h *authHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	return h.auth(cl, pk)
}

func (h *authHook) OnACLCheck(cl *mochi.Client, _ string, _ bool) bool { return h.acl(cl) }

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLoopbackAddr reports whether a listen address (host:port) takes connections from this machine
// only: its host is a loopback IP or "localhost". An empty host, 0.0.0.0, [::], a LAN address or
// a host name are reachable from the network; so is anything that does not parse.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && (host == "localhost" || isLoopback(host))
}

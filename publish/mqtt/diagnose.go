package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// ErrTLSMismatch matches (errors.Is) a *ConnectError for a TLS URL (ssl://, mqtts://) naming a
// plain MQTT port, or a plain URL (tcp://, mqtt://) naming a TLS port.
var ErrTLSMismatch = errors.New("mqtt: TLS/plain mismatch")

// mismatchProbeTimeout bounds each step of a mismatch probe.
const mismatchProbeTimeout = 3 * time.Second

// diagnoseMismatch examines a connection attempt that reached the broker's port but failed: it
// probes the port with the other protocol (a plain MQTT CONNECT for a TLS URL, a TLS ClientHello
// for a plain one) and returns a *ConnectError wrapping ErrTLSMismatch when the port speaks the
// other one, nil otherwise. It gives up when stop is closed.
func diagnoseMismatch(broker string, cause error, timeout time.Duration, stop <-chan struct{}) error {
	u, err := url.Parse(broker)
	if err != nil || brokerSchemes[u.Scheme].websocket {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(timeout, mismatchProbeTimeout))
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if isTLS(broker) {
		if speaksPlainMQTT(ctx, u.Host) {
			return &ConnectError{Broker: broker, Err: fmt.Errorf("%w: %v", ErrTLSMismatch, cause),
				Hint: "TLS handshake failed, but the port answers plain MQTT: it is not a TLS port; use tcp:// (mqtt://) for it, or the broker's TLS port (usually 8883)"}
		}
		return nil
	}
	if speaksTLS(ctx, u.Host) {
		return &ConnectError{Broker: broker, Err: fmt.Errorf("%w: %v", ErrTLSMismatch, cause),
			Hint: "the port expects TLS (it answered a TLS ClientHello), but the URL is plain; use ssl:// (mqtts://) for it, with mqtt.ca_file if its certificate is not signed by a public CA"}
	}
	return nil
}

// speaksPlainMQTT sends an MQTT 3.1.1 CONNECT to addr and reports whether a CONNACK comes back.
func speaksPlainMQTT(ctx context.Context, addr string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// CONNECT, remaining length 12: protocol name "MQTT", level 4, clean session, keep-alive 10 s,
	// an empty client identifier.
	connect := []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 10, 0, 0}
	if _, err := c.Write(connect); err != nil {
		return false
	}
	var b [2]byte
	if _, err := c.Read(b[:1]); err != nil {
		return false
	}
	c.Write([]byte{0xe0, 0}) // DISCONNECT
	return b[0] == 0x20      // CONNACK
}

// speaksTLS starts a TLS handshake with addr and reports whether the server answered in TLS.
func speaksTLS(ctx context.Context, addr string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	host, _, _ := net.SplitHostPort(addr)
	answered := false
	tc := tls.Client(c, &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true, // only probing: nothing is sent over this connection
		VerifyConnection: func(tls.ConnectionState) error {
			answered = true
			return nil
		},
	})
	err = tc.HandshakeContext(ctx)
	if err == nil || answered {
		return true
	}
	var alert tls.AlertError
	return errors.As(err, &alert)
}

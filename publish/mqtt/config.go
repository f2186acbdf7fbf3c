package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Config configures a Publisher.
type Config struct {
	// Broker is the broker's URL: tcp://host:1883 (also mqtt://), ssl://host:8883 (also tls://,
	// mqtts://), ws:// or wss://. A bare host or host:port means tcp://; the port defaults to 1883,
	// or 8883 for TLS.
	Broker string
	// Device names this device in topics and in Home Assistant: letters, digits, '_' and '-'.
	Device string
	// DeviceID identifies this device in Home Assistant for good: the device's identifiers, the
	// entities' unique_id and the discovery topics derive from it, so that a new Device name (a
	// renamed host) keeps the same device and entities. Letters, digits, '_' and '-'; default
	// Device. The daemon derives it from the machine id (see pipeline.DeviceID).
	DeviceID string
	ClientID string // MQTT client identifier; default "edgeinfer-" + Device

	Username string
	Password string

	// CAFile is a PEM file of the CAs that sign the broker's certificate (default: the system's).
	// CertFile and KeyFile are a PEM client certificate and its key, for brokers that require one.
	// Any of them needs a TLS broker URL.
	CAFile, CertFile, KeyFile string

	// Classes are the watched classes (labels of the model): each gets a retained ON/OFF topic and a
	// Home Assistant binary sensor. Topics name them by Slug.
	Classes []string
	// DeviceClass is the Home Assistant device_class of a watched class's binary sensor, by class
	// name (default "occupancy"; "none" leaves it out). See BinarySensorDeviceClasses.
	DeviceClass map[string]string

	// Outbox is how many messages wait for the broker while it is unreachable (default 1000). When
	// it is full the oldest state message is dropped (Stats.Dropped counts them).
	Outbox int
	// Inflight is how many messages may wait for their PUBACK at once (default 8).
	Inflight int
	// Session publishes the outbox's messages at QoS 2 in a persistent session (clean session
	// off): after a lost connection paho sends the unacknowledged ones again with their packet
	// identifiers, so a broker that kept the session (mosquitto with persistence across its own
	// restarts) passes each on once: no duplicates from the publisher. The subscriptions (commands,
	// Home Assistant's status) are then made at QoS 0, so that commands sent while the device was
	// away are not replayed when it returns. Without it (the default) messages go at QoS 1 in a
	// clean session and are resent as new after a lost connection: at least once.
	Session bool
	// OutboxFile, when set, keeps the outbox across a restart of the daemon: Close saves the
	// messages it could not deliver there (at most Outbox of them, one JSON object per line), and
	// Open loads them back, ahead of anything new, and removes the file. A crash loses them. A
	// saved class state is delivered, then OFF (a new Publisher's classes start OFF).
	OutboxFile string

	DiscoveryPrefix string // Home Assistant discovery prefix; default "homeassistant"
	NoDiscovery     bool   // do not publish Home Assistant discovery
	Version         string // software version shown in Home Assistant's device page and origin
	// ConfigurationURL is the device's page in Home Assistant (the status page); empty: none.
	ConfigurationURL string
	// Snapshot announces an image entity for the JPEG snapshots (PublishSnapshot).
	Snapshot bool

	// OnCommand receives the commands sent to the set topic, one at a time, in order, on a
	// goroutine of the Publisher; it should return quickly.
	OnCommand func(Command)

	Logger *slog.Logger // default slog.Default()

	// MaxCommandBytes is the largest command payload read from the set topic (default 64 KiB);
	// larger ones are ignored with a warning before being parsed.
	MaxCommandBytes int

	ConnectTimeout time.Duration // one connection attempt, and one write; default 10 s
	// KeepAlive is the MQTT keep-alive (default 10 s): with no packet from the broker for this
	// long a PINGREQ is sent, and a broker that does not answer within PingTimeout (default
	// KeepAlive/2, at most 5 s) is taken as hung: the connection is dropped and made again, so a
	// hung broker is detected within KeepAlive+PingTimeout.
	KeepAlive   time.Duration
	PingTimeout time.Duration
	// MaxReconnectInterval is the longest wait between two connection attempts while the broker
	// cannot be reached (default 250 ms): the first retry is after 100 ms, the wait doubling up to
	// this, and starting again from 100 ms after every lost connection.
	MaxReconnectInterval time.Duration
}

const (
	defaultOutbox    = 1000
	defaultInflight  = 8
	defaultPrefix    = "homeassistant"
	defaultTimeout   = 10 * time.Second
	defaultKeepAlive = 10 * time.Second
	defaultMaxRetry  = 250 * time.Millisecond
	defaultMaxCmd    = 64 << 10
)

// DefaultDeviceClass is the device_class of a watched class's binary sensor by default.
const DefaultDeviceClass = "occupancy"

// BinarySensorDeviceClasses are the device classes Home Assistant knows for binary sensors
// (https://www.home-assistant.io/integrations/binary_sensor/#device-class).
var BinarySensorDeviceClasses = []string{
	"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door",
	"gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug",
	"power", "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update",
	"vibration", "window",
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Device == "" {
		return c, errors.New("mqtt: no device name")
	}
	for _, r := range c.Device {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return c, fmt.Errorf("mqtt: device name %q: only letters, digits, '_' and '-' may be used", c.Device)
		}
	}
	u, err := brokerURL(c.Broker)
	if err != nil {
		return c, err
	}
	if c.Session && schemeOf(u).websocket {
		return c, fmt.Errorf("mqtt: session: broker %s: a persistent QoS 2 session needs tcp:// or ssl:// (not WebSocket)", c.Broker)
	}
	c.Broker = u
	if c.DeviceID == "" {
		c.DeviceID = c.Device
	}
	for _, r := range c.DeviceID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return c, fmt.Errorf("mqtt: device id %q: only letters, digits, '_' and '-' may be used", c.DeviceID)
		}
	}
	for name, dc := range c.DeviceClass {
		if !slices.Contains(c.Classes, name) {
			return c, fmt.Errorf("mqtt: device class for %q, which is not a watched class", name)
		}
		if dc != "" && dc != "none" && !slices.Contains(BinarySensorDeviceClasses, dc) {
			return c, fmt.Errorf("mqtt: class %q: device class %q: not a Home Assistant binary sensor device class (%s, or none)",
				name, dc, strings.Join(BinarySensorDeviceClasses, ", "))
		}
	}
	if c.ConfigurationURL != "" {
		if u, err := url.Parse(c.ConfigurationURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("mqtt: configuration URL %q: want http://host[:port]/...", c.ConfigurationURL)
		}
	}
	if c.ClientID == "" {
		c.ClientID = "edgeinfer-" + c.Device
	}
	if c.Outbox == 0 {
		c.Outbox = defaultOutbox
	}
	if c.Outbox < 1 {
		return c, fmt.Errorf("mqtt: outbox capacity %d: must be >= 1", c.Outbox)
	}
	if c.Inflight == 0 {
		c.Inflight = defaultInflight
	}
	if c.Inflight < 1 || c.Inflight > 1000 {
		return c, fmt.Errorf("mqtt: in-flight window %d: must be in [1, 1000]", c.Inflight)
	}
	if c.DiscoveryPrefix == "" {
		c.DiscoveryPrefix = defaultPrefix
	}
	if strings.ContainsAny(c.DiscoveryPrefix, "+#") {
		return c, fmt.Errorf("mqtt: discovery prefix %q: no wildcards allowed", c.DiscoveryPrefix)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = defaultTimeout
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = defaultKeepAlive
	}
	if c.KeepAlive < time.Second {
		return c, fmt.Errorf("mqtt: keep-alive %v: must be at least 1s", c.KeepAlive)
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = max(time.Second, min(c.KeepAlive/2, 5*time.Second))
	}
	if c.MaxReconnectInterval <= 0 {
		c.MaxReconnectInterval = defaultMaxRetry
	}
	if c.MaxCommandBytes <= 0 {
		c.MaxCommandBytes = defaultMaxCmd
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return c, errors.New("mqtt: a client certificate needs both a certificate file and a key file")
	}
	seen := make(map[string]string, len(c.Classes))
	for _, name := range c.Classes {
		s := Slug(name)
		if s == "" {
			return c, fmt.Errorf("mqtt: class %q: no letter or digit to name its topic with", name)
		}
		if other, dup := seen[s]; dup {
			return c, fmt.Errorf("mqtt: classes %q and %q would share the topic name %q", other, name, s)
		}
		seen[s] = name
	}
	return c, nil
}

// brokerScheme is what a broker URL's scheme means: its default port (none for WebSocket, whose
// URL carries it or the web's default), TLS, WebSocket.
type brokerScheme struct {
	port           string
	tls, websocket bool
}

// brokerSchemes are the schemes Config.Broker accepts (the ones paho.mqtt.golang dials), the one
// list that brokerURL, isTLS and the session's dialer (dialSession) read.
var brokerSchemes = map[string]brokerScheme{
	"tcp": {port: "1883"}, "mqtt": {port: "1883"},
	"ssl": {port: "8883", tls: true}, "tls": {port: "8883", tls: true}, "mqtts": {port: "8883", tls: true},
	"tcps": {port: "8883", tls: true}, "mqtt+ssl": {port: "8883", tls: true},
	"ws": {websocket: true}, "wss": {tls: true, websocket: true},
}

// schemeOf returns the scheme of a normalised broker URL (brokerURL: the scheme in lower case and
// known); the zero brokerScheme for anything else.
func schemeOf(broker string) brokerScheme {
	scheme, _, _ := strings.Cut(broker, "://")
	return brokerSchemes[scheme]
}

// brokerURL normalises a broker address into a URL with a lower-case scheme and a port.
func brokerURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("mqtt: no broker address")
	}
	if !strings.Contains(s, "://") {
		s = "tcp://" + s
	}
	u, err := url.Parse(s) // lower-cases the scheme
	if err != nil {
		return "", fmt.Errorf("mqtt: broker address %q: %w", s, err)
	}
	sch, ok := brokerSchemes[u.Scheme]
	if !ok {
		return "", fmt.Errorf("mqtt: broker address %q: unknown scheme %q (tcp, mqtt, ssl, tls, mqtts, ws, wss)", s, u.Scheme)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("mqtt: broker address %q: no host", s)
	}
	if sch.port != "" && u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), sch.port)
	}
	return u.String(), nil
}

// loopbackBroker reports whether a normalised broker URL names this machine.
func loopbackBroker(broker string) bool {
	u, err := url.Parse(broker)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isTLS reports whether a normalised broker URL uses TLS.
func isTLS(broker string) bool { return schemeOf(broker).tls }

// tlsConfig loads the TLS files of c, or returns nil when the broker does not use TLS.
func (c Config) tlsConfig() (*tls.Config, error) {
	if !isTLS(c.Broker) {
		if c.CAFile != "" || c.CertFile != "" {
			return nil, fmt.Errorf("mqtt: TLS files given but broker %s does not use TLS (use ssl:// or mqtts://)", c.Broker)
		}
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: CA file %s: no PEM certificate in it", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: client certificate %s, key %s: %w", c.CertFile, c.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Slug names a class in topics and Home Assistant object ids: its letters and digits in lower
// case, every other run of characters made one '_' ("n02099601 golden retriever" ->
// "n02099601_golden_retriever").
func Slug(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
			continue
		}
		under = true
	}
	return b.String()
}

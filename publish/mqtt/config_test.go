package mqtt

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"cat":                        "cat",
		"n02099601 golden retriever": "n02099601_golden_retriever",
		"Golden Retriever":           "golden_retriever",
		"  a/b+c#d  ":                "a_b_c_d",
		"tabby, tabby cat":           "tabby_tabby_cat",
		"école":                      "cole",
		"+#/":                        "",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBrokerURL(t *testing.T) {
	for in, want := range map[string]string{
		"localhost":               "tcp://localhost:1883",
		"10.0.0.2:1884":           "tcp://10.0.0.2:1884",
		"mqtt://broker":           "mqtt://broker:1883",
		"ssl://broker":            "ssl://broker:8883",
		"mqtts://broker:9999":     "mqtts://broker:9999",
		"ws://broker:9001/mqtt":   "ws://broker:9001/mqtt",
		"tcp://[::1]":             "tcp://[::1]:1883",
		"tls://homeassistant.lan": "tls://homeassistant.lan:8883",
		"MQTTS://Broker":          "mqtts://Broker:8883",
		"Tcp://broker":            "tcp://broker:1883",
		"WS://broker:9001/mqtt":   "ws://broker:9001/mqtt",
	} {
		got, err := brokerURL(in)
		if err != nil || got != want {
			t.Errorf("brokerURL(%q) = %q, %v; want %q", in, got, err, want)
		}
		if tls := strings.HasPrefix(want, "ssl") || strings.HasPrefix(want, "tls") || strings.HasPrefix(want, "mqtts"); isTLS(got) != tls {
			t.Errorf("isTLS(%q) = %v, want %v", got, !tls, tls)
		}
	}
	for in, want := range map[string]string{
		"":                 "mqtt: no broker address",
		"http://broker":    `unknown scheme "http"`,
		"tcp://:1883":      "no host",
		"tcp://bro ker:12": "mqtt: broker address",
	} {
		if _, err := brokerURL(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("brokerURL(%q): %v, want an error containing %q", in, err, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Broker: "localhost"}, "mqtt: no device name"},
		{Config{Broker: "localhost", Device: "cam/1"}, `mqtt: device name "cam/1": only letters, digits, '_' and '-' may be used`},
		{Config{Device: "cam"}, "mqtt: no broker address"},
		{Config{Broker: "localhost", Device: "cam", Outbox: -1}, "mqtt: outbox capacity -1"},
		{Config{Broker: "localhost", Device: "cam", Inflight: 5000}, "mqtt: in-flight window 5000"},
		{Config{Broker: "localhost", Device: "cam", DiscoveryPrefix: "ha/#"}, `mqtt: discovery prefix "ha/#"`},
		{Config{Broker: "localhost", Device: "cam", CertFile: "c.pem"}, "needs both a certificate file and a key file"},
		{Config{Broker: "localhost", Device: "cam", Classes: []string{"Cat", "cat"}}, `mqtt: classes "Cat" and "cat" would share the topic name "cat"`},
		{Config{Broker: "localhost", Device: "cam", Classes: []string{"++"}}, `mqtt: class "++": no letter or digit`},
		{Config{Broker: "localhost", Device: "cam", DeviceID: "a b"}, `mqtt: device id "a b": only letters`},
		{Config{Broker: "localhost", Device: "cam", Classes: []string{"cat"}, DeviceClass: map[string]string{"cat": "kitty"}},
			`mqtt: class "cat": device class "kitty": not a Home Assistant binary sensor device class (battery, `},
		{Config{Broker: "localhost", Device: "cam", Classes: []string{"cat"}, DeviceClass: map[string]string{"dog": "motion"}},
			`mqtt: device class for "dog", which is not a watched class`},
		{Config{Broker: "localhost", Device: "cam", ConfigurationURL: "127.0.0.1:9108"}, `mqtt: configuration URL "127.0.0.1:9108": want http://`},
		{Config{Broker: "localhost", Device: "cam", CAFile: notPEM}, "mqtt: TLS files given but broker tcp://localhost:1883 does not use TLS (use ssl:// or mqtts://)"},
		{Config{Broker: "ssl://localhost", Device: "cam", CAFile: notPEM}, "mqtt: CA file " + notPEM + ": no PEM certificate in it"},
		{Config{Broker: "ssl://localhost", Device: "cam", CAFile: filepath.Join(dir, "missing.pem")}, "mqtt: CA file: open "},
		{Config{Broker: "ssl://localhost", Device: "cam", CertFile: notPEM, KeyFile: notPEM}, "mqtt: client certificate " + notPEM},
		{Config{Broker: "ws://localhost:9001", Device: "cam", Session: true}, "mqtt: session: broker ws://localhost:9001: a persistent QoS 2 session needs tcp:// or ssl://"},
		{Config{Broker: "WS://localhost:9001", Device: "cam", Session: true}, "mqtt: session: broker WS://localhost:9001: a persistent QoS 2 session needs tcp:// or ssl://"},
		{Config{Broker: "Wss://localhost", Device: "cam", Session: true}, "mqtt: session: broker Wss://localhost: a persistent QoS 2 session needs tcp:// or ssl://"},
	} {
		cfg, err := tc.cfg.withDefaults()
		if err == nil {
			_, err = cfg.tlsConfig()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	for in, want := range map[string]string{
		`{"command":"pause"}`:  "pause",
		`{"command":"resume"}`: "resume",
		" pause\n":             "pause",
		"resume":               "resume",
		`{"command":"thresholds","thresholds":{"cat":{"on":0.8,"off":0.5},"dog":{"on":0.6}}}`: "thresholds",
	} {
		c, err := parseCommand([]byte(in))
		if err != nil || c.Command != want {
			t.Errorf("parseCommand(%q) = %+v, %v; want %q", in, c, err, want)
		}
	}
	c, _ := parseCommand([]byte(`{"command":"thresholds","thresholds":{"cat":{"on":0.8,"off":0.5},"dog":{"on":0.6}}}`))
	if len(c.Thresholds) != 2 || c.Thresholds["cat"] != (Threshold{0.8, 0.5}) || c.Thresholds["dog"] != (Threshold{0.6, 0}) {
		t.Errorf("thresholds %+v", c.Thresholds)
	}
	for in, want := range map[string]string{
		`{"command":"reboot"}`:          `mqtt: unknown command "reboot" (pause, resume, thresholds)`,
		`stop`:                          `mqtt: command "stop": invalid character`,
		`{"command":"pause","extra":1}`: `unknown field "extra"`,
		`{"command":"pause","thresholds":{"a":{"on":1}}}`:                    `mqtt: command "pause" takes no thresholds`,
		`{"command":"thresholds"}`:                                           `mqtt: command "thresholds" without thresholds`,
		`{"command":"thresholds","thresholds":{"cat":{"on":0.5,"off":0.7}}}`: `class "cat": on 0.5, off 0.7`,
		`{"command":"thresholds","thresholds":{"cat":{"on":0}}}`:             `class "cat": on 0, off 0`,
		`{"command":"thresholds","thresholds":{"cat":{"on":1.5}}}`:           `on 1.5`,
	} {
		if _, err := parseCommand([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseCommand(%q): %v, want an error containing %q", in, err, want)
		}
	}
}

// TestSessionWebSocket: Open refuses Config.Session with a WebSocket broker whatever the case of
// its scheme (url.Parse lower-cases it: "WS://" is ws://), before connecting; and the session's
// dialer refuses WebSocket and unknown schemes.
func TestSessionWebSocket(t *testing.T) {
	for _, broker := range []string{"ws://127.0.0.1:9", "WS://127.0.0.1:9", "Wss://127.0.0.1:9", "wSS://127.0.0.1:9/mqtt"} {
		p, err := Open(context.Background(), Config{Broker: broker, Device: "cam", Session: true})
		if err == nil {
			p.Close(context.Background())
			t.Errorf("Open(%s, Session): no error", broker)
		} else if !strings.Contains(err.Error(), "mqtt: session: broker "+broker+": a persistent QoS 2 session needs tcp:// or ssl:// (not WebSocket)") {
			t.Errorf("Open(%s, Session): %v", broker, err)
		}
	}
	p := &Publisher{}
	for _, scheme := range []string{"ws", "WSS", "http"} {
		_, err := p.dialSession(&url.URL{Scheme: scheme, Host: "127.0.0.1:9"}, paho.ClientOptions{})
		if err == nil || !strings.Contains(err.Error(), "mqtt: session: scheme") {
			t.Errorf("dialSession(%s://): %v, want mqtt: session: scheme ... not supported", scheme, err)
		}
	}
}

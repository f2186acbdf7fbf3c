package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
)

// TestRunHomeAssistant runs the daemon against a real mosquitto holding a retained pause on its
// command topic: the daemon does not pause (it classifies and publishes states, the Classify
// switch stays ON), says so in its log, announces the watched class's binary sensor with the
// device_class of its watch entry, its score sensor, the switch and the snapshot image, with the
// device id and version it was given; the states carry the watched scores; the switch's payloads
// pause and resume it, its state following.
func TestRunHomeAssistant(t *testing.T) {
	mp, labels := modelAndLabels(t)
	if _, err := exec.LookPath("mosquitto"); err != nil {
		if _, err := os.Stat("/usr/sbin/mosquitto"); err != nil {
			if shareddata.Required() {
				t.Fatal("mosquitto is not installed (EDGEINFER_REQUIRE_DATA=1)")
			}
			t.Skip("mosquitto is not installed (apt-get install mosquitto)")
		}
	}
	b := vmtest.StartMosquitto(t)
	ctl := paho.NewClient(paho.NewClientOptions().AddBroker(b.HostURL()).SetClientID("ha-ctl"))
	if tok := ctl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer ctl.Disconnect(100)
	pub := func(payload string, retained bool) {
		t.Helper()
		if tok := ctl.Publish("edgeinfer/hadev/set", 1, retained, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	pub(`{"command":"pause"}`, true)

	disc := subscribe(t, b.HostURL(), "homeassistant/#")
	msgs := subscribe(t, b.HostURL(), "edgeinfer/hadev/#")
	const class = "goldfish, Carassius auratus"
	cfg := Config{
		Model: mp, Labels: labels, Source: "pattern:?size=160x120&fps=10", Device: "hadev", DeviceID: "pipe-1",
		Heartbeat: 50 * time.Millisecond, Listen: "off",
		Watch:    []Watch{{Class: class, On: 0.6, DeviceClass: "motion"}},
		Snapshot: Snapshot{Enabled: true},
		MQTT:     MQTT{Broker: b.HostURL()},
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()

	// Discovery.
	const node = "/edgeinfer_pipe-1/"
	want := map[string]func(map[string]any) bool{
		"homeassistant/binary_sensor" + node + "goldfish_carassius_auratus/config": func(m map[string]any) bool {
			dev, _ := m["device"].(map[string]any)
			return m["device_class"] == "motion" && dev != nil && dev["sw_version"] == Version() && Version() != ""
		},
		"homeassistant/sensor" + node + "goldfish_carassius_auratus_score/config": func(m map[string]any) bool {
			return m["state_class"] == "measurement" && m["value_template"] == "{{ value_json.watched['goldfish_carassius_auratus'] }}"
		},
		"homeassistant/switch" + node + "classify/config": func(m map[string]any) bool { return m["command_topic"] == "edgeinfer/hadev/set" },
		"homeassistant/image" + node + "snapshot/config":  func(m map[string]any) bool { return m["image_topic"] == "edgeinfer/hadev/snapshot" },
	}
	deadline := time.After(slowdown * 30 * time.Second)
	for len(want) > 0 {
		select {
		case m := <-disc:
			if check, ok := want[m.Topic()]; ok {
				var v map[string]any
				if err := json.Unmarshal(m.Payload(), &v); err != nil || !check(v) {
					t.Errorf("%s: %s", m.Topic(), m.Payload())
				}
				delete(want, m.Topic())
			}
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		case <-deadline:
			t.Fatalf("after 30 s, no discovery on %v", want)
		}
	}

	// States keep coming after the initial OFF and ON: the retained pause was ignored. Then the
	// switch's payloads: pause, resume.
	var running []string
	states, sent := 0, 0
	for len(running) < 3 {
		select {
		case m := <-msgs:
			switch m.Topic() {
			case "edgeinfer/hadev/running":
				running = append(running, string(m.Payload()))
				if len(running) == 2 && sent == 1 {
					pub("resume", false)
					sent++
				}
			case "edgeinfer/hadev/state":
				states++
				var s struct{ Watched map[string]float64 }
				if err := json.Unmarshal(m.Payload(), &s); err != nil {
					t.Fatal(err)
				}
				if _, ok := s.Watched["goldfish_carassius_auratus"]; !ok {
					t.Fatalf("state without the watched class's score: %s", m.Payload())
				}
				if states == 3 && sent == 0 {
					pub("pause", false)
					sent++
				}
			}
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		case <-deadline:
			t.Fatalf("after %v: %d states, running %v", slowdown*30*time.Second, states, running)
		}
	}
	if strings.Join(running, " ") != "ON OFF ON" {
		t.Errorf("switch states %v, want [ON OFF ON]: the retained pause must not pause", running)
	}
	if !strings.Contains(logs.String(), "ignoring a retained command") {
		t.Errorf("log:\n%s", logs.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestDeviceID: the id derives from the machine id, the same each time and not the machine id
// itself; without one, a random id is generated once and kept.
func TestDeviceID(t *testing.T) {
	dir := t.TempDir()
	mid := filepath.Join(dir, "machine-id")
	if err := os.WriteFile(mid, []byte("0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id1, from, err := deviceID([]string{filepath.Join(dir, "missing"), mid}, dir)
	id2, _, _ := deviceID([]string{mid}, dir)
	if err != nil || from != mid || len(id1) != 16 || id1 != id2 || strings.Contains("0123456789abcdef0123456789abcdef", id1) {
		t.Errorf("from the machine id: %q from %q, then %q (%v)", id1, from, id2, err)
	}
	cache := filepath.Join(dir, "cache")
	g1, from, err := deviceID([]string{filepath.Join(dir, "missing")}, cache)
	g2, _, _ := deviceID(nil, cache)
	if err != nil || from != filepath.Join(cache, "device-id") || g1 != g2 || !validID(g1) || g1 == id1 {
		t.Errorf("generated: %q from %q, then %q (%v)", g1, from, g2, err)
	}
}

// TestConfigurationURL: the status page's URL for Home Assistant, or none when it listens on
// loopback only.
func TestConfigurationURL(t *testing.T) {
	lan := []net.Addr{&net.IPNet{IP: net.IPv4(127, 0, 0, 1)}, &net.IPNet{IP: net.ParseIP("fe80::1")}, &net.IPNet{IP: net.IPv4(192, 168, 1, 20)}}
	for _, tc := range []struct {
		addr  *net.TCPAddr
		addrs []net.Addr
		want  string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9108}, lan, ""},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9108}, lan, ""},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 9108}, lan, "http://10.0.0.5:9108/"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, lan, "http://192.168.1.20:8080/"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, lan[:2], ""},
	} {
		if got := configurationURL(tc.addr, tc.addrs); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.addr, got, tc.want)
		}
	}
}

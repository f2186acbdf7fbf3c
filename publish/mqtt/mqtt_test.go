package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// testLogger logs into a buffer the test can read, and to t.
func testLogger() (*slog.Logger, *lockedBuffer) {
	buf := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func open(t *testing.T, cfg Config) *Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

var frameTime = time.Date(2026, 11, 28, 12, 0, 0, 123456789, time.UTC)

func TestStateClassesAndDiscovery(t *testing.T) {
	b := startBroker(t, brokerOpts{})
	log, logs := testLogger()
	p := open(t, Config{Broker: b.url(), Device: "cam1", Classes: []string{"cat", "n02099601 golden retriever"},
		Version: "v0.test", Logger: log})
	eventually(t, 5*time.Second, "publisher connected", func() bool { return p.Stats().Connects == 1 })
	// The switch state is the last message published at connection: once it is there, the
	// broker holds the retained messages published before it.
	w0 := newWatcher(t, b.url(), "w0", false, "edgeinfer/cam1/running")
	eventually(t, 5*time.Second, "the switch's initial state", func() bool { return len(w0.on("edgeinfer/cam1/running")) > 0 })

	// Discovery and availability are retained: a client that subscribes now gets them.
	w := newWatcher(t, b.url(), "watcher", false, "edgeinfer/#", "homeassistant/#")
	labelCfg := "homeassistant/sensor/edgeinfer_cam1/label/config"
	catCfg := "homeassistant/binary_sensor/edgeinfer_cam1/cat/config"
	grCfg := "homeassistant/binary_sensor/edgeinfer_cam1/n02099601_golden_retriever/config"
	eventually(t, 5*time.Second, "retained discovery and availability", func() bool {
		return len(w.on(labelCfg)) == 1 && len(w.on(catCfg)) == 1 && len(w.on(grCfg)) == 1 &&
			len(w.on("edgeinfer/cam1/availability")) == 1
	})
	if a := w.on("edgeinfer/cam1/availability")[0]; a.payload != "online" || !a.retained {
		t.Errorf("availability %+v", a)
	}
	var label map[string]any
	if r := w.on(labelCfg)[0]; !r.retained || json.Unmarshal([]byte(r.payload), &label) != nil {
		t.Fatalf("label config %+v", r)
	}
	for k, v := range map[string]string{
		"state_topic":           "edgeinfer/cam1/state",
		"value_template":        "{{ value_json.label }}",
		"json_attributes_topic": "edgeinfer/cam1/state",
		"availability_topic":    "edgeinfer/cam1/availability",
		"payload_available":     "online",
		"payload_not_available": "offline",
		"unique_id":             "edgeinfer_cam1_label",
	} {
		if label[k] != v {
			t.Errorf("label config %s = %v, want %q", k, label[k], v)
		}
	}
	if tmpl, _ := label["json_attributes_template"].(string); !strings.Contains(tmpl, "value_json.score") || !strings.Contains(tmpl, "value_json.top_k") {
		t.Errorf("label config json_attributes_template %q", tmpl)
	}
	if dev, _ := label["device"].(map[string]any); dev == nil || dev["sw_version"] != "v0.test" || fmt.Sprint(dev["identifiers"]) != "[edgeinfer_cam1]" {
		t.Errorf("label config device %v", label["device"])
	}
	var gr map[string]any
	if err := json.Unmarshal([]byte(w.on(grCfg)[0].payload), &gr); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"name":               "n02099601 golden retriever",
		"state_topic":        "edgeinfer/cam1/class/n02099601_golden_retriever",
		"payload_on":         "ON",
		"payload_off":        "OFF",
		"availability_topic": "edgeinfer/cam1/availability",
		"unique_id":          "edgeinfer_cam1_n02099601_golden_retriever",
	} {
		if gr[k] != v {
			t.Errorf("binary sensor config %s = %v, want %q", k, gr[k], v)
		}
	}

	// A state message.
	err := p.PublishState(State{Label: "cat", Score: 0.912345678, Time: frameTime, Seq: 7, Latency: 18254 * time.Microsecond,
		TopK: []Scored{{"cat", 0.912345678}, {"dog", 0.05}}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "state message", func() bool { return len(w.on("edgeinfer/cam1/state")) == 1 })
	want := `{"label":"cat","score":0.9123,"top_k":[{"label":"cat","score":0.9123},{"label":"dog","score":0.05}],` +
		`"timestamp":"2026-11-28T12:00:00.123Z","seq":7,"latency_ms":18.25}`
	if s := w.on("edgeinfer/cam1/state")[0]; s.payload != want || s.retained {
		t.Errorf("state %+v\nwant payload %s", s, want)
	}

	// Class states: retained ON/OFF.
	if err := p.PublishClass("n02099601 golden retriever", true); err != nil {
		t.Fatal(err)
	}
	if err := p.PublishClass("horse", true); err == nil || err.Error() != `mqtt: "horse" is not a watched class` {
		t.Errorf("unwatched class: %v", err)
	}
	eventually(t, 5*time.Second, "class ON", func() bool {
		return len(w.on("edgeinfer/cam1/class/n02099601_golden_retriever")) == 2
	})
	// The initial OFF (retained, published at connection), then ON.
	if c := w.on("edgeinfer/cam1/class/n02099601_golden_retriever"); c[0].payload != "OFF" || !c[0].retained || c[1].payload != "ON" {
		t.Errorf("class %+v", c)
	}
	w2 := newWatcher(t, b.url(), "late", false, "edgeinfer/cam1/class/#")
	eventually(t, 5*time.Second, "retained class state for a late subscriber", func() bool {
		r := w2.on("edgeinfer/cam1/class/n02099601_golden_retriever")
		return len(r) == 1 && r[0].retained && r[0].payload == "ON"
	})

	// Home Assistant restarts: discovery again, and the last state.
	w.publish(t, "homeassistant/status", "online", false)
	eventually(t, 5*time.Second, "discovery published again after homeassistant/status online", func() bool {
		return len(w.on(labelCfg)) == 2 && len(w.on(catCfg)) == 2 && len(w.on(grCfg)) == 2 && len(w.on("edgeinfer/cam1/state")) == 2
	})
	if d := p.Stats().Discoveries; d != 2 {
		t.Errorf("Stats.Discoveries %d, want 2", d)
	}
	w.publish(t, "homeassistant/status", "offline", false)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "offline on Close", func() bool {
		a := w.on("edgeinfer/cam1/availability")
		return len(a) == 2 && a[1].payload == "offline"
	})
	st := p.Stats()
	if st.Discoveries != 2 || st.Delivered != 3 || st.Queued != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: want 2 discoveries, 3 delivered (2 states, 1 class), 0 queued, 0 dropped", st)
	}
	if err := p.Close(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := p.PublishState(State{Label: "cat"}); !errors.Is(err, ErrClosed) {
		t.Errorf("PublishState after Close: %v", err)
	}
	if !strings.Contains(logs.String(), "Home Assistant is online") {
		t.Errorf("log lacks the discovery republication:\n%s", logs)
	}
}

// TestBrokerRestart stops the broker in the middle of a stream of labels and starts it again on
// the same port: every label arrives, and the publisher subscribes again.
func TestBrokerRestart(t *testing.T) {
	b := startBroker(t, brokerOpts{persist: true})
	cmds := make(chan Command, 10)
	log, logs := testLogger()
	p := open(t, Config{Broker: b.url(), Device: "cam2", Classes: []string{"person"}, Logger: log,
		MaxReconnectInterval: 500 * time.Millisecond, KeepAlive: 2 * time.Second,
		OnCommand: func(c Command) { cmds <- c }})
	// The watcher's session is persistent and the broker keeps it across the restart, so the QoS 1
	// messages that reach the broker while the watcher reconnects wait for it.
	w := newWatcher(t, b.url(), "restart-watcher", true, "edgeinfer/cam2/state")
	eventually(t, 5*time.Second, "publisher connected", func() bool { return p.Stats().Connects == 1 })

	const n = 150
	for seq := 1; seq <= n; seq++ {
		switch seq {
		case 49, 70: // ON just before the broker stops (perhaps in flight), and while it is down
			if err := p.PublishClass("person", true); err != nil {
				t.Fatal(err)
			}
		case 60, 80:
			if err := p.PublishClass("person", false); err != nil {
				t.Fatal(err)
			}
		}
		switch seq {
		case 50:
			b.stop()
			t.Logf("broker stopped after %d labels", seq-1)
		case 100:
			if st := p.Stats(); st.Queued < 40 {
				t.Errorf("%d labels wait in the outbox while the broker is down; want >= 40", st.Queued)
			}
			b.restart()
			t.Log("broker restarted")
		}
		if err := p.PublishState(State{Label: "person", Score: 0.9, Seq: uint64(seq), Time: frameTime}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := map[uint64]int{}
	eventually(t, 20*time.Second, fmt.Sprintf("all %d labels delivered", n), func() bool {
		clear(got)
		for _, r := range w.on("edgeinfer/cam2/state") {
			var s struct {
				Seq   uint64 `json:"seq"`
				Label string `json:"label"`
			}
			if err := json.Unmarshal([]byte(r.payload), &s); err != nil || s.Label != "person" {
				t.Fatalf("state %q: %v", r.payload, err)
			}
			got[s.Seq]++
		}
		return len(got) == n
	})
	for seq := uint64(1); seq <= n; seq++ {
		if got[seq] == 0 {
			t.Errorf("label %d lost", seq)
		}
	}
	// The broker retains the newest class state, OFF (the ON of frame 70 was replaced in the outbox).
	late := newWatcher(t, b.url(), "late-restart", false, "edgeinfer/cam2/class/person")
	eventually(t, 5*time.Second, "retained person OFF", func() bool {
		r := late.on("edgeinfer/cam2/class/person")
		return len(r) == 1 && r[0].retained && r[0].payload == "OFF"
	})
	dups := len(w.on("edgeinfer/cam2/state")) - n
	st := p.Stats()
	t.Logf("stats after restart: %+v; %d duplicates", st, dups)
	if st.Dropped != 0 || st.Connects < 2 {
		t.Errorf("stats %+v: want 0 dropped, >= 2 connects", st)
	}

	// The subscription was made again: a command sent now reaches the callback.
	w.publish(t, "edgeinfer/cam2/set", `{"command":"thresholds","thresholds":{"person":{"on":0.8,"off":0.6}}}`, false)
	select {
	case c := <-cmds:
		if c.Command != CmdThresholds || c.Thresholds["person"] != (Threshold{On: 0.8, Off: 0.6}) {
			t.Errorf("command %+v", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("command sent after the restart did not reach OnCommand; log:\n%s", logs)
	}
	w.publish(t, "edgeinfer/cam2/set", `{"command":"reboot"}`, false)
	w.publish(t, "edgeinfer/cam2/set", `pause`, false)
	select {
	case c := <-cmds:
		if c.Command != CmdPause {
			t.Errorf("command %+v, want pause (the bad one ignored)", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pause did not reach OnCommand")
	}
	if st := p.Stats(); st.Commands != 2 || st.BadCommands != 1 {
		t.Errorf("stats %+v: want 2 commands, 1 bad", st)
	}
	for _, want := range []string{"connection lost", `unknown command \"reboot\"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestWrongCredentials(t *testing.T) {
	b := startBroker(t, brokerOpts{users: map[string]string{"edgeinfer": "s3cret"}})
	log, _ := testLogger()
	for _, tc := range []struct{ user, pass string }{{"edgeinfer", "wrong"}, {"", ""}, {"nobody", "s3cret"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p, err := Open(ctx, Config{Broker: b.url(), Device: "cam3", Username: tc.user, Password: tc.pass, Logger: log})
		cancel()
		if err == nil {
			p.Close(context.Background())
			t.Fatalf("user %q, password %q: connected", tc.user, tc.pass)
		}
		var ce *ConnectError
		if !errors.Is(err, ErrNotAuthorized) || !errors.As(err, &ce) ||
			!strings.Contains(err.Error(), "mqtt: broker "+b.url()+" refused the connection: not authorized") {
			t.Errorf("user %q, password %q: %v", tc.user, tc.pass, err)
		}
		t.Logf("user %q: %v", tc.user, err)
	}
	p := open(t, Config{Broker: b.url(), Device: "cam3", Username: "edgeinfer", Password: "s3cret", Logger: log})
	eventually(t, 5*time.Second, "connected with the right password", func() bool { return p.Stats().Connects == 1 })
}

// TestUnreachableBroker opens a publisher on a port where nothing listens: Open succeeds, the
// attempts are logged, labels wait, and they are delivered once a broker appears there.
func TestUnreachableBroker(t *testing.T) {
	mosquittoBin(t)
	port := freePort(t)
	log, logs := testLogger()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	p := open(t, Config{Broker: url, Device: "cam4", Classes: []string{"cat"}, Logger: log, MaxReconnectInterval: 100 * time.Millisecond})
	time.Sleep(time.Second) // about ten attempts
	if n := strings.Count(logs.String(), "broker unreachable"); n != 1 {
		t.Errorf("%d lines say the broker is unreachable; want 1 (then one every 30 s):\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log does not say why:\n%s", logs)
	}
	for seq := range 3 {
		if err := p.PublishState(State{Label: "cat", Score: 0.7, Seq: uint64(seq)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.PublishClass("cat", true); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Queued != 4 || st.Connects != 0 || p.Connected() {
		t.Errorf("stats %+v while unreachable", st)
	}
	b := startBroker(t, brokerOpts{port: port})
	eventually(t, 10*time.Second, "connected and the outbox delivered", func() bool {
		st := p.Stats()
		return st.Connects == 1 && st.Delivered == 4 && st.Queued == 0
	})
	w := newWatcher(t, b.url(), "watcher4", false, "edgeinfer/cam4/#")
	eventually(t, 5*time.Second, "retained class state and availability", func() bool {
		c, a := w.on("edgeinfer/cam4/class/cat"), w.on("edgeinfer/cam4/availability")
		return len(c) == 1 && c[0].payload == "ON" && len(a) == 1 && a[0].payload == "online"
	})
}

// TestCloseUndelivered closes a publisher that never reached its broker, with a small outbox
// that overflowed.
func TestCloseUndelivered(t *testing.T) {
	log, _ := testLogger()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	p, err := Open(context.Background(), Config{Broker: url, Device: "cam5", Classes: []string{"cat"}, Outbox: 3, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 5 {
		if err := p.PublishState(State{Label: "x", Seq: uint64(seq)}); err != nil {
			t.Fatal(err)
		}
	}
	p.PublishClass("cat", true)
	// Full at the 4th state: states 0 and 1 went, then state 2 for the class message.
	if st := p.Stats(); st.Queued != 3 || st.Dropped != 3 {
		t.Errorf("stats %+v: want 3 queued (states 3, 4 and the class), 3 dropped", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.Close(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "mqtt: close: 3 messages not delivered to "+url) {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func TestOpenCancelled(t *testing.T) {
	log, _ := testLogger()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, Config{Broker: "tcp://127.0.0.1:1", Device: "cam6", Logger: log}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}

	// A listener that accepts and never answers: the first attempt outlasts the context.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	url := "tcp://" + l.Addr().String()
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, Config{Broker: url, Device: "cam6", Logger: log, ConnectTimeout: 5 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "mqtt: connecting to "+url) {
		t.Errorf("Open with a silent broker: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open returned after %v, want about 200ms", d)
	}
}

func TestTLS(t *testing.T) {
	pki := newPKI(t)
	b := startBroker(t, brokerOpts{tls: pki})
	url := fmt.Sprintf("ssl://127.0.0.1:%d", b.port)
	log, _ := testLogger()
	p := open(t, Config{Broker: url, Device: "cam7", CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey, Logger: log})
	eventually(t, 5*time.Second, "connected over TLS", func() bool { return p.Stats().Connects == 1 })
	if err := p.PublishState(State{Label: "cat", Score: 0.5}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "state delivered over TLS", func() bool { return p.Stats().Delivered == 1 })

	// Without the CA the broker's certificate is unknown: a clear error, not endless retries.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{Broker: url, Device: "cam7b", CertFile: pki.clientCert, KeyFile: pki.clientKey, Logger: log})
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "mqtt: broker "+url+": TLS:") || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unknown CA: %v", err)
	}
}

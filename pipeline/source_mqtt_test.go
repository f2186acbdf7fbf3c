package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSourceLostOverMQTT: when the camera source is lost, availability turns offline (retained) and
// edgeinfer/<device>/source says why; when it is back, online again. Real broker (the embedded one),
// real files removed and added.
func TestSourceLostOverMQTT(t *testing.T) {
	mp, labels := modelAndLabels(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jpg"), testJPEG(t, 96, 96), 0o644)
	brokerAddr := freeAddr(t)
	var out, logs lockedBuffer
	cfg := Config{Model: mp, Labels: labels, Source: "dir:" + dir, Listen: "off", Out: &out, Device: "srcdev", MQTT: MQTT{Listen: brokerAddr}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()
	waitFor(t, 60*time.Second, "a label", done, func() bool { return strings.Contains(out.String(), "frame ") })
	msgs := subscribe(t, "tcp://"+brokerAddr, "edgeinfer/srcdev/#")
	// want waits for topic to carry a payload satisfying ok.
	want := func(topic string, ok func(string) bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case m := <-msgs:
				if m.Topic() == topic && ok(string(m.Payload())) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s message as wanted within 30 s; log:\n%s", topic, logs.String())
			case err := <-done:
				t.Fatalf("Run ended: %v", err)
			}
		}
	}
	want("edgeinfer/srcdev/availability", func(p string) bool { return p == "online" })
	os.Remove(filepath.Join(dir, "a.jpg"))
	want("edgeinfer/srcdev/availability", func(p string) bool { return p == "offline" })
	want("edgeinfer/srcdev/source", func(p string) bool {
		var s struct {
			Lost  bool   `json:"lost"`
			Error string `json:"error"`
		}
		return json.Unmarshal([]byte(p), &s) == nil && s.Lost && s.Error != ""
	})
	os.WriteFile(filepath.Join(dir, "b.jpg"), testJPEG(t, 64, 64), 0o644)
	want("edgeinfer/srcdev/availability", func(p string) bool { return p == "online" })
	want("edgeinfer/srcdev/source", func(p string) bool { return strings.Contains(p, `"lost":false`) })
	// A subscriber that comes later sees the retained state.
	later := subscribe(t, "tcp://"+brokerAddr, "edgeinfer/srcdev/source")
	select {
	case m := <-later:
		if !m.Retained() || !strings.Contains(string(m.Payload()), `"lost":false`) {
			t.Fatalf("late subscriber got %q (retained %v)", m.Payload(), m.Retained())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the source state is not retained")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

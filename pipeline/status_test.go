package pipeline

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

// TestStatusJSON checks /status.json against the state it reports (model, source and its loss,
// MQTT connection and counters, the last frame), and that the page shows the same and updates
// itself from it instead of reloading.
func TestStatusJSON(t *testing.T) {
	m := newMetrics()
	m.SetInfo(StatusInfo{Model: "/usr/share/edgeinfer/<m>.tflite", Source: "rtsp://cam/stream", Broker: "tcp://user:secret@ha.lan:1883"})
	since := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	m.sourceState = func() (camera.State, bool) {
		return camera.State{Source: "rtsp://cam/stream", Lost: true, Err: errors.New("connection refused"), Since: since}, true
	}
	m.MQTT = func() mqtt.Stats {
		return mqtt.Stats{Connected: true, Queued: 2, Delivered: 40, Dropped: 1, Undelivered: 3}
	}
	at := time.Date(2026, 12, 6, 10, 0, 5, 0, time.UTC)
	m.observe(5*time.Millisecond, "tabby, tabby cat", 0.75, 17, at)
	srv := httptest.NewServer(m.Handler("door"))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Status
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/status.json: %v, %s", err, resp.Header.Get("Content-Type"))
	}
	want := Status{Device: "door", Model: "/usr/share/edgeinfer/<m>.tflite",
		Source: SourceStatus{Spec: "rtsp://cam/stream", State: "lost", Error: "connection refused", Since: "2026-12-06T10:00:00Z"},
		MQTT:   MQTTStatus{Broker: "tcp://ha.lan:1883", Connected: true, Queued: 2, Delivered: 40, Dropped: 4},
		Label:  "tabby, tabby cat", Score: 0.75, Frames: 1, Seq: 17, At: "2026-12-06T10:00:05Z"}
	if s != want {
		t.Errorf("/status.json:\n got %+v\nwant %+v", s, want)
	}

	resp, err = http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if r := resp.Header.Get("Refresh"); r != "" {
		t.Errorf("the page reloads itself (Refresh: %s)", r)
	}
	for _, w := range []string{
		`<td id="label">tabby, tabby cat</td>`, `<td id="model">/usr/share/edgeinfer/&lt;m&gt;.tflite</td>`,
		`<td id="source">rtsp://cam/stream</td>`, `<td id="source_state">lost: connection refused</td>`,
		`<td id="mqtt">connected</td>`, `<td id="broker">tcp://ha.lan:1883</td>`,
		`<td id="outbox">2 queued, 40 delivered, 4 dropped</td>`, `<td id="updated">-</td>`,
		`fetch('/status.json'`, `<noscript><meta http-equiv="refresh" content="2"></noscript>`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q:\n%s", w, page)
		}
	}
	if strings.Contains(page, "secret") {
		t.Error("the page shows the broker URL's password")
	}

	// Before anything is known: no frame, no source change, no publisher.
	empty := httptest.NewServer(newMetrics().Handler("x"))
	defer empty.Close()
	resp, err = http.Get(empty.URL + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	s = Status{}
	json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if s.Label != "" || s.Source.State != "ok" || s.MQTT.Connected || s.At != "" {
		t.Errorf("empty status: %+v", s)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://u:p@h:1883": "tcp://h:1883", "tcp://h:1883": "tcp://h:1883", "ssl://u@h:8883": "ssl://h:8883", "": "",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

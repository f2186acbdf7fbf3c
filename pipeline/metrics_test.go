package pipeline

import (
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

func TestMetricsExposition(t *testing.T) {
	m := newMetrics()
	m.Dropped = func() uint64 { return 7 }
	m.MQTT = func() mqtt.Stats {
		return mqtt.Stats{Queued: 3, Delivered: 1000, Dropped: 677, Retried: 8, Undelivered: 2, Connects: 4, BadCommands: 1, Connected: true}
	}
	now := time.Unix(100, 0)
	m.observe(3*time.Millisecond, "cat <b>", 0.75, 41, now)
	m.observe(30*time.Millisecond, "cat <b>", 0.8, 42, now.Add(100*time.Millisecond))
	m.publish.observe(1500 * time.Millisecond)
	m.setInfo("m.eim", "http://cam:secret@camera.local/video", "tcp://127.0.0.1:1883")
	srv := httptest.NewServer(m.Handler("dev"))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{
		"edgeinfer_frames_total 2\n", "edgeinfer_dropped_frames_total 7\n", "edgeinfer_bad_frames_total 0\n",
		`edgeinfer_inference_seconds_bucket{le="0.002"} 0` + "\n",
		`edgeinfer_inference_seconds_bucket{le="0.005"} 1` + "\n",
		`edgeinfer_inference_seconds_bucket{le="0.02"} 1` + "\n",
		`edgeinfer_inference_seconds_bucket{le="0.05"} 2` + "\n",
		`edgeinfer_inference_seconds_bucket{le="+Inf"} 2` + "\n",
		"edgeinfer_inference_seconds_sum 0.033\n", "edgeinfer_inference_seconds_count 2\n",
		"# TYPE edgeinfer_frame_to_publish_seconds histogram\n",
		`edgeinfer_frame_to_publish_seconds_bucket{le="1"} 0` + "\n",
		`edgeinfer_frame_to_publish_seconds_bucket{le="2"} 1` + "\n",
		"edgeinfer_frame_to_publish_seconds_sum 1.5\n",
		"# TYPE edgeinfer_mqtt_outbox_messages gauge\nedgeinfer_mqtt_outbox_messages 3\n",
		"edgeinfer_mqtt_connected 1\n", "edgeinfer_mqtt_delivered_total 1000\n",
		`edgeinfer_mqtt_dropped_total{reason="outbox_full"} 677` + "\n",
		`edgeinfer_mqtt_dropped_total{reason="undelivered"} 2` + "\n",
		"edgeinfer_mqtt_retried_total 8\n", "edgeinfer_mqtt_connects_total 4\n", "edgeinfer_mqtt_bad_commands_total 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	// The Prometheus client's collectors: process, Go runtime and build information, and the
	// daemon's own info and source state.
	for _, re := range []string{
		`(?m)^go_goroutines \d+$`, `(?m)^go_memstats_heap_alloc_bytes \S+$`, `(?m)^process_resident_memory_bytes \S+$`,
		`(?m)^process_open_fds \d+$`, `(?m)^go_build_info\{.*path="[^"]+".*\} 1$`,
		`(?m)^edgeinfer_info\{broker="tcp://127.0.0.1:1883",goversion="go[^"]+",kernels="[a-z0-9]+",model="m.eim",source="http://cam:xxxxx@camera.local/video",version="[^"]+"\} 1$`,
		`(?m)^edgeinfer_source_up 1$`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("/metrics lacks a line matching %s:\n%s", re, body)
		}
	}
	// every non-comment line is "name{labels} value", from our metrics or the client's collectors
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		f := strings.Fields(line)
		if len(f) < 2 || !(strings.HasPrefix(name, "edgeinfer_") || strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")) {
			t.Errorf("malformed sample line %q", line)
		}
	}

	resp, err = srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{`<td id="label">cat &lt;b&gt;</td>`, `<td id="score">0.800</td>`, `<td id="fps">10.0</td>`, `<td id="frames">2</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q:\n%s", want, page)
		}
	}
	resp, err = srv.Client().Get(srv.URL + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/nothing: %d, want 404", resp.StatusCode)
	}
}

// TestStatusJSON: the state the status page polls (/status.json) names the model, the source
// (password redacted), the camera's state and the MQTT publisher's; the page itself no longer
// reloads (no Refresh header) and polls it.
func TestStatusJSON(t *testing.T) {
	m := newMetrics()
	m.MQTT = func() mqtt.Stats { return mqtt.Stats{Queued: 2, Delivered: 9, Dropped: 3, Undelivered: 1} }
	lost := camera.State{Source: "v4l2:/dev/video0", Lost: true, Err: errors.New("no such device")}
	m.Source = func() (camera.State, bool) { return lost, true }
	m.setInfo("/models/cat.eim", "rtsp://u:p@cam/x", "tcp://broker.lan:1883")
	m.observe(time.Millisecond, "cat", 0.5, 7, time.Unix(200, 0))
	srv := httptest.NewServer(m.Handler("garden"))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Status
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	want := Status{Device: "garden", Model: "/models/cat.eim", Source: "rtsp://u:xxxxx@cam/x", Label: "cat", Score: 0.5,
		Frames: 1, Seq: 7, At: "1970-01-01T00:03:20Z", SourceLost: true, SourceError: "no such device", Broker: "tcp://broker.lan:1883"}
	want.MQTT.Queued, want.MQTT.Delivered, want.MQTT.Dropped = 2, 9, 4
	if s != want {
		t.Errorf("status.json\n got %+v\nwant %+v", s, want)
	}
	resp, err = srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if r := resp.Header.Get("Refresh"); r != "" {
		t.Errorf("status page sends Refresh: %q (it polls /status.json instead)", r)
	}
	for _, w := range []string{`fetch('/status.json'`, `<td id="source_state">lost: no such device</td>`, `<td id="model">/models/cat.eim</td>`,
		`<td id="mqtt">disconnected (tcp://broker.lan:1883)</td>`, `<td id="outbox">2 queued, 9 delivered, 4 dropped</td>`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("status page lacks %q", w)
		}
	}
}

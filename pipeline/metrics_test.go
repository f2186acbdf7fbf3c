package pipeline

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	// every non-comment line is "name{labels} value"
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) != 2 || !strings.HasPrefix(f[0], "edgeinfer_") {
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

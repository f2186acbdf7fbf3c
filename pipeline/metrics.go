package pipeline

import (
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

// latencyBuckets are the upper bounds, in seconds, of the inference latency histogram.
var latencyBuckets = [...]float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}

// Metrics are the counters of a running pipeline. Every method may be called concurrently and
// none allocates on the frame path.
type Metrics struct {
	frames    atomic.Uint64
	bad       atomic.Uint64
	inference histogram // Interpreter.Run per frame
	publish   histogram // frame capture to the state message handed to the publisher

	// Dropped and MQTT are read when scraped: frames the camera gave that were never classified,
	// and the MQTT publisher's counters. Either may be nil.
	Dropped func() uint64
	MQTT    func() mqtt.Stats
	// frameJPEG encodes the latest copied frame for the status page; nil: no image.
	frameJPEG func() ([]byte, error)

	mu      sync.Mutex
	label   string
	score   float64
	seq     uint64
	at      time.Time
	fps     float64 // exponentially smoothed
	lastAt  time.Time
	started time.Time
}

func newMetrics() *Metrics { return &Metrics{started: time.Now()} }

// observe records one classified frame.
func (m *Metrics) observe(inference time.Duration, label string, score float64, seq uint64, now time.Time) {
	m.frames.Add(1)
	m.inference.observe(inference)
	m.mu.Lock()
	m.label, m.score, m.seq, m.at = label, score, seq, now
	if !m.lastAt.IsZero() {
		if dt := now.Sub(m.lastAt).Seconds(); dt > 0 {
			if m.fps == 0 {
				m.fps = 1 / dt
			} else {
				m.fps += 0.1 * (1/dt - m.fps)
			}
		}
	}
	m.lastAt = now
	m.mu.Unlock()
}

// histogram is a Prometheus histogram of durations over latencyBuckets.
type histogram struct {
	buckets [len(latencyBuckets) + 1]atomic.Uint64 // the last one is +Inf
	sumNS   atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	h.sumNS.Add(int64(d))
	s := d.Seconds()
	i := 0
	for i < len(latencyBuckets) && s > latencyBuckets[i] {
		i++
	}
	h.buckets[i].Add(1)
}

// appendTo appends the histogram in the text exposition format.
func (h *histogram) appendTo(b []byte, name, help string) []byte {
	b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, le := range latencyBuckets {
		cum += h.buckets[i].Load()
		b = fmt.Appendf(b, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(le, 'g', -1, 64), cum)
	}
	cum += h.buckets[len(latencyBuckets)].Load()
	return fmt.Appendf(b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, cum, name,
		strconv.FormatFloat(float64(h.sumNS.Load())/1e9, 'g', -1, 64), name, cum)
}

// Frames is the number of classified frames.
func (m *Metrics) Frames() uint64 { return m.frames.Load() }

// WritePrometheus writes the metrics in the Prometheus text exposition format (version 0.0.4).
func (m *Metrics) WritePrometheus(w io.Writer) error {
	var b []byte
	counter := func(name, help string, v uint64) {
		b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("edgeinfer_frames_total", "Frames classified.", m.frames.Load())
	var dropped uint64
	if m.Dropped != nil {
		dropped = m.Dropped()
	}
	counter("edgeinfer_dropped_frames_total", "Frames from the source that were never classified (a newer frame replaced them).", dropped)
	counter("edgeinfer_bad_frames_total", "Frames the source or the preprocessing could not use.", m.bad.Load())
	b = m.inference.appendTo(b, "edgeinfer_inference_seconds", "Time to run the model on one frame.")
	b = m.publish.appendTo(b, "edgeinfer_frame_to_publish_seconds", "Time from a frame's capture to its state message being queued for MQTT.")
	var st mqtt.Stats
	if m.MQTT != nil {
		st = m.MQTT()
	}
	gauge := func(name, help string, v uint64) {
		b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	gauge("edgeinfer_mqtt_outbox_messages", "Messages in the MQTT outbox: waiting for the broker, or sent and not yet acknowledged.", uint64(st.Queued))
	connected := uint64(0)
	if st.Connected {
		connected = 1
	}
	gauge("edgeinfer_mqtt_connected", "1 while the connection to the MQTT broker is up.", connected)
	counter("edgeinfer_mqtt_delivered_total", "MQTT messages the broker acknowledged.", st.Delivered)
	b = fmt.Appendf(b, "# HELP edgeinfer_mqtt_dropped_total MQTT messages given up: outbox_full, dropped (oldest state first) while the broker was away; undelivered, left in the outbox at shutdown.\n# TYPE edgeinfer_mqtt_dropped_total counter\n"+
		"edgeinfer_mqtt_dropped_total{reason=\"outbox_full\"} %d\nedgeinfer_mqtt_dropped_total{reason=\"undelivered\"} %d\n", st.Dropped, st.Undelivered)
	counter("edgeinfer_mqtt_retried_total", "MQTT messages sent again after a lost connection or a failed publication.", st.Retried)
	counter("edgeinfer_mqtt_connects_total", "Connections made to the MQTT broker.", st.Connects)
	counter("edgeinfer_mqtt_bad_commands_total", "Commands ignored: unreadable, too large, or arriving while the previous ones were being handled.", st.BadCommands)
	_, err := w.Write(b)
	return err
}

// Handler serves /metrics and the status page /.
func (m *Metrics) Handler(device string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.WritePrometheus(w)
	})
	mux.HandleFunc("GET /frame.jpg", func(w http.ResponseWriter, r *http.Request) {
		if m.frameJPEG == nil {
			http.Error(w, "no frames are kept", http.StatusNotFound)
			return
		}
		b, err := m.frameJPEG()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		label, score, seq, at, fps := m.label, m.score, m.seq, m.at, m.fps
		m.mu.Unlock()
		if label == "" {
			label = "(no frame yet)"
		}
		if math.IsNaN(score) {
			score = 0
		}
		when := "-"
		if !at.IsZero() {
			when = at.UTC().Format(time.RFC3339)
		}
		img := ""
		if m.frameJPEG != nil {
			img = `<p><img id="frame" src="/frame.jpg" alt="latest frame"></p>
`
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Refresh", "2")
		fmt.Fprintf(w, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>edgeinfer %[1]s</title></head>
<body>
<h1>edgeinfer %[1]s</h1>
<table>
<tr><th>label</th><td id="label">%[2]s</td></tr>
<tr><th>score</th><td id="score">%.3[3]f</td></tr>
<tr><th>fps</th><td id="fps">%.1[4]f</td></tr>
<tr><th>frames</th><td id="frames">%[5]d</td></tr>
<tr><th>frame</th><td id="seq">%[6]d at %[7]s</td></tr>
</table>
%[8]s<p><a href="/metrics">metrics</a></p>
</body></html>
`, html.EscapeString(device), html.EscapeString(label), score, fps, m.frames.Load(), seq, when, img)
	})
	return mux
}

package pipeline

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgeinfer/edgeinfer/camera"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
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
	// and the MQTT publisher's counters. Either may be nil. Once the metrics are served, set them
	// (and Source) through attach only.
	Dropped func() uint64
	MQTT    func() mqtt.Stats
	// Source reports the camera source's state (loop.SourceState); nil: always up.
	Source func() (camera.State, bool)
	// model, sourceName and broker name what runs, for the status page; info is edgeinfer_info,
	// made of them, the version and the kernel path (setInfo: credentials in URLs redacted).
	model, sourceName, broker string
	info                      prometheus.Metric
	// frameJPEG encodes the latest copied frame for the status page; nil: no image.
	frameJPEG func() ([]byte, error)

	regOnce sync.Once
	reg     *prometheus.Registry

	mu    sync.Mutex
	label string
	score float64
	seq   uint64
	at    time.Time
	fps   float64 // exponentially smoothed
}

func newMetrics() *Metrics {
	m := &Metrics{}
	m.setInfo("", "", "")
	return m
}

// observe records one classified frame.
func (m *Metrics) observe(inference time.Duration, label string, score float64, seq uint64, now time.Time) {
	m.frames.Add(1)
	m.inference.observe(inference)
	m.mu.Lock()
	if !m.at.IsZero() {
		if dt := now.Sub(m.at).Seconds(); dt > 0 {
			if m.fps == 0 {
				m.fps = 1 / dt
			} else {
				m.fps += 0.1 * (1/dt - m.fps)
			}
		}
	}
	m.label, m.score, m.seq, m.at = label, score, seq, now
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

// metric is the histogram as a Prometheus constant histogram, read when scraped.
func (h *histogram) metric(desc *prometheus.Desc) prometheus.Metric {
	buckets := make(map[float64]uint64, len(latencyBuckets))
	var cum uint64
	for i, le := range latencyBuckets {
		cum += h.buckets[i].Load()
		buckets[le] = cum
	}
	cum += h.buckets[len(latencyBuckets)].Load()
	return prometheus.MustNewConstHistogram(desc, cum, float64(h.sumNS.Load())/1e9, buckets)
}

// Frames is the number of classified frames.
func (m *Metrics) Frames() uint64 { return m.frames.Load() }

// setInfo names the model, the source and the broker, with any credentials in their URLs redacted,
// and makes edgeinfer_info of them once (its labels do not change while the daemon runs). Call it
// before the metrics are served.
func (m *Metrics) setInfo(model, source, broker string) {
	m.model, m.sourceName, m.broker = model, redact(source), redact(broker)
	m.info = prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1,
		Version(), runtime.Version(), kernels.Path(), m.model, m.sourceName, m.broker)
}

// attach runs f, which sets Dropped, MQTT or Source, under the metrics' lock: Run attaches the
// publisher and the camera while the status page may already be served.
func (m *Metrics) attach(f func(m *Metrics)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

// sources returns Dropped, MQTT and Source, read under the lock attach writes them under.
func (m *Metrics) sources() (dropped func() uint64, stats func() mqtt.Stats, source func() (camera.State, bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Dropped, m.MQTT, m.Source
}

// sourceLost reports whether the camera source (source: Metrics.Source, or nil) is lost, and why.
func sourceLost(source func() (camera.State, bool)) (bool, error) {
	if source == nil {
		return false, nil
	}
	s, ok := source()
	return ok && s.Lost, s.Err
}

// redact hides the password of a URL ("http://user:xxxxx@host/"); other strings are kept.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// The descriptions of the pipeline's own metrics. The process, Go runtime and module build
// metrics come from the Prometheus client's collectors.
var (
	descFrames      = prometheus.NewDesc("edgeinfer_frames_total", "Frames classified.", nil, nil)
	descDropped     = prometheus.NewDesc("edgeinfer_dropped_frames_total", "Frames from the source that were never classified (a newer frame replaced them).", nil, nil)
	descBad         = prometheus.NewDesc("edgeinfer_bad_frames_total", "Frames the source or the preprocessing could not use.", nil, nil)
	descInference   = prometheus.NewDesc("edgeinfer_inference_seconds", "Time to run the model on one frame.", nil, nil)
	descPublish     = prometheus.NewDesc("edgeinfer_frame_to_publish_seconds", "Time from a frame's capture to its state message being queued for MQTT.", nil, nil)
	descSourceUp    = prometheus.NewDesc("edgeinfer_source_up", "1 while the camera source gives frames, 0 while it is lost (being reopened, or its files unreadable).", nil, nil)
	descOutbox      = prometheus.NewDesc("edgeinfer_mqtt_outbox_messages", "Messages in the MQTT outbox: waiting for the broker, or sent and not yet acknowledged.", nil, nil)
	descConnected   = prometheus.NewDesc("edgeinfer_mqtt_connected", "1 while the connection to the MQTT broker is up.", nil, nil)
	descDelivered   = prometheus.NewDesc("edgeinfer_mqtt_delivered_total", "MQTT messages the broker acknowledged.", nil, nil)
	descMQTTDropped = prometheus.NewDesc("edgeinfer_mqtt_dropped_total", "MQTT messages given up: outbox_full, dropped (oldest state first) while the broker was away; undelivered, left in the outbox at shutdown.", []string{"reason"}, nil)
	descRetried     = prometheus.NewDesc("edgeinfer_mqtt_retried_total", "MQTT messages sent again after a lost connection or a failed publication.", nil, nil)
	descConnects    = prometheus.NewDesc("edgeinfer_mqtt_connects_total", "Connections made to the MQTT broker.", nil, nil)
	descBadCommands = prometheus.NewDesc("edgeinfer_mqtt_bad_commands_total", "Commands ignored: unreadable, too large, or arriving while the previous ones were being handled.", nil, nil)
	descInfo        = prometheus.NewDesc("edgeinfer_info", "What this daemon runs: always 1.", []string{"version", "goversion", "kernels", "model", "source", "broker"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(m, ch) }

// Collect implements prometheus.Collector: the counters are read when scraped, so the frame path
// only updates atomics.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	droppedFn, statsFn, source := m.sources()
	counter(descFrames, m.frames.Load())
	var dropped uint64
	if droppedFn != nil {
		dropped = droppedFn()
	}
	counter(descDropped, dropped)
	counter(descBad, m.bad.Load())
	ch <- m.inference.metric(descInference)
	ch <- m.publish.metric(descPublish)
	lost, _ := sourceLost(source)
	gauge(descSourceUp, b2f(!lost))
	var st mqtt.Stats
	if statsFn != nil {
		st = statsFn()
	}
	gauge(descOutbox, float64(st.Queued))
	gauge(descConnected, b2f(st.Connected))
	counter(descDelivered, st.Delivered)
	counter(descMQTTDropped, st.Dropped, "outbox_full")
	counter(descMQTTDropped, st.Undelivered, "undelivered")
	counter(descRetried, st.Retried)
	counter(descConnects, st.Connects)
	counter(descBadCommands, st.BadCommands)
	ch <- m.info
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// registry is the Prometheus registry of /metrics: the pipeline's metrics, the process's (CPU,
// memory, file descriptors), the Go runtime's and the module's build information.
func (m *Metrics) registry() *prometheus.Registry {
	m.regOnce.Do(func() {
		m.reg = prometheus.NewRegistry()
		m.reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewBuildInfoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	})
	return m.reg
}

// Status is the status page's state, served as JSON at /status.json; the page polls it.
type Status struct {
	Device string  `json:"device"`
	Model  string  `json:"model"`
	Source string  `json:"source"`
	Label  string  `json:"label"`
	Score  float64 `json:"score"`
	FPS    float64 `json:"fps"`
	Frames uint64  `json:"frames"`
	Seq    uint64  `json:"seq"`
	At     string  `json:"at,omitempty"` // RFC 3339, UTC; empty before the first frame
	// SourceLost and SourceError: the camera is being reopened (or its files are unreadable), why.
	SourceLost  bool   `json:"source_lost"`
	SourceError string `json:"source_error,omitempty"`
	Broker      string `json:"broker"`
	// MQTT is the publisher's state: connected, outbox, delivered and dropped messages.
	MQTT struct {
		Connected bool   `json:"connected"`
		Queued    int    `json:"queued"`
		Delivered uint64 `json:"delivered"`
		Dropped   uint64 `json:"dropped"`
	} `json:"mqtt"`
}

// status gathers the status page's state.
func (m *Metrics) status(device string) Status {
	m.mu.Lock()
	s := Status{Device: device, Model: m.model, Source: m.sourceName, Broker: m.broker,
		Label: m.label, Score: m.score, Seq: m.seq, FPS: m.fps}
	at := m.at
	m.mu.Unlock()
	if math.IsNaN(s.Score) || math.IsInf(s.Score, 0) {
		s.Score = 0
	}
	if math.IsNaN(s.FPS) || math.IsInf(s.FPS, 0) {
		s.FPS = 0
	}
	s.Frames = m.frames.Load()
	if !at.IsZero() {
		s.At = at.UTC().Format(time.RFC3339)
	}
	_, statsFn, source := m.sources()
	if lost, err := sourceLost(source); lost {
		s.SourceLost = true
		if err != nil {
			s.SourceError = err.Error()
		}
	}
	if statsFn != nil {
		st := statsFn()
		s.MQTT.Connected, s.MQTT.Queued, s.MQTT.Delivered, s.MQTT.Dropped = st.Connected, st.Queued, st.Delivered, st.Dropped+st.Undelivered
	}
	return s
}

// Handler serves /metrics, /status.json, /frame.jpg and the status page /.
func (m *Metrics) Handler(device string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry(), promhttp.HandlerOpts{}))
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
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(m.status(device))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := m.status(device)
		label := s.Label
		if label == "" {
			label = "(no frame yet)"
		}
		when := s.At
		if when == "" {
			when = "-"
		}
		src := "up"
		if s.SourceLost {
			src = "lost: " + s.SourceError
		}
		mq := "disconnected"
		if s.MQTT.Connected {
			mq = "connected"
		}
		img := ""
		if m.frameJPEG != nil {
			img = `<p><img id="frame" src="/frame.jpg" alt="latest frame"></p>
`
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		e := html.EscapeString
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
<tr><th>model</th><td id="model">%[8]s</td></tr>
<tr><th>source</th><td id="source">%[9]s</td></tr>
<tr><th>camera</th><td id="source_state">%[10]s</td></tr>
<tr><th>MQTT</th><td id="mqtt">%[11]s</td></tr>
<tr><th>outbox</th><td id="outbox">%[12]d queued, %[13]d delivered, %[14]d dropped</td></tr>
</table>
%[15]s<p id="updated"></p><p><a href="/metrics">metrics</a> · <a href="/status.json">status.json</a></p>
<script>
// Live updates without reloading the page: poll /status.json, refresh the fields and the frame.
const set = (id, v) => { const el = document.getElementById(id); if (el) el.textContent = v; };
let lastSeq = -1;
async function tick() {
  try {
    const r = await fetch('/status.json', {cache: 'no-store'});
    const s = await r.json();
    set('label', s.label || '(no frame yet)');
    set('score', s.score.toFixed(3));
    set('fps', s.fps.toFixed(1));
    set('frames', s.frames);
    set('seq', s.seq + ' at ' + (s.at || '-'));
    set('model', s.model);
    set('source', s.source);
    set('source_state', s.source_lost ? 'lost: ' + (s.source_error || '') : 'up');
    set('mqtt', (s.mqtt.connected ? 'connected' : 'disconnected') + ' (' + s.broker + ')');
    set('outbox', s.mqtt.queued + ' queued, ' + s.mqtt.delivered + ' delivered, ' + s.mqtt.dropped + ' dropped');
    set('updated', 'updated ' + new Date().toLocaleTimeString());
    const img = document.getElementById('frame');
    if (img && s.seq !== lastSeq) { lastSeq = s.seq; img.src = '/frame.jpg?seq=' + s.seq; }
  } catch (e) {
    set('updated', 'status unavailable: ' + e);
  }
  setTimeout(tick, 1000);
}
setTimeout(tick, 1000);
</script>
</body></html>
`, e(device), e(label), s.Score, s.FPS, s.Frames, s.Seq, e(when), e(s.Model), e(s.Source), e(src),
			e(mq+" ("+s.Broker+")"), s.MQTT.Queued, s.MQTT.Delivered, s.MQTT.Dropped, img)
	})
	return mux
}

package pipeline

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Status is what GET /status.json answers, and what the status page shows (it polls this every
// second and updates itself without reloading).
type Status struct {
	Device string       `json:"device"`
	Model  string       `json:"model"`
	Source SourceStatus `json:"source"`
	MQTT   MQTTStatus   `json:"mqtt"`
	Label  string       `json:"label"` // "" before the first frame
	Score  float64      `json:"score"`
	FPS    float64      `json:"fps"`
	Frames uint64       `json:"frames"`
	Seq    uint64       `json:"seq"`
	At     string       `json:"at,omitempty"` // RFC 3339, UTC: when frame Seq was classified
}

// SourceStatus is the camera source's part of Status.
type SourceStatus struct {
	Spec  string `json:"spec"`            // the source as configured
	State string `json:"state"`           // "ok", or "lost" while it is being reopened
	Error string `json:"error,omitempty"` // why it is lost
	Since string `json:"since,omitempty"` // RFC 3339, UTC: when it was lost or came back
}

// MQTTStatus is the MQTT connection's part of Status.
type MQTTStatus struct {
	Broker    string `json:"broker"` // without any user:password@ in the URL
	Connected bool   `json:"connected"`
	Queued    int    `json:"queued"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
}

// StatusInfo is what the status page says about the pipeline besides its counters; Run sets it
// (SetInfo) before it serves the page.
type StatusInfo struct {
	Model, Source, Broker string
}

// SetInfo sets the model, source and broker that Status reports. Call it before serving Handler.
func (m *Metrics) SetInfo(i StatusInfo) {
	i.Broker = redactURL(i.Broker)
	m.mu.Lock()
	m.info = i
	m.mu.Unlock()
}

// redactURL drops the user information from a broker URL, so that no password shows.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// Status returns the pipeline's current status for device.
func (m *Metrics) Status(device string) Status {
	m.mu.Lock()
	s := Status{Device: device, Model: m.info.Model, Label: m.label, Score: m.score, FPS: m.fps, Seq: m.seq}
	s.Source.Spec, s.MQTT.Broker = m.info.Source, m.info.Broker
	at := m.at
	m.mu.Unlock()
	if math.IsNaN(s.Score) {
		s.Score = 0
	}
	if !at.IsZero() {
		s.At = at.UTC().Format(time.RFC3339)
	}
	s.Frames = m.frames.Load()
	s.Source.State = "ok"
	if m.sourceState != nil {
		if st, ok := m.sourceState(); ok {
			if st.Lost {
				s.Source.State = "lost"
				if st.Err != nil {
					s.Source.Error = st.Err.Error()
				}
			}
			if !st.Since.IsZero() {
				s.Source.Since = st.Since.UTC().Format(time.RFC3339)
			}
		}
	}
	if m.MQTT != nil {
		st := m.MQTT()
		s.MQTT.Connected, s.MQTT.Queued, s.MQTT.Delivered, s.MQTT.Dropped = st.Connected, st.Queued, st.Delivered, st.Dropped+st.Undelivered
	}
	return s
}

// serveStatus answers GET /status.json.
func (m *Metrics) serveStatus(device string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(m.Status(device))
	}
}

// Texts of the page's cells, the same in Go (first render) and in statusScript (updates).
func (s Status) labelText() string {
	if s.Label == "" {
		return "(no frame yet)"
	}
	return s.Label
}

func (s Status) sourceText() string {
	if s.Source.State == "lost" && s.Source.Error != "" {
		return "lost: " + s.Source.Error
	}
	return s.Source.State
}

func (s Status) mqttText() string {
	if s.MQTT.Connected {
		return "connected"
	}
	return "not connected"
}

// statusScript polls /status.json every second and updates the page's cells, and the frame when a
// new one was classified; the cell "updated" says when it last did, or why it could not.
const statusScript = `<script>
(function () {
  function set(id, v) { var e = document.getElementById(id); if (e && e.textContent !== String(v)) e.textContent = v; }
  var seq = -1;
  function poll() {
    fetch('/status.json', {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (s) {
      set('label', s.label || '(no frame yet)');
      set('score', s.score.toFixed(3));
      set('fps', s.fps.toFixed(1));
      set('frames', s.frames);
      set('seq', s.seq + ' at ' + (s.at || '-'));
      set('model', s.model);
      set('source', s.source.spec);
      set('source_state', s.source.state === 'lost' && s.source.error ? 'lost: ' + s.source.error : s.source.state);
      set('mqtt', s.mqtt.connected ? 'connected' : 'not connected');
      set('broker', s.mqtt.broker);
      set('outbox', s.mqtt.queued + ' queued, ' + s.mqtt.delivered + ' delivered, ' + s.mqtt.dropped + ' dropped');
      var img = document.getElementById('frame');
      if (img && s.seq !== seq) { seq = s.seq; img.src = '/frame.jpg?seq=' + s.seq; }
      set('updated', 'live, ' + new Date().toISOString().slice(11, 19) + ' UTC');
    }).catch(function (e) {
      set('updated', 'not updating: ' + e.message);
    }).then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
`

package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/camera/cameratest"
	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/gpio/gpiotest"
	"github.com/edgeinfer/edgeinfer/internal/racemode"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/pipeline/decide"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
	"github.com/edgeinfer/edgeinfer/runtime"
)

const (
	testModel  = "imagenet/mobilenet_v1_0.25_128_quant.tflite"
	testLabels = "imagenet/imagenet_labels.txt"
)

// modelAndLabels returns the shared test model and its labels, skipping t without the data.
func modelAndLabels(t *testing.T) (string, []string) {
	t.Helper()
	mp := shareddata.Path(t, testModel)
	b, err := os.ReadFile(shareddata.Path(t, testLabels))
	if err != nil {
		t.Fatal(err)
	}
	labels := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return mp, labels
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// slowdown multiplies the time the tests wait for the real model's labels (5 under -race). It is
// a bound on waiting, never a speed the test expects.
const slowdown = racemode.Slowdown

// fakePub records what the loop publishes, without allocating once its slices have grown.
type fakePub struct {
	mu      sync.Mutex
	states  int
	last    mqtt.State
	classes []string
}

func (p *fakePub) PublishState(s mqtt.State) error {
	p.mu.Lock()
	p.states++
	p.last = s
	p.mu.Unlock()
	return nil
}

func (p *fakePub) PublishClass(name string, active bool) error {
	p.mu.Lock()
	p.classes = append(p.classes, name)
	p.mu.Unlock()
	return nil
}

func newTestLoop(t *testing.T, dc decide.Config) *loop {
	t.Helper()
	mp, labels := modelAndLabels(t)
	m, closer, err := load.Model(mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	it, err := runtime.New(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(it.Close)
	l, err := newLoop(it, m, labels, dc)
	if err != nil {
		t.Fatal(err)
	}
	l.log = quietLog()
	return l
}

// TestStepAllocs pins the steady state of the frame step (fill, infer, dequantize, decide, metrics,
// the frame copied for the status page and snapshots, no label change, no heartbeat due) at zero
// allocations, with a real model, a fake publisher and GPIO actions on fake lines.
func TestStepAllocs(t *testing.T) {
	l := newTestLoop(t, decide.Config{Smoothing: 5, TopK: 3, Classes: []decide.Class{{Name: "goldfish, Carassius auratus", On: 0.5}, {Name: "fish", On: 0.5}},
		Groups: []decide.Group{{Name: "fish", Members: []int{1, 2, 3, 4, 5, 6, 7}}}})
	pub := &fakePub{}
	l.pub = pub
	var out bytes.Buffer
	l.w = &out
	l.heartbeat = time.Hour
	l.grab, l.snapshots = &frameCopy{}, make(chan struct{}, 1)
	acts, err := gpio.Open(&gpiotest.Lines{}, []gpio.Action{{Class: "goldfish, Carassius auratus", Kind: gpio.LED, Pin: "GPIO17"}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer acts.Close()
	l.actions = acts
	frames, err := cameratest.Pattern(camera.YUYV, 320, 240, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := cameratest.New(frames...)
	src.Loop = true
	ctx := context.Background()
	next := func() {
		l.lastGrab = time.Time{} // copy every frame
		f, err := src.Next(ctx)
		if err == nil {
			err = l.step(ctx, f)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 10 { // fill the moving average, publish the first label
		next()
	}
	if pub.states != 1 {
		t.Fatalf("%d state messages after 10 identical frames, want 1 (the first label)", pub.states)
	}
	if !strings.Contains(out.String(), "frame ") || pub.last.Label == "" || len(pub.last.TopK) != 3 {
		t.Fatalf("first label not printed or published: out %q, state %+v", out.String(), pub.last)
	}
	if a := testing.AllocsPerRun(20, next); a != 0 {
		t.Errorf("steady-state step: %v allocations per frame, want 0", a)
	}
	if pub.states != 1 {
		t.Errorf("%d state messages, want still 1 (same label, heartbeat not due)", pub.states)
	}
	if got := l.m.Frames(); got != 10+21 {
		t.Errorf("metrics count %d frames, want 31", got)
	}
}

// TestStepHeartbeat: the state is published again when the heartbeat is due, with a fake clock.
func TestStepHeartbeat(t *testing.T) {
	l := newTestLoop(t, decide.Config{TopK: 1})
	pub := &fakePub{}
	l.pub, l.heartbeat = pub, 10*time.Second
	clock := time.Unix(1000, 0)
	l.now = func() time.Time { return clock }
	frames, err := cameratest.Pattern(camera.YU12, 64, 48, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := l.step(context.Background(), frames[0]); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(4 * time.Second)
	}
	// published at 0 s, then at 12 s (first frame >= 10 s after): frames at 0,4,8,12,16
	if pub.states != 2 {
		t.Errorf("%d state messages over 16 s with a 10 s heartbeat, want 2", pub.states)
	}
}

// TestCommands: pause stops the loop taking frames until resume; thresholds reach the decider.
func TestCommands(t *testing.T) {
	l := newTestLoop(t, decide.Config{Classes: []decide.Class{{Name: "goldfish, Carassius auratus", On: 0.5}}})
	l.pub = &fakePub{}
	frames, err := cameratest.Pattern(camera.YU12, 64, 48, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := cameratest.New(frames...)
	src.Loop = true
	l.command(mqtt.Command{Command: mqtt.CmdThresholds, Thresholds: map[string]mqtt.Threshold{"goldfish, Carassius auratus": {On: 0.9, Off: 0.2}}})
	l.command(mqtt.Command{Command: mqtt.CmdPause})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	counted := &countingSource{Source: src}
	go func() { done <- l.run(ctx, counted, 3) }()
	time.Sleep(200 * time.Millisecond)
	if calls := counted.n.Load(); calls != 0 {
		t.Errorf("paused loop asked for %d frames", calls)
	}
	l.command(mqtt.Command{Command: mqtt.CmdResume})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("loop did not resume")
	}
	cancel()
	if c := l.dec.Class(0); c.On != 0.9 || c.Off != 0.2 {
		t.Errorf("thresholds after command: %+v, want on 0.9 off 0.2", c)
	}
}

// countingSource counts the calls of Next.
type countingSource struct {
	camera.Source
	n atomic.Int64
}

func (c *countingSource) Next(ctx context.Context) (*camera.Frame, error) {
	c.n.Add(1)
	return c.Source.Next(ctx)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

var subscriptions atomic.Int64

// subscribe connects to broker (retrying until it is up) and collects the messages of topic.
func subscribe(t *testing.T, broker, topic string) <-chan paho.Message {
	t.Helper()
	msgs := make(chan paho.Message, 100)
	// Unique across the processes and subscriptions of a test: the host and the VM guest share a
	// broker, and a second client with the same ID would take over the first one's session.
	id := fmt.Sprintf("test-sub-%s-%d-%d", t.Name(), os.Getpid(), subscriptions.Add(1))
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetAutoReconnect(false)
	c := paho.NewClient(o)
	deadline := time.Now().Add(20 * time.Second)
	for {
		tok := c.Connect()
		if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cannot connect to %s: %v", broker, tok.Error())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		select {
		case msgs <- m:
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return msgs
}

type stateMsg struct {
	Label     string         `json:"label"`
	Score     float64        `json:"score"`
	TopK      []mqtt.Scored  `json:"top_k"`
	Timestamp string         `json:"timestamp"`
	Seq       uint64         `json:"seq"`
	LatencyMS float64        `json:"latency_ms"`
	Extra     map[string]any `json:"-"`
}

func checkState(t *testing.T, payload []byte, labels []string) stateMsg {
	t.Helper()
	var s stateMsg
	if err := json.Unmarshal(payload, &s); err != nil {
		t.Fatalf("state %q: %v", payload, err)
	}
	var raw map[string]any
	json.Unmarshal(payload, &raw)
	for _, k := range []string{"label", "score", "top_k", "timestamp", "seq", "latency_ms"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("state %s: no %q", payload, k)
		}
	}
	found := false
	for _, l := range labels {
		found = found || l == s.Label
	}
	if !found || s.Score <= 0 || s.Score > 1 || len(s.TopK) != 3 || s.TopK[0].Label != s.Label {
		t.Errorf("state %s: not a plausible classification", payload)
	}
	if _, err := time.Parse(time.RFC3339Nano, s.Timestamp); err != nil {
		t.Errorf("state %s: timestamp: %v", payload, err)
	}
	if s.LatencyMS <= 0 || s.LatencyMS > 10000 {
		t.Errorf("state %s: latency_ms %v", payload, s.LatencyMS)
	}
	return s
}

// TestRunEmbeddedBroker runs the whole pipeline on the test pattern with the real model, the
// embedded broker and the HTTP server, reads states over MQTT and scrapes /metrics and /, then
// stops it by cancelling ctx.
func TestRunEmbeddedBroker(t *testing.T) {
	mp, labels := modelAndLabels(t)
	brokerAddr, httpAddr := freeAddr(t), freeAddr(t)
	var out lockedBuffer
	cfg := Config{
		Model: mp, Labels: labels, Source: "pattern:?size=320x240&fps=30", Device: "testdev",
		Heartbeat: 100 * time.Millisecond, Listen: httpAddr, Out: &out,
		Watch: []Watch{{Class: "goldfish, Carassius auratus", On: 0.6}},
		MQTT:  MQTT{Listen: brokerAddr},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()

	msgs := subscribe(t, "tcp://"+brokerAddr, "edgeinfer/testdev/#")
	var states, online int
	deadline := time.After(30 * time.Second)
	for states < 3 || online == 0 {
		select {
		case m := <-msgs:
			switch m.Topic() {
			case "edgeinfer/testdev/state":
				checkState(t, m.Payload(), labels)
				states++
			case "edgeinfer/testdev/availability":
				if string(m.Payload()) == mqtt.Online {
					online++
				}
			}
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		case <-deadline:
			t.Fatalf("after 30 s: %d states, %d online", states, online)
		}
	}

	body := get(t, "http://"+httpAddr+"/metrics")
	for _, want := range []string{"# TYPE edgeinfer_frames_total counter", "edgeinfer_dropped_frames_total ",
		`edgeinfer_inference_seconds_bucket{le="+Inf"} `, "edgeinfer_inference_seconds_count ",
		"edgeinfer_mqtt_outbox_messages ", "edgeinfer_frame_to_publish_seconds_count "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	page := get(t, "http://"+httpAddr+"/")
	if !strings.Contains(page, "edgeinfer testdev") || !strings.Contains(page, `<td id="fps">`) || strings.Contains(page, `<td id="label">(no frame yet)</td>`) ||
		!strings.Contains(page, `<img id="frame" src="/frame.jpg"`) {
		t.Errorf("status page:\n%s", page)
	}
	img, err := jpeg.Decode(strings.NewReader(get(t, "http://"+httpAddr+"/frame.jpg")))
	if err != nil || img.Bounds().Dx() != 320 || img.Bounds().Dy() != 240 {
		t.Errorf("/frame.jpg: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	if !strings.Contains(out.String(), "frame ") {
		t.Errorf("no label printed: %q", out.String())
	}
}

// TestRunMosquitto runs the pipeline for a fixed number of frames against a real mosquitto.
func TestRunMosquitto(t *testing.T) {
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
	msgs := subscribe(t, b.HostURL(), "edgeinfer/mosq/#")
	cfg := Config{
		Model: mp, Labels: labels, Source: "pattern:?size=640x480&fps=30", Device: "mosq",
		Heartbeat: time.Millisecond, Listen: "off", Frames: 20,
		MQTT: MQTT{Broker: b.HostURL()},
	}
	if err := Run(context.Background(), cfg, quietLog()); err != nil {
		t.Fatal(err)
	}
	var states int
	var seqs []uint64
	offline := false
	timeout := time.After(10 * time.Second)
	for states < 20 || !offline {
		select {
		case m := <-msgs:
			switch m.Topic() {
			case "edgeinfer/mosq/state":
				s := checkState(t, m.Payload(), labels)
				seqs = append(seqs, s.Seq)
				states++
			case "edgeinfer/mosq/availability":
				offline = string(m.Payload()) == mqtt.Offline
			}
		case <-timeout:
			t.Fatalf("%d states (want 20: a 1 ms heartbeat publishes every frame), offline %v", states, offline)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Errorf("frame sequence numbers not increasing: %v", seqs)
			break
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunBadWatch: a watched class the model does not have stops Run before anything starts.
func TestRunBadWatch(t *testing.T) {
	mp, labels := modelAndLabels(t)
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:", Listen: "off", MQTT: MQTT{Broker: "tcp://127.0.0.1:1"},
		Watch: []Watch{{Class: "unicorn", On: 0.5}}}
	err := Run(context.Background(), cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), `"unicorn"`) {
		t.Fatalf("Run with an unknown watched class: %v", err)
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		t.Fatalf("error came from the network, not the config check: %v", err)
	}
}

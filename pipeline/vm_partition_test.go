package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
)

// Network partition between the daemon and its broker: edgeinfer run in the arm64 guest publishes
// every frame's state (pattern source, heartbeat 1 ms) to mosquitto on the host while the guest's
// network cable is pulled (QEMU set_link off: frames either way are dropped, neither end is told)
// twice — once for less than the keep-alive, once for much longer than keep-alive + ping timeout and
// than the outbox holds. A subscriber on the host, which is never partitioned, records every state
// by seq. The test checks: nothing lost but what /metrics counts as dropped from the full outbox, no
// drop in the short partition, in order, the drops logged once (a warning and a summary), Run ending
// with everything delivered; it reports how long after the cable is back the first label arrives
// (for the long partition: the reconnection), duplicates, and the /metrics counters. Timing is
// reported, and bounded only generously (a label within 15 s of the heal) since the guest is an
// emulated CPU on a shared machine.

const (
	partitionDevice    = "vmpart"
	partitionOutbox    = 20
	partitionKeepAlive = 4 * time.Second // ping timeout 2 s: a silent broker is given up after about 6-7 s
	partitionShort     = 2 * time.Second // less than the keep-alive: the connection survives
	partitionLong      = 20 * time.Second
)

// arrival is one state message received by the host's subscriber.
type arrival struct {
	seq uint64
	at  time.Time
}

// stateRecorder subscribes (QoS 1) to a device's state topic and records every arrival.
type stateRecorder struct {
	mu   sync.Mutex
	got  []arrival
	wake chan struct{}
}

func recordStates(t *testing.T, broker, topic string) *stateRecorder {
	t.Helper()
	r := &stateRecorder{wake: make(chan struct{}, 1)}
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("rec-%s-%d", t.Name(), os.Getpid())).
		SetAutoReconnect(false).SetOrderMatters(true)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("recorder: connecting to %s: %v", broker, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var s struct {
			Seq uint64 `json:"seq"`
		}
		if err := json.Unmarshal(m.Payload(), &s); err != nil {
			t.Errorf("recorder: state %q: %v", m.Payload(), err)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, arrival{s.Seq, time.Now()})
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("recorder: subscribing to %s: %v", topic, tok.Error())
	}
	return r
}

func (r *stateRecorder) snapshot() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]arrival(nil), r.got...)
}

// firstAfter waits for the first state to arrive after since and returns its delay.
func (r *stateRecorder) firstAfter(ctx context.Context, since time.Time) (time.Duration, error) {
	for {
		r.mu.Lock()
		for _, a := range r.got {
			if a.at.After(since) {
				r.mu.Unlock()
				return a.at.Sub(since), nil
			}
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// guestReports collects the /metrics text the guest posts every 200 ms while its network is up.
type guestReports struct {
	mu      sync.Mutex
	metrics map[string]float64
	at      time.Time
	stop    bool // answer "stop": the guest ends Run
}

func (g *guestReports) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			if v, err := strconv.ParseFloat(l[i+1:], 64); err == nil {
				m[l[:i]] = v
			}
		}
	}
	g.mu.Lock()
	g.metrics, g.at = m, time.Now()
	stop := g.stop
	g.mu.Unlock()
	if stop {
		io.WriteString(w, "stop")
	}
}

// get returns the value of a metric in the newest report posted after since, waiting for one.
func (g *guestReports) get(ctx context.Context, since time.Time, name string) (float64, error) {
	for {
		g.mu.Lock()
		m, at := g.metrics, g.at
		g.mu.Unlock()
		if at.After(since) {
			v, ok := m[name]
			if !ok {
				return 0, fmt.Errorf("guest /metrics has no %s", name)
			}
			return v, nil
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return 0, fmt.Errorf("no /metrics report from the guest since %v: %w", since.Format(time.TimeOnly), ctx.Err())
		}
	}
}

// waitMetric waits until the guest reports metric name satisfying ok.
func (g *guestReports) waitMetric(ctx context.Context, name string, ok func(float64) bool) (float64, error) {
	for {
		v, err := g.get(ctx, time.Now(), name)
		if err != nil {
			return v, err
		}
		if ok(v) {
			return v, nil
		}
	}
}

const (
	metricFrames    = "edgeinfer_frames_total"
	metricDropped   = `edgeinfer_mqtt_dropped_total{reason="outbox_full"}`
	metricConnects  = "edgeinfer_mqtt_connects_total"
	metricOutbox    = "edgeinfer_mqtt_outbox_messages"
	metricDelivered = "edgeinfer_mqtt_delivered_total"
	metricRetried   = "edgeinfer_mqtt_retried_total"
)

func TestVMNetworkPartition(t *testing.T) {
	var (
		env       map[string]string
		rec       *stateRecorder
		reports   = &guestReports{}
		rows      []string // what the host measured, logged at the end
		dropped   float64  // outbox_full drops when the guest's stream ended
		shortDr   float64  // ... after the short partition
		frames    float64  // frames classified, each published (heartbeat 1 ms), when paused
		brokerURL string   // the broker as the host reaches it
	)
	if !vmtest.InGuest() {
		vmtest.RequireVM(t)
		mp := shareddata.Path(t, testModel)
		lp := shareddata.Path(t, testLabels)
		env = map[string]string{"E2E_FILES": serveFiles(t, map[string]string{"model.tflite": mp, "labels.txt": lp})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: reports}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		env["E2E_REPORT"] = fmt.Sprintf("http://%s:%d/report", vmtest.HostIP, ln.Addr().(*net.TCPAddr).Port)
		b := vmtest.StartMosquitto(t)
		brokerURL = b.HostURL()
		env["E2E_BROKER"] = b.GuestURL()
		rec = recordStates(t, b.HostURL(), "edgeinfer/"+partitionDevice+"/state")
	}
	vmtest.Run(t, vmtest.Options{
		Env:     env,
		Timeout: 8 * time.Minute,
		Host: func(ctx context.Context, vm *vmtest.VM) error {
			if err := vm.WaitEvent(ctx, "streaming"); err != nil {
				return err
			}
			if _, err := rec.firstAfter(ctx, time.Time{}); err != nil {
				return fmt.Errorf("no state received before the partitions: %w", err)
			}
			time.Sleep(3 * time.Second)
			c0, err := reports.get(ctx, time.Now(), metricConnects)
			if err != nil {
				return err
			}
			partition := func(d time.Duration) (time.Time, error) {
				if err := vm.SetLink(ctx, false); err != nil {
					return time.Time{}, err
				}
				cut := time.Now()
				time.Sleep(d)
				if err := vm.SetLink(ctx, true); err != nil {
					return time.Time{}, err
				}
				healed := time.Now()
				// Labels that arrive while the cable is out were sent before it (in the host's
				// network stack, or QEMU's); one second after the cut nothing may come.
				during := 0
				for _, a := range rec.snapshot() {
					if a.at.After(cut.Add(time.Second)) && a.at.Before(healed) {
						during++
					}
				}
				if during > 0 {
					return healed, fmt.Errorf("%d labels arrived during a %v partition, from its second second on: the cable was not out", during, d)
				}
				t.Logf("host: partition of %v from %s to %s", d, cut.Format("15:04:05.000"), healed.Format("15:04:05.000"))
				return healed, nil
			}
			// Shorter than the keep-alive: the connection should survive, TCP retransmitting.
			healed, err := partition(partitionShort)
			if err != nil {
				return err
			}
			d, err := rec.firstAfter(ctx, healed)
			if err != nil {
				return err
			}
			if _, err := reports.waitMetric(ctx, metricOutbox, func(v float64) bool { return v <= 8 }); err != nil {
				return err
			}
			c1, err := reports.get(ctx, time.Now(), metricConnects)
			if err != nil {
				return err
			}
			if shortDr, err = reports.get(ctx, time.Now(), metricDropped); err != nil {
				return err
			}
			rows = append(rows, fmt.Sprintf("partition of %v (keep-alive %v): first label %v after the heal; connections made %v -> %v; dropped %v",
				partitionShort, partitionKeepAlive, d.Round(time.Millisecond), c0, c1, shortDr))
			time.Sleep(3 * time.Second)
			// Longer than keep-alive + ping timeout and than the outbox: a reconnection, drops.
			healed, err = partition(partitionLong)
			if err != nil {
				return err
			}
			d, err = rec.firstAfter(ctx, healed)
			if err != nil {
				return err
			}
			// The guest's reports lag (its CPU is emulated): wait for the outbox to drain.
			if _, err := reports.waitMetric(ctx, metricOutbox, func(v float64) bool { return v <= 8 }); err != nil {
				return err
			}
			c2, err := reports.get(ctx, time.Now(), metricConnects)
			if err != nil {
				return err
			}
			rows = append(rows, fmt.Sprintf("partition of %v: first label %v after the heal (the reconnection and its first PUBLISH); connections made %v -> %v",
				partitionLong, d.Round(time.Millisecond), c1, c2))
			if d > 15*time.Second {
				return fmt.Errorf("the first label after a %v partition arrived %v after the heal; want well under 15 s", partitionLong, d)
			}
			if c2 <= c1 {
				return fmt.Errorf("connections made %v before and %v after a %v partition: want a reconnection", c1, c2, partitionLong)
			}
			// The end: pause the daemon over MQTT (a command on its set topic), wait until the
			// frames it classified, each published, stop changing and the outbox is empty, then
			// tell the guest to end Run. However fast the emulated guest ran, the count is exact.
			c := paho.NewClient(paho.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("pause-%d", os.Getpid())))
			if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				return fmt.Errorf("pausing: %v", tok.Error())
			}
			tok := c.Publish("edgeinfer/"+partitionDevice+"/set", 1, false, `{"command":"pause"}`)
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				return fmt.Errorf("pausing: %v", tok.Error())
			}
			c.Disconnect(100)
			var last map[string]float64
			for stable := 0; stable < 3; {
				prev := frames
				if _, err := reports.get(ctx, time.Now().Add(time.Second), metricFrames); err != nil {
					return err
				}
				reports.mu.Lock()
				last = reports.metrics
				reports.mu.Unlock()
				frames = last[metricFrames]
				if frames == prev && last[metricOutbox] == 0 {
					stable++
				} else {
					stable = 0
				}
			}
			reports.mu.Lock()
			reports.stop = true
			reports.mu.Unlock()
			if err := vm.WaitEvent(ctx, "stream-ended"); err != nil {
				return err
			}
			dropped = last[metricDropped]
			rows = append(rows, fmt.Sprintf("guest /metrics at the end: delivered %v, dropped (outbox_full) %v, retried %v, connections %v",
				last[metricDelivered], last[metricDropped], last[metricRetried], last[metricConnects]))
			return nil
		},
	}, guestPartition)
	if vmtest.InGuest() {
		return
	}
	// Run returned nil in the guest: the outbox was delivered before it ended. The last states
	// may still be on their way from the broker.
	var r seqCount
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []uint64
		for _, a := range rec.snapshot() {
			got = append(got, a.seq)
		}
		r = analyseSparse(got)
		if float64(r.unique)+dropped >= frames || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, row := range rows {
		t.Log(row)
	}
	lost := frames - float64(r.unique)
	t.Logf("%v states published, %d received (%d unique): lost %v, counted as dropped %v; duplicates %d, out of order %d",
		frames, r.received, r.unique, lost, dropped, r.dups, r.outOfOrder)
	if frames == 0 || lost != dropped {
		t.Errorf("lost %v states, /metrics counted %v dropped from the full outbox: want every loss counted", lost, dropped)
	}
	if shortDr != 0 {
		t.Errorf("%v states dropped in a %v partition (outbox %d): want none", shortDr, partitionShort, partitionOutbox)
	}
	if dropped == 0 {
		t.Errorf("no state dropped in a %v partition with an outbox of %d: the test did not overflow it", partitionLong, partitionOutbox)
	}
	if r.outOfOrder != 0 {
		t.Errorf("%d states out of order", r.outOfOrder)
	}
}

// seqCount is what a subscriber saw of a stream whose seqs increase but need not be consecutive
// (the pipeline's seq is the source's frame number: frames the model had no time for are skipped).
type seqCount struct{ received, unique, dups, outOfOrder int }

func analyseSparse(got []uint64) seqCount {
	r := seqCount{received: len(got)}
	seen := map[uint64]bool{}
	var maxFirst uint64
	for _, s := range got {
		if seen[s] {
			r.dups++
			continue
		}
		seen[s] = true
		if s < maxFirst {
			r.outOfOrder++
		}
		maxFirst = max(maxFirst, s)
	}
	r.unique = len(seen)
	return r
}

// guestPartition runs the daemon and posts its /metrics to the host every 200 ms (the posts made
// while the cable is out fail, and are not retried) until the host answers "stop".
func guestPartition(t *testing.T) {
	dir := t.TempDir()
	mp, lp := filepath.Join(dir, "model.tflite"), filepath.Join(dir, "labels.txt")
	download(t, os.Getenv("E2E_FILES")+"model.tflite", mp)
	download(t, os.Getenv("E2E_FILES")+"labels.txt", lp)
	b, err := os.ReadFile(lp)
	if err != nil {
		t.Fatal(err)
	}
	labels := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const listen = "127.0.0.1:9108"
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=160x120&fps=5", Listen: listen,
		Device: partitionDevice, Heartbeat: time.Millisecond, DrainTimeout: 30 * time.Second,
		MQTT: MQTT{Broker: os.Getenv("E2E_BROKER"), Outbox: partitionOutbox, KeepAlive: partitionKeepAlive, NoDiscovery: true}}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- Run(ctx, cfg, log) }()
	client := &http.Client{Timeout: time.Second}
	streaming := false
	for ended := false; !ended; {
		select {
		case err = <-done:
			ended = true
		case <-time.After(200 * time.Millisecond):
		}
		if ended {
			break
		}
		m := tryGet("http://" + listen + "/metrics")
		if m == "" {
			continue
		}
		if !streaming && strings.Contains(m, "\n"+metricDelivered+" ") && !strings.Contains(m, "\n"+metricDelivered+" 0\n") {
			streaming = true
			vmtest.Event("streaming")
		}
		if resp, err := client.Post(os.Getenv("E2E_REPORT"), "text/plain", strings.NewReader(m)); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "stop" {
				cancel() // Run drains the outbox and returns
			}
		}
	}
	vmtest.Event("stream-ended")
	l := logs.String()
	for _, line := range strings.Split(l, "\n") {
		if strings.Contains(line, "mqtt") {
			t.Log(line)
		}
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if a, s := strings.Count(l, "outbox is full"), strings.Count(l, "outbox was full"); a != 1 || s != 1 {
		t.Errorf("%d warnings and %d summaries of drops; want 1 and 1", a, s)
	}
}

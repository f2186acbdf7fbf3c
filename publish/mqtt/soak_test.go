package mqtt

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSoakFaults streams labels at 30 per second while the broker is stopped (SIGTERM, restarted
// after the outage), hung (SIGSTOP, then SIGCONT) and finally stopped for longer than the
// outbox holds. It reports, by seq, what the subscriber received: loss, duplicates, order, and
// the reconnection time after each fault. The bounded form (the default) has one short fault of
// each kind; EDGEINFER_MQTT_SOAK=1 runs the long form: three 10 s stops and three 10 s
// hangs in a 90 s stream, then a 40 s outage with the default outbox of 1000 (about 200 labels
// beyond it), with the default keep-alive (10 s).
func TestSoakFaults(t *testing.T) {
	long := os.Getenv("EDGEINFER_MQTT_SOAK") == "1"
	type fault struct {
		kind string // "stop" or "hang"
		down time.Duration
	}
	var (
		faults          []fault
		gap             time.Duration // streaming between faults
		overflow        time.Duration // the final outage
		outbox          int
		keepAlive, ping time.Duration
	)
	if long {
		faults = []fault{{"stop", 10 * time.Second}, {"hang", 10 * time.Second}, {"stop", 10 * time.Second},
			{"hang", 10 * time.Second}, {"stop", 10 * time.Second}, {"hang", 10 * time.Second}}
		gap, overflow, outbox = 5*time.Second, 40*time.Second, 1000
	} else {
		faults = []fault{{"stop", 2 * time.Second}, {"hang", 4 * time.Second}}
		gap, overflow, outbox = time.Second, 10*time.Second, 200
		keepAlive, ping = 2*time.Second, time.Second
	}
	inflight := 0 // the default window
	if v := os.Getenv("EDGEINFER_MQTT_SOAK_INFLIGHT"); v != "" {
		var err error
		if inflight, err = strconv.Atoi(v); err != nil {
			t.Fatalf("EDGEINFER_MQTT_SOAK_INFLIGHT=%q: %v", v, err)
		}
	}
	b := startBroker(t, brokerOpts{persist: true})
	log, logs := testLogger()
	session := os.Getenv("EDGEINFER_MQTT_SOAK_SESSION") == "1"
	p := open(t, Config{Broker: b.url(), Device: "soak", Logger: log, Outbox: outbox, KeepAlive: keepAlive, PingTimeout: ping,
		Inflight: inflight, Session: session})
	subQoS := byte(1)
	if os.Getenv("EDGEINFER_MQTT_SOAK_SUBQOS") == "2" {
		subQoS = 2
	}
	w := newWatcherQoS(t, b.url(), "soak-watcher", true, subQoS, "edgeinfer/soak/state")
	eventually(t, 5*time.Second, "publisher connected", func() bool { return p.Stats().Connects == 1 })
	end := stream(t, p, time.Second/30)

	var rows []string
	var worst time.Duration
	measure := func(what string, back time.Time, connectsBefore uint64) {
		if p.Stats().Connects == connectsBefore && p.Stats().Connected {
			rows = append(rows, fmt.Sprintf("%s: connection kept (shorter than keep-alive + ping timeout)", what))
			return
		}
		d := reconnectTime(t, p, connectsBefore+1, back)
		worst = max(worst, d)
		rows = append(rows, fmt.Sprintf("%s: reconnected %v after the broker was back", what, d.Round(time.Millisecond)))
	}
	for i, f := range append(faults, fault{"stop", overflow}) {
		time.Sleep(gap)
		what := fmt.Sprintf("fault %d: %s for %v", i+1, f.kind, f.down)
		c := p.Stats().Connects
		if f.kind == "hang" {
			b.pause()
			time.Sleep(f.down)
			b.resume()
			measure(what, time.Now(), c)
			continue
		}
		b.stop()
		time.Sleep(f.down)
		b.restart()
		measure(what, b.upAt, c)
	}
	time.Sleep(gap)
	n := end()
	eventually(t, 60*time.Second, "outbox delivered", func() bool { return p.Stats().Queued == 0 })
	st := p.Stats()
	var r seqReport
	eventually(t, 30*time.Second, "all kept labels received", func() bool {
		r = analyse(seqs(t, w, "edgeinfer/soak/state"), n)
		return uint64(r.lost) <= st.Dropped
	})
	time.Sleep(time.Second) // stragglers, duplicates
	r = analyseArrivals(arrivals(t, w, "edgeinfer/soak/state"), n)
	for _, row := range rows {
		t.Log(row)
	}
	t.Logf("%d labels published: %v; outbox %d, in-flight window %d, session (QoS 2) %v, subscriber QoS %d, dropped (counted) %d, retried %d, connects %d",
		n, r, outbox, p.cfg.Inflight, session, subQoS, st.Dropped, st.Retried, st.Connects)
	if session && r.publisherDups != 0 {
		t.Errorf("%d duplicates from the publisher with a persistent QoS 2 session; want 0", r.publisherDups)
	}
	if uint64(r.publisherDups) > st.Retried {
		t.Errorf("%d duplicates sent again by the publisher, but only %d messages counted as retried", r.publisherDups, st.Retried)
	}
	if uint64(r.lost) != st.Dropped || st.Dropped == 0 {
		t.Errorf("lost %d, counted as dropped %d: want every loss counted, and some (the last outage outlasts the outbox)", r.lost, st.Dropped)
	}
	if r.outOfOrder != 0 {
		t.Errorf("%d labels out of order", r.outOfOrder)
	}
	if worst > 1500*time.Millisecond {
		t.Errorf("slowest reconnection %v after the broker was back; want <= 1 s (1.5 s allowed)", worst)
	}
	l := logs.String()
	if os.Getenv("EDGEINFER_MQTT_SOAK_LOG") == "1" {
		t.Logf("log:\n%s", l)
	}
	if a, s := strings.Count(l, "outbox is full"), strings.Count(l, "outbox was full"); a != 1 || s != 1 {
		t.Errorf("%d warnings and %d summaries of drops; want 1 and 1", a, s)
	}
}

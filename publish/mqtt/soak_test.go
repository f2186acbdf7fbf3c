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
// outbox holds. It reports, by seq, what the subscribers received: loss, duplicates, order, and
// the reconnection time after each fault. The bounded form (the default) has one short fault of
// each kind; EDGEINFER_MQTT_SOAK=1 runs the long form: three 10 s stops and three 10 s
// hangs in a 90 s stream, then a 40 s outage with the default outbox of 1000 (about 200 labels
// beyond it), with the default keep-alive (10 s).
//
// It runs twice: "qos1", the default Publisher (QoS 1, clean session), and "session", with
// Config.Session (QoS 2, persistent session); EDGEINFER_MQTT_SOAK_SESSION=0 or =1 runs only the
// one. Both are watched by a paho.mqtt.golang subscriber with a persistent session (at QoS 1, or
// at QoS 2 in "session"; EDGEINFER_MQTT_SOAK_SUBQOS=1|2 chooses), whose duplicates are reported
// by origin, not failed on: paho v1.5.1 passes a QoS 2 message the broker sends again on a
// second time. "session" is also watched by mosquitto_sub at QoS 2 with a persistent session
// (exactSub, an exactly-once subscriber), and fails on any duplicate it receives.
func TestSoakFaults(t *testing.T) {
	switch os.Getenv("EDGEINFER_MQTT_SOAK_SESSION") {
	case "0":
		soakFaults(t, false)
	case "1":
		soakFaults(t, true)
	default:
		t.Run("qos1", func(t *testing.T) { soakFaults(t, false) })
		t.Run("session", func(t *testing.T) { soakFaults(t, true) })
	}
}

func soakFaults(t *testing.T, session bool) {
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
	p := open(t, Config{Broker: b.url(), Device: "soak", Logger: log, Outbox: outbox, KeepAlive: keepAlive, PingTimeout: ping,
		Inflight: inflight, Session: session})
	subQoS := byte(1)
	if session {
		subQoS = 2
	}
	switch os.Getenv("EDGEINFER_MQTT_SOAK_SUBQOS") {
	case "1":
		subQoS = 1
	case "2":
		subQoS = 2
	}
	const topic = "edgeinfer/soak/state"
	w := newWatcherQoS(t, b.url(), "soak-watcher", true, subQoS, topic)
	var exact *exactSub
	if session {
		exact = newExactSub(t, b.port, "soak-exact", topic)
	}
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
		r = analyse(seqs(t, w, topic), n)
		if exact != nil && uint64(analyse(exact.seqs(t, topic), n).lost) > st.Dropped {
			return false
		}
		return uint64(r.lost) <= st.Dropped
	})
	time.Sleep(time.Second) // stragglers, duplicates
	r = analyseArrivals(arrivals(t, w, topic), n)
	for _, row := range rows {
		t.Log(row)
	}
	t.Logf("%d labels published; paho subscriber (QoS %d): %v; outbox %d, in-flight window %d, session (QoS 2) %v, dropped (counted) %d, retried %d, connects %d",
		n, subQoS, r, outbox, p.cfg.Inflight, session, st.Dropped, st.Retried, st.Connects)
	if exact != nil {
		exact.stop()
		e := analyse(exact.seqs(t, topic), n)
		redelivered, publishes, connects := exact.trace()
		t.Logf("mosquitto_sub (QoS 2, persistent session): %v; %d PUBLISH packets from the broker, %d of them sent again (DUP), %d connections",
			e, publishes, redelivered, connects)
		if e.dups != 0 {
			t.Errorf("mosquitto_sub received %d duplicates with the publisher in a persistent QoS 2 session; want 0", e.dups)
		}
		if uint64(e.lost) != st.Dropped {
			t.Errorf("mosquitto_sub: lost %d, counted as dropped %d: want every loss counted", e.lost, st.Dropped)
		}
		if e.outOfOrder != 0 {
			t.Errorf("mosquitto_sub: %d labels out of order", e.outOfOrder)
		}
		if t.Failed() {
			seen := map[uint64]bool{}
			for i, s := range exact.seqs(t, topic) {
				if seen[s] {
					t.Logf("mosquitto_sub: seq %d again at arrival %d", s, i)
				}
				seen[s] = true
			}
		}
	}
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

package mqtt

import (
	"fmt"
	"strings"
	"testing"
)

// contents lists the waiting messages as "topic=payload".
func contents(o *outbox) string {
	var s []string
	for {
		m, ok := o.pop()
		if !ok {
			return strings.Join(s, " ")
		}
		s = append(s, m.topic+"="+string(m.payload))
	}
}

func state(i int) message { return message{topic: "s", payload: fmt.Appendf(nil, "%d", i), class: -1} }

func class(c int, v string) message {
	return message{topic: fmt.Sprintf("c%d", c), payload: []byte(v), retained: true, class: c}
}

func TestOutboxFIFO(t *testing.T) {
	o := newOutbox(4)
	for i := range 3 {
		o.push(state(i))
	}
	if got, want := contents(o), "s=0 s=1 s=2"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	// Wrap around the ring several times.
	for i := range 10 {
		o.push(state(i))
		o.push(state(i + 100))
		if m, _ := o.pop(); string(m.payload) != fmt.Sprint(i) {
			t.Fatalf("round %d: popped %q", i, m.payload)
		}
		if m, _ := o.pop(); string(m.payload) != fmt.Sprint(i+100) {
			t.Fatalf("round %d: popped %q", i, m.payload)
		}
	}
	if n, d := o.len(); n != 0 || d != 0 {
		t.Errorf("len %d, dropped %d", n, d)
	}
}

func TestOutboxDropsOldestState(t *testing.T) {
	o := newOutbox(4)
	o.push(class(0, "ON"))
	for i := range 5 {
		o.push(state(i))
	}
	// Full at state 2: state 0 went, then state 1; the class message stays.
	if n, d := o.len(); n != 4 || d != 2 {
		t.Errorf("len %d, dropped %d; want 4, 2", n, d)
	}
	if got, want := contents(o), "c0=ON s=2 s=3 s=4"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestOutboxCoalescesClasses(t *testing.T) {
	o := newOutbox(3)
	o.push(class(0, "ON"))
	o.push(state(1))
	o.push(class(1, "ON"))
	o.push(class(0, "OFF")) // replaces c0=ON in place
	if got, want := contents(o), "c0=OFF s=1 c1=ON"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	// Only class messages and full: the oldest goes.
	o.push(class(0, "ON"))
	o.push(class(1, "ON"))
	o.push(class(2, "ON"))
	o.push(class(3, "ON"))
	if got, want := contents(o), "c1=ON c2=ON c3=ON"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestOutboxInflightRewind: messages stay until acknowledged; a rewind sends the unacknowledged
// ones again in order; in-flight messages are never dropped or coalesced.
func TestOutboxInflightRewind(t *testing.T) {
	o := newOutbox(4)
	for i := range 3 {
		o.push(state(i))
	}
	o.push(class(0, "ON"))
	var ids []uint64
	for range 3 {
		m, ok := o.next(3)
		if !ok {
			t.Fatal("next: nothing")
		}
		ids = append(ids, m.id)
	}
	if _, ok := o.next(3); ok {
		t.Fatal("next beyond the window")
	}
	if !o.ack(ids[0]) || o.ack(ids[0]) {
		t.Fatal("ack: want true once")
	}
	// Full at state 4: the oldest waiting state message (3) goes, not those in flight (1, 2),
	// nor the class message.
	o.push(state(3))
	o.push(state(4))
	if n, inflight, d, _ := o.counts(); n != 4 || inflight != 2 || d != 1 {
		t.Errorf("n %d, in flight %d, dropped %d; want 4, 2, 1", n, inflight, d)
	}
	o.rewind()
	var got []string
	for {
		m, ok := o.next(10)
		if !ok {
			break
		}
		got = append(got, string(m.payload))
	}
	if g, want := strings.Join(got, " "), "1 2 ON 4"; g != want {
		t.Errorf("after rewind %q, want %q", g, want)
	}
	if _, _, _, r := o.counts(); r != 2 {
		t.Errorf("retried %d, want 2", r)
	}
	// All in flight and full: the new message is the one dropped.
	o.push(state(5))
	if got, want := contents(o), "s=1 s=2 c0=ON s=4"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	o.push(class(1, "ON"))
	if !o.pushFront(class(2, "OFF")) {
		t.Fatal("pushFront refused")
	}
	if got, want := contents(o), "c2=OFF c1=ON"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

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

func TestOutboxPushFront(t *testing.T) {
	o := newOutbox(3)
	o.push(state(1))
	o.pushFront(state(0))
	o.push(class(0, "OFF"))
	o.pushFront(class(0, "ON")) // older than the waiting OFF: discarded
	if got, want := contents(o), "s=0 s=1 c0=OFF"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	o.push(state(1))
	o.push(state(2))
	o.push(state(3))
	o.pushFront(state(0)) // full: it is the oldest state message, so it is dropped
	o.pushFront(class(5, "ON"))
	if got, want := contents(o), "c5=ON s=2 s=3"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if _, d := o.len(); d != 2 {
		t.Errorf("dropped %d, want 2", d)
	}
}

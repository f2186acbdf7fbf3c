package mqtt

import "sync"

// message is one publication waiting in the outbox.
type message struct {
	topic    string
	payload  []byte
	retained bool
	class    int // index of the watched class for a class state message; -1 for anything else
}

// outbox is the bounded FIFO of messages waiting for the broker. When it is full the oldest state
// message (class < 0) goes, or, if it holds only class messages, the oldest message. A class
// message replaces the one of the same class still waiting (only the newest state of a class
// matters: it is retained), so class messages never crowd out more than one slot per class.
type outbox struct {
	mu      sync.Mutex
	buf     []message // ring
	head, n int
	dropped uint64
	ready   chan struct{} // gets a token when a message is added
}

func newOutbox(capacity int) *outbox {
	return &outbox{buf: make([]message, capacity), ready: make(chan struct{}, 1)}
}

// at returns the i-th waiting message (0 is the oldest).
func (o *outbox) at(i int) *message { return &o.buf[(o.head+i)%len(o.buf)] }

// push adds m at the tail.
func (o *outbox) push(m message) {
	o.mu.Lock()
	if !o.coalesce(m) {
		o.makeRoom()
		*o.at(o.n) = m
		o.n++
	}
	o.mu.Unlock()
	o.signal()
}

// pushFront puts back at the head a message whose publication failed, unless a newer message of
// the same class is already waiting, or it is a state message and the outbox is full (then it is
// the oldest state message and is dropped).
func (o *outbox) pushFront(m message) {
	o.mu.Lock()
	defer o.signal()
	defer o.mu.Unlock()
	if m.class >= 0 {
		for i := range o.n {
			if o.at(i).class == m.class {
				return
			}
		}
	}
	if o.n == len(o.buf) {
		if m.class < 0 {
			o.dropped++
			return
		}
		o.makeRoom()
	}
	o.head = (o.head - 1 + len(o.buf)) % len(o.buf)
	o.buf[o.head] = m
	o.n++
}

// coalesce replaces the waiting message of m's class with m.
func (o *outbox) coalesce(m message) bool {
	if m.class < 0 {
		return false
	}
	for i := range o.n {
		if p := o.at(i); p.class == m.class {
			*p = m
			return true
		}
	}
	return false
}

// makeRoom drops a message if the outbox is full.
func (o *outbox) makeRoom() {
	if o.n < len(o.buf) {
		return
	}
	victim := 0
	for i := range o.n {
		if o.at(i).class < 0 {
			victim = i
			break
		}
	}
	for i := victim; i > 0; i-- { // close the gap from the head side
		*o.at(i) = *o.at(i - 1)
	}
	*o.at(0) = message{}
	o.head = (o.head + 1) % len(o.buf)
	o.n--
	o.dropped++
}

// pop takes the oldest message.
func (o *outbox) pop() (message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == 0 {
		return message{}, false
	}
	m := *o.at(0)
	*o.at(0) = message{}
	o.head = (o.head + 1) % len(o.buf)
	o.n--
	return m, true
}

// len returns the number of waiting messages and of messages dropped so far.
func (o *outbox) len() (waiting int, dropped uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n, o.dropped
}

func (o *outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

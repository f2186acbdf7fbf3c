package mqtt

import "sync"

// message is one publication waiting in the outbox.
type message struct {
	topic    string
	payload  []byte
	retained bool
	class    int    // index of the watched class for a class state message; -1 for anything else
	id       uint64 // set by the outbox: identifies the message for ack
	tries    uint32 // times handed to the client
}

// outbox is the single ordered queue of messages on their way to the broker: it holds them until
// the broker acknowledges them. Its first sent messages have been handed to the client on the
// current connection (they are in flight); the others wait. After a lost connection rewind makes
// every message wait again, so that they are sent again in order, from the oldest.
//
// When it is full the oldest waiting state message (class < 0) goes, or, if only class messages
// wait, the oldest waiting message; messages in flight are never dropped (they may have arrived),
// so when all are in flight the new message is dropped. A class message replaces the waiting one
// of the same class (only the newest state of a class matters: it is retained), so class
// messages never crowd out more than one waiting slot per class.
type outbox struct {
	mu      sync.Mutex
	buf     []message // ring
	head, n int
	sent    int    // messages at the head handed to the client on this connection
	nextID  uint64 // id of the next message pushed
	dropped uint64 // messages dropped because the outbox was full
	retried uint64 // messages handed to the client more than once
	ready   chan struct{}
}

func newOutbox(capacity int) *outbox {
	return &outbox{buf: make([]message, capacity), ready: make(chan struct{}, 1), nextID: 1}
}

// at returns the i-th message (0 is the oldest).
func (o *outbox) at(i int) *message { return &o.buf[(o.head+i)%len(o.buf)] }

// push adds m at the tail. It reports whether a message was dropped to make room.
func (o *outbox) push(m message) (dropped bool) {
	o.mu.Lock()
	m.id, m.tries = o.nextID, 0
	o.nextID++
	if !o.coalesce(m) {
		if o.n == len(o.buf) {
			dropped = true
			o.dropped++
			if !o.makeRoom() {
				o.mu.Unlock()
				return true // everything is in flight: the new message goes
			}
		}
		*o.at(o.n) = m
		o.n++
	}
	o.mu.Unlock()
	o.signal()
	return dropped
}

// pushFront puts m at the head, before everything else, unless the outbox is full. It is meant
// for a connection's first messages, before any is in flight.
func (o *outbox) pushFront(m message) bool {
	o.mu.Lock()
	defer o.signal()
	defer o.mu.Unlock()
	if o.n == len(o.buf) || o.sent > 0 {
		return false
	}
	m.id = o.nextID
	o.nextID++
	o.head = (o.head - 1 + len(o.buf)) % len(o.buf)
	o.buf[o.head] = m
	o.n++
	return true
}

// hasClass reports whether a message of class c is in the outbox, waiting or in flight.
func (o *outbox) hasClass(c int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.n {
		if o.at(i).class == c {
			return true
		}
	}
	return false
}

// coalesce replaces the waiting message of m's class with m.
func (o *outbox) coalesce(m message) bool {
	if m.class < 0 {
		return false
	}
	for i := o.sent; i < o.n; i++ {
		if p := o.at(i); p.class == m.class {
			*p = m
			return true
		}
	}
	return false
}

// makeRoom drops the oldest waiting state message, or the oldest waiting message; false when all
// are in flight.
func (o *outbox) makeRoom() bool {
	if o.sent == o.n {
		return false
	}
	victim := o.sent
	for i := o.sent; i < o.n; i++ {
		if o.at(i).class < 0 {
			victim = i
			break
		}
	}
	o.remove(victim)
	return true
}

// remove takes out the i-th message, closing the gap from the nearer end.
func (o *outbox) remove(i int) {
	if i < o.n/2 {
		for j := i; j > 0; j-- {
			*o.at(j) = *o.at(j - 1)
		}
		*o.at(0) = message{}
		o.head = (o.head + 1) % len(o.buf)
	} else {
		for j := i; j < o.n-1; j++ {
			*o.at(j) = *o.at(j + 1)
		}
		*o.at(o.n - 1) = message{}
	}
	o.n--
	if i < o.sent {
		o.sent--
	}
}

// next hands over the oldest waiting message, which is then in flight, when fewer than window
// are in flight.
func (o *outbox) next(window int) (message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sent >= o.n || o.sent >= window {
		return message{}, false
	}
	p := o.at(o.sent)
	if p.tries > 0 {
		o.retried++
	}
	p.tries++
	o.sent++
	return *p, true
}

// unsend makes the last message handed over wait again, if it is id: the client did not take it
// (Config.Session).
func (o *outbox) unsend(id uint64) {
	o.mu.Lock()
	if o.sent > 0 && o.at(o.sent-1).id == id {
		o.sent--
		o.at(o.sent).tries--
	}
	o.mu.Unlock()
}

// ack removes the message with id, acknowledged by the broker. It reports whether it was there
// (a message sent twice is acknowledged twice).
func (o *outbox) ack(id uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.n {
		if o.at(i).id == id {
			o.remove(i)
			return true
		}
	}
	return false
}

// rewind makes the messages in flight wait again: the connection that carried them is gone, or
// a publication failed, so they will be sent again, oldest first.
func (o *outbox) rewind() {
	o.mu.Lock()
	o.sent = 0
	o.mu.Unlock()
	o.signal()
}

// pop takes the oldest message (tests).
func (o *outbox) pop() (message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == 0 {
		return message{}, false
	}
	m := *o.at(0)
	o.remove(0)
	return m, true
}

// counts returns the number of messages in the outbox (waiting and in flight), of those in
// flight, and of those dropped and retried so far.
func (o *outbox) counts() (n, inflight int, dropped, retried uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n, o.sent, o.dropped, o.retried
}

// len returns the number of messages in the outbox and of messages dropped so far.
func (o *outbox) len() (n int, dropped uint64) {
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

package mqtt

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// sessionStore is paho's store of unacknowledged packets for Config.Session (QoS 2, persistent
// session). paho keeps an outgoing PUBLISH there until the broker's PUBREC, then the PUBREL until
// PUBCOMP, and after a reconnection (client.resume) sends them again with their packet
// identifiers, which is what lets a broker that kept the session recognise a PUBLISH it already
// has: exactly once from here to the broker. It differs from paho's MemoryStore in three ways:
//
//   - Put and Get copy PUBLISH packets, so that resume setting the DUP flag on the packet it got
//     never writes a packet the sender goroutine may be encoding (the data race of
//     eclipse-paho/paho.mqtt.golang#703: MemoryStore hands out the very packet Publish queued);
//   - All lists the keys in the order the packets were first stored (MemoryStore's is a map's:
//     resume would send them out of order);
//   - it keeps the PUBREL, not the PUBLISH, once the broker has answered PUBREC (pubrec, told by
//     pubrecConn): paho v1.5.1 never stores the PUBREL it sends, so after a lost connection it
//     would send the PUBLISH again, and a broker that had meanwhile been given the PUBREL, and
//     passed the message on and forgotten its identifier, would take it as a new message — a
//     duplicate, seen in TestSessionNoPublisherDuplicates when a hung broker resumed;
//   - it tells the outbox when a message has been acknowledged: the Publisher's QoS 2 packets
//     are bound to their outbox message when Publish stores them (expect), and the PUBCOMP that
//     deletes the key acknowledges that message. paho's tokens cannot say so: resume completes
//     the tokens of the packets it sends again, without an error, before the broker has seen them.
type sessionStore struct {
	mu      sync.Mutex
	m       map[string]*storedPacket
	next    uint64 // order of the next new key
	expect  uint64 // outbox message id of the next QoS 2 PUBLISH stored; 0: none expected
	resent  uint64 // bound PUBLISH packets handed out again (to resume)
	onAcked func(msg uint64)
}

type storedPacket struct {
	order uint64
	pkt   packets.ControlPacket
	msg   uint64 // the outbox message it carries; 0 for the Publisher's other packets
}

var _ paho.Store = (*sessionStore)(nil)

func newSessionStore(onAcked func(msg uint64)) *sessionStore {
	return &sessionStore{m: map[string]*storedPacket{}, onAcked: onAcked}
}

// Open and Close do nothing: the packets outlive a connection (paho opens the store at every
// Connect and closes it after a failed one).
func (s *sessionStore) Open()  {}
func (s *sessionStore) Close() {}

func copyPublish(p *packets.PublishPacket) *packets.PublishPacket {
	c := *p
	return &c // the payload and topic are never modified once handed to Publish
}

func (s *sessionStore) Put(key string, pkt packets.ControlPacket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pub, ok := pkt.(*packets.PublishPacket); ok {
		e := &storedPacket{order: s.next, pkt: copyPublish(pub)}
		s.next++
		if pub.Qos == 2 && s.expect != 0 {
			e.msg, s.expect = s.expect, 0
		}
		s.m[key] = e
		return
	}
	if e, ok := s.m[key]; ok { // the PUBREL that replaces a PUBLISH keeps its place and message
		e.pkt = pkt
		return
	}
	s.m[key] = &storedPacket{order: s.next, pkt: pkt}
	s.next++
}

func (s *sessionStore) Get(key string) packets.ControlPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil
	}
	if pub, ok := e.pkt.(*packets.PublishPacket); ok {
		if e.msg != 0 {
			s.resent++
		}
		return copyPublish(pub)
	}
	return e.pkt
}

func (s *sessionStore) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(s.m[a].order, s.m[b].order) })
	return keys
}

func (s *sessionStore) Del(key string) {
	s.mu.Lock()
	e := s.m[key]
	delete(s.m, key)
	s.mu.Unlock()
	if e != nil && e.msg != 0 && s.onAcked != nil {
		s.onAcked(e.msg)
	}
}

// Reset forgets everything (paho calls it only for a clean session, which Config.Session is not).
func (s *sessionStore) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.m)
}

// expectMsg binds the next QoS 2 PUBLISH stored to outbox message id; taken reports afterwards
// whether Publish stored it (it does not when the client is not connected).
func (s *sessionStore) expectMsg(id uint64) {
	s.mu.Lock()
	s.expect = id
	s.mu.Unlock()
}

func (s *sessionStore) taken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.expect == 0
	s.expect = 0
	return ok
}

// releasing returns how many outbox messages wait for their PUBCOMP (the broker has them and was
// sent, or is about to be sent, the PUBREL).
func (s *sessionStore) releasing() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.m {
		if _, ok := e.pkt.(*packets.PubrelPacket); ok && e.msg != 0 {
			n++
		}
	}
	return n
}

// resends returns how many bound PUBLISH packets resume sent again.
func (s *sessionStore) resends() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resent
}

// pubrec records that the broker answered PUBREC for packet id: from now on the PUBREL is what is
// sent again after a lost connection (MQTT 3.1.1, 4.3.3: the PUBLISH must not be sent again).
func (s *sessionStore) pubrec(id uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m["o."+strconv.Itoa(int(id))]
	if !ok {
		return
	}
	if pub, ok := e.pkt.(*packets.PublishPacket); ok && pub.Qos == 2 {
		rel := packets.NewControlPacket(packets.Pubrel).(*packets.PubrelPacket)
		rel.MessageID = id
		e.pkt = rel
	}
}

// dialSession opens the connection for Config.Session (paho's CustomOpenConnectionFn): TCP or
// TLS as paho would, by brokerSchemes (Config.Session refuses ws:// and wss://), wrapped in a
// pubrecConn.
func (p *Publisher) dialSession(uri *url.URL, o paho.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: o.ConnectTimeout}
	var (
		conn net.Conn
		err  error
	)
	switch sch, ok := brokerSchemes[strings.ToLower(uri.Scheme)]; {
	case !ok || sch.websocket:
		return nil, fmt.Errorf("mqtt: session: scheme %q not supported (tcp:// or ssl://)", uri.Scheme)
	case sch.tls:
		conn, err = tls.DialWithDialer(d, "tcp", uri.Host, o.TLSConfig)
	default:
		conn, err = d.Dial("tcp", uri.Host)
	}
	if err != nil {
		return nil, err
	}
	return &pubrecConn{Conn: conn, onPubrec: p.store.pubrec}, nil
}

// pubrecConn passes the broker's bytes on to paho unchanged and tells onPubrec the packet
// identifier of every PUBREC among them. It follows the MQTT framing (fixed header, remaining
// length, body) across reads; a length paho would refuse stops the watching, not the reading.
type pubrecConn struct {
	net.Conn
	onPubrec func(id uint16)

	state     int // 0: first byte of a packet; 1: remaining length; 2: body; -1: gave up
	typ       byte
	remaining int
	shift     uint
	id        [2]byte
	idN       int
}

func (c *pubrecConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.scan(b[:n])
	return n, err
}

const packetPubrec = 5 // MQTT 3.1.1, 2.2.1: control packet type of PUBREC

func (c *pubrecConn) scan(b []byte) {
	for len(b) > 0 {
		switch c.state {
		case -1:
			return
		case 0:
			c.typ, c.remaining, c.shift, c.idN = b[0]>>4, 0, 0, 0
			c.state = 1
			b = b[1:]
		case 1:
			v := b[0]
			b = b[1:]
			c.remaining |= int(v&0x7f) << c.shift
			c.shift += 7
			switch {
			case v&0x80 != 0 && c.shift >= 28: // more than four length bytes (2.2.3)
				c.state = -1
			case v&0x80 != 0:
			case c.remaining == 0:
				c.state = 0
			default:
				c.state = 2
			}
		case 2:
			k := min(len(b), c.remaining)
			if c.typ == packetPubrec {
				for _, x := range b[:k] {
					if c.idN < 2 {
						c.id[c.idN] = x
						c.idN++
					}
				}
			}
			c.remaining -= k
			b = b[k:]
			if c.remaining == 0 {
				if c.typ == packetPubrec && c.idN == 2 {
					c.onPubrec(uint16(c.id[0])<<8 | uint16(c.id[1]))
				}
				c.state = 0
			}
		}
	}
}

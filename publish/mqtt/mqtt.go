package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Payloads of the availability and class topics.
const (
	Online  = "online"
	Offline = "offline"
	On      = "ON"
	Off     = "OFF"
)

// QoS is the quality of service of everything the Publisher sends and subscribes to, except with
// Config.Session: the outbox's messages then go at QoS 2 and the subscriptions at QoS 0.
const QoS = 1

var (
	// ErrClosed is returned by the methods of a closed Publisher.
	ErrClosed = errors.New("mqtt: publisher closed")
	// ErrNotAuthorized matches (errors.Is) a *ConnectError for refused credentials.
	ErrNotAuthorized = errors.New("mqtt: not authorized")
)

// ConnectError is a broker refusing the connection (a CONNACK return code other than accepted), a
// TLS certificate the client cannot accept, or a TLS URL for a plain port or the reverse
// (errors.Is(err, ErrTLSMismatch)): retrying cannot help, so Open reports it.
type ConnectError struct {
	Broker string
	Code   byte   // the CONNACK return code; 0 for a TLS error
	Err    error  // what paho or crypto/tls said
	Hint   string // what is wrong, when known (a TLS/plain mismatch)
}

func (e *ConnectError) Error() string {
	switch {
	case e.Hint != "":
		return fmt.Sprintf("mqtt: broker %s: %s (%v)", e.Broker, e.Hint, e.Err)
	case e.Code == 0:
		return fmt.Sprintf("mqtt: broker %s: TLS: %v", e.Broker, e.Err)
	case e.Code == packets.ErrRefusedBadUsernameOrPassword, e.Code == packets.ErrRefusedNotAuthorised:
		return fmt.Sprintf("mqtt: broker %s refused the connection: not authorized (CONNACK %d: %v); check the user name and password", e.Broker, e.Code, e.Err)
	default:
		return fmt.Sprintf("mqtt: broker %s refused the connection (CONNACK %d: %v)", e.Broker, e.Code, e.Err)
	}
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotAuthorized) true for refused credentials.
func (e *ConnectError) Is(target error) bool {
	return target == ErrNotAuthorized &&
		(e.Code == packets.ErrRefusedBadUsernameOrPassword || e.Code == packets.ErrRefusedNotAuthorised)
}

// Scored is a label with its score.
type Scored struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// State is one frame's result, published as JSON on edgeinfer/<device>/state:
//
//	{"label":"cat","score":0.91,"top_k":[{"label":"cat","score":0.91},{"label":"dog","score":0.05}],
//	 "timestamp":"2026-11-28T12:00:00.123Z","seq":42,"latency_ms":18.25}
//
// Scores are rounded to 4 decimals, the latency to 0.01 ms.
type State struct {
	Label   string
	Score   float64
	TopK    []Scored
	Time    time.Time     // when the frame was captured; zero means now
	Seq     uint64        // the frame's sequence number
	Latency time.Duration // from capture to decision
	// Trigger names the input that asked for this classification (a GPIO pin); empty for frames
	// classified in the ordinary course, and then left out of the JSON.
	Trigger string
	// Watched are the scores of the watched classes (Config.Classes, in their order), published
	// as "watched": {"<slug>": score, ...} for Home Assistant's score sensors; nil leaves it out.
	Watched []float64
}

type stateJSON struct {
	Label     string       `json:"label"`
	Score     float64      `json:"score"`
	TopK      []Scored     `json:"top_k"`
	Timestamp string       `json:"timestamp"`
	Seq       uint64       `json:"seq"`
	LatencyMS float64      `json:"latency_ms"`
	Trigger   string       `json:"trigger,omitempty"`
	Watched   *watchedJSON `json:"watched,omitempty"`
}

// watchedJSON encodes State.Watched as an object keyed by the classes' slugs, in class order.
type watchedJSON struct {
	slugs  []string
	scores []float64
}

// MarshalJSON writes {"slug":score,...}.
func (w *watchedJSON) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(w.scores)*24)
	b = append(b, '{')
	for i, s := range w.scores {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, w.slugs[i]...) // letters, digits and '_': nothing to escape
		b = append(b, '"', ':')
		b = strconv.AppendFloat(b, round(s, 1e4), 'f', -1, 64)
	}
	return append(b, '}'), nil
}

// Stats counts what a Publisher did.
type Stats struct {
	Queued      int    // messages in the outbox: waiting, or in flight (sent, no PUBACK yet)
	Inflight    int    // of those, messages sent on the current connection and not yet acknowledged
	Delivered   uint64 // messages the broker acknowledged
	Dropped     uint64 // messages dropped from a full outbox (state messages first)
	Retried     uint64 // messages sent again after a lost connection or a failed publication
	Undelivered uint64 // messages still in the outbox when Close gave up
	Connects    uint64 // connections made (subscriptions included)
	Discoveries uint64 // times the discovery messages were published
	Commands    uint64 // commands handed to OnCommand
	BadCommands uint64 // commands that could not be read, were too large or retained, or were dropped while OnCommand was busy
	Connected   bool   // the connection is up
}

type topics struct {
	availability, state, set, haStatus, snapshot, source, running string
	class                                                         []string
}

// pending is a message handed to paho and its token.
type pending struct {
	id   uint64
	conn uint64 // the connection it was sent on
	tok  paho.Token
}

// Publisher publishes labels to an MQTT broker. Its methods are safe for concurrent use.
type Publisher struct {
	sourceLost atomic.Bool // the camera source is lost: availability is offline (PublishSource)
	cfg        Config
	log        *slog.Logger
	client     paho.Client
	topics     topics
	out        *outbox
	store      *sessionStore // Config.Session only

	inflight  chan pending
	sendMu    sync.Mutex    // held by send while handing over a message, and by onConnect to rewind
	conn      atomic.Uint64 // the current connection's number (connects), read under sendMu
	ready     atomic.Bool   // connected and onConnect done: the outbox may flow
	connected chan struct{} // gets a token at each connection
	lost      chan error    // gets the reason when the connection is lost

	mu         sync.Mutex
	classState []string // last ON/OFF per watched class, "" before the first (OFF is published at connect)
	running    string   // last ON/OFF of PublishRunning, "" before the first (ON is published at connect)
	lastState  []byte   // last state payload
	lastSnap   []byte   // last snapshot, sent again when Home Assistant comes online

	delivered, connects, discoveries, commands, badCommands, undelivered atomic.Uint64
	connectedAt                                                          atomic.Int64  // UnixNano of the last CONNACK
	dropWarned                                                           atomic.Bool   // the outbox overflowed since the last summary
	droppedSummarised                                                    atomic.Uint64 // Dropped at the last summary

	slugs []string // Slug of each watched class

	cmds   chan Command
	closed atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

// Open checks cfg, connects to the broker and starts publishing. It returns an error for a bad
// configuration, unreadable TLS files, a broker that refuses the connection (*ConnectError;
// errors.Is(err, ErrNotAuthorized) for bad credentials), a certificate it cannot accept, a TLS
// URL for a plain port or the reverse (errors.Is(err, ErrTLSMismatch)), and ctx ending before
// the first attempt finished. A broker that cannot be reached is not an error: Open logs it and
// keeps trying in the background, at most cfg.MaxReconnectInterval apart, while messages wait in
// the outbox. Lost connections are made again the same way, and the subscriptions,
// availability, discovery and class states are published again.
func Open(ctx context.Context, cfg Config) (*Publisher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mqtt: connecting to %s: %w", cfg.Broker, err)
	}
	p := &Publisher{
		cfg:        cfg,
		log:        cfg.Logger.With("broker", cfg.Broker, "device", cfg.Device),
		out:        newOutbox(cfg.Outbox),
		inflight:   make(chan pending, 2*cfg.Inflight),
		connected:  make(chan struct{}, 1),
		lost:       make(chan error, 1),
		classState: make([]string, len(cfg.Classes)),
		cmds:       make(chan Command, 16),
		stop:       make(chan struct{}),
	}
	base := "edgeinfer/" + cfg.Device + "/"
	p.topics = topics{
		availability: base + "availability",
		state:        base + "state",
		snapshot:     base + "snapshot",
		source:       base + "source",
		set:          base + "set",
		haStatus:     cfg.DiscoveryPrefix + "/status",
		running:      base + "running",
	}
	for _, name := range cfg.Classes {
		p.slugs = append(p.slugs, Slug(name))
		p.topics.class = append(p.topics.class, base+"class/"+Slug(name))
	}
	if cfg.Password != "" && tlsCfg == nil && !loopbackBroker(cfg.Broker) {
		p.log.Warn("mqtt: the password goes unencrypted over plain TCP to a broker that is not on this machine; use ssl:// (mqtts://) with the broker's TLS port")
	}

	if cfg.Session {
		p.store = newSessionStore(p.acked)
	}
	opts := paho.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(cfg.ClientID).
		SetProtocolVersion(4).
		// A clean session and no automatic reconnection: connectLoop makes every connection, so
		// that it can retry at short intervals whatever happened before (paho's own backoff
		// grows to MaxReconnectInterval and only resets after 20 s without errors), and the
		// outbox, not paho's store, keeps and resends unacknowledged messages in order (paho's
		// resume of in-flight messages races with its sender: eclipse-paho/paho.mqtt.golang#703).
		// The subscriptions are made again in onConnect, so commands sent while the device was
		// away are not replayed hours later.
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetWriteTimeout(cfg.ConnectTimeout).
		SetKeepAlive(cfg.KeepAlive).
		SetPingTimeout(cfg.PingTimeout).
		SetBinaryWill(p.topics.availability, []byte(Offline), QoS, true).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.ready.Store(false)
			select {
			case p.lost <- err:
			default:
			}
		})
	if cfg.Session {
		// The broker keeps the session; paho's resume sends the stored packets again in order,
		// from a store that copies them (see sessionStore: this avoids the #703 race).
		opts.SetCleanSession(false).SetStore(p.store).SetCustomOpenConnectionFn(p.dialSession)
	}
	if cfg.Username != "" {
		opts.SetUsername(cfg.Username).SetPassword(cfg.Password)
	}
	if tlsCfg != nil {
		opts.SetTLSConfig(tlsCfg)
	}
	p.client = paho.NewClient(opts)
	if cfg.OutboxFile != "" {
		n, err := p.unspill()
		if err != nil {
			p.log.Error("mqtt: the saved outbox could not be read whole", "err", err, "loaded", n)
		} else if n > 0 {
			p.log.Info("mqtt: loaded the messages saved at the last shutdown", "file", cfg.OutboxFile, "messages", n)
		}
		// A new Publisher starts with every watched class OFF: a class state saved by the last
		// run is delivered, then OFF after it.
		for i, v := range p.classState {
			if v != "" {
				p.classState[i] = Off
				p.push(message{topic: p.topics.class[i], payload: []byte(Off), retained: true, class: i})
			}
		}
	}

	first := make(chan error, 1)
	p.wg.Add(4)
	go p.connectLoop(first)
	go p.send()
	go p.ack()
	go p.dispatch()
	select {
	case err := <-first:
		if err != nil {
			p.shutdown()
			return nil, err
		}
	case <-ctx.Done():
		p.shutdown()
		return nil, fmt.Errorf("mqtt: connecting to %s: %w", cfg.Broker, ctx.Err())
	}
	return p, nil
}

// connectLoop makes every connection. While the broker cannot be reached it tries again after
// 100 ms, then at intervals doubling up to cfg.MaxReconnectInterval (default 250 ms), and starts
// from 100 ms again after every lost connection. It sends the outcome of the first attempt to
// first: nil when connected or when the broker could not be reached (the loop goes on), the
// error when the broker refused or the URL cannot work (a TLS/plain mismatch).
func (p *Publisher) connectLoop(first chan<- error) {
	defer p.wg.Done()
	const minWait = 100 * time.Millisecond
	var (
		wait      = min(minWait, p.cfg.MaxReconnectInterval)
		attempts  int       // failed attempts since the last connection
		downSince time.Time // when the last connection was lost, or the first attempt began
		lastLog   time.Time
		diagnosed bool // the failure of this streak was examined for a TLS mismatch
		losses    int  // connections lost
		lastLoss  time.Time
	)
	downSince = time.Now()
	for {
		select { // a loss reported for an earlier connection
		case <-p.lost:
		default:
		}
		p.log.Debug("mqtt: connecting")
		tok := p.client.Connect()
		select {
		case <-tok.Done():
		case <-p.stop:
			go func() { // an attempt still under way must not leave a connection behind
				<-tok.Done()
				if tok.Error() == nil {
					p.client.Disconnect(0)
				}
			}()
			return
		}
		err := tok.Error()
		if err == nil {
			p.connectedAt.Store(time.Now().UnixNano())
			if ct, ok := tok.(*paho.ConnectToken); ok && p.store != nil && !ct.SessionPresent() && p.connects.Load() > 0 {
				// mosquitto passes a QoS 2 message on when it gets the PUBREL: one it had
				// acknowledged (PUBREC) in the session it lost is lost with it.
				if n := p.store.releasing(); n > 0 {
					p.log.Warn("mqtt: the broker did not keep the session: messages it had received but not yet released may be lost",
						"messages", n)
				} else {
					p.log.Info("mqtt: the broker did not keep the session; unacknowledged messages are sent again")
				}
			}
			if attempts > 0 || p.connects.Load() > 0 {
				p.log.Info("mqtt: broker reached", "attempts", attempts+1, "down_for", time.Since(downSince).Round(time.Millisecond))
			}
			if first != nil {
				first <- nil
				first = nil
			}
			up := time.Now()
			p.onConnect(p.client)
			select {
			case err := <-p.lost:
				losses++
				if lastLoss.IsZero() || time.Since(lastLoss) >= 30*time.Second {
					p.log.Warn("mqtt: connection lost; reconnecting", "err", err, "losses", losses)
					lastLoss = time.Now()
				} else {
					p.log.Debug("mqtt: connection lost; reconnecting", "err", err, "losses", losses)
				}
			case <-p.stop:
				return
			}
			attempts, diagnosed, downSince, lastLog = 0, false, time.Now(), time.Time{}
			if time.Since(up) >= time.Second {
				wait = min(minWait, p.cfg.MaxReconnectInterval)
				continue
			}
			// Lost within a second of being made (another client with the same ID, a broker
			// that drops this client): wait before trying again, longer each time.
			select {
			case <-time.After(wait):
			case <-p.stop:
				return
			}
			wait = min(2*wait, p.cfg.MaxReconnectInterval)
			continue
		}
		attempts++
		p.log.Debug("mqtt: connection attempt failed", "err", err, "attempts", attempts)
		cerr := p.permanent(tok, err)
		if cerr == nil && !diagnosed && !isDialError(err) {
			diagnosed = true
			cerr = diagnoseMismatch(p.cfg.Broker, err, p.cfg.ConnectTimeout, p.stop)
		}
		if cerr != nil {
			if first != nil {
				first <- cerr
				return
			}
			if lastLog.IsZero() || time.Since(lastLog) >= 30*time.Second {
				p.log.Error("mqtt: broker refused the connection; retrying", "err", cerr, "attempts", attempts)
				lastLog = time.Now()
			}
		} else if lastLog.IsZero() || time.Since(lastLog) >= 30*time.Second {
			// The first failure of an outage is logged, then one line every 30 s.
			p.log.Warn("mqtt: broker unreachable; labels wait in the outbox", "err", err, "attempts", attempts,
				"down_for", time.Since(downSince).Round(time.Millisecond), "retry_every", p.cfg.MaxReconnectInterval)
			lastLog = time.Now()
		}
		if first != nil {
			first <- nil
			first = nil
		}
		select {
		case <-time.After(wait):
		case <-p.stop:
			return
		}
		wait = min(2*wait, p.cfg.MaxReconnectInterval)
	}
}

// isDialError reports whether err is a failure to reach the broker's port at all (refused,
// unreachable, timed out), as opposed to a failure after the TCP connection was made.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// permanent returns a *ConnectError when a failed connection cannot succeed by retrying.
func (p *Publisher) permanent(tok paho.Token, err error) error {
	if ct, ok := tok.(*paho.ConnectToken); ok {
		switch rc := ct.ReturnCode(); rc {
		case packets.ErrRefusedBadProtocolVersion, packets.ErrRefusedIDRejected,
			packets.ErrRefusedBadUsernameOrPassword, packets.ErrRefusedNotAuthorised:
			return &ConnectError{Broker: p.cfg.Broker, Code: rc, Err: err}
		}
	}
	var (
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return &ConnectError{Broker: p.cfg.Broker, Err: err}
	}
	return nil
}

// onConnect runs after every connection, before the outbox flows: subscribe, publish
// availability and discovery, and put the class states the broker may have lost (it may have
// restarted) at the head of the outbox; then send the outbox again from its oldest message.
func (p *Publisher) onConnect(c paho.Client) {
	p.sendMu.Lock()
	p.ready.Store(false)
	if p.store == nil {
		p.out.rewind() // what was in flight on the previous connection is sent again, in order
	} // else paho's resume has sent it again, with the same packet identifiers
	n := p.conns()
	p.sendMu.Unlock()

	subQoS := byte(QoS)
	if p.store != nil {
		subQoS = 0 // the broker keeps no QoS 0 command for a device that is away
	}
	filters := map[string]byte{p.topics.set: subQoS}
	if !p.cfg.NoDiscovery {
		filters[p.topics.haStatus] = subQoS
	}
	// These go out before the outbox's messages (paho sends in order); the outbox does not wait
	// for their acknowledgements, a goroutine checks them.
	avail := Online
	if p.sourceLost.Load() {
		avail = Offline // the camera is gone: the entities stay unavailable until it is back
	}
	toks := []paho.Token{c.SubscribeMultiple(filters, p.route), c.Publish(p.topics.availability, QoS, true, []byte(avail))}
	if !p.cfg.NoDiscovery {
		for _, t := range p.legacyDiscovery() {
			toks = append(toks, c.Publish(t, QoS, true, []byte{}))
		}
	}
	toks = append(toks, p.announce(c)...)
	// The initial states: OFF for each watched class, ON (classifying) for the switch, until
	// PublishClass and PublishRunning say otherwise, so that Home Assistant shows every entity's
	// state from the start rather than "unknown" until the first change. They go out before the
	// outbox's messages, so a newer state queued meanwhile arrives after them.
	p.mu.Lock()
	var initial []int
	for i, v := range p.classState {
		if v == "" {
			initial = append(initial, i)
		}
	}
	initRunning := p.running == ""
	p.mu.Unlock()
	for _, i := range initial {
		toks = append(toks, c.Publish(p.topics.class[i], QoS, true, []byte(Off)))
	}
	if initRunning {
		toks = append(toks, c.Publish(p.topics.running, QoS, true, []byte(On)))
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for _, t := range toks {
			select {
			case <-t.Done():
			case <-p.stop:
				return
			}
			if err := t.Error(); err != nil {
				if _, sub := t.(*paho.SubscribeToken); sub {
					p.log.Error("mqtt: subscribing failed: commands will not be received until the next connection", "topics", filters, "err", err)
				} else {
					p.log.Warn("mqtt: publishing availability or discovery after connecting failed", "err", err)
				}
				return
			}
		}
	}()
	// The current state of a class whose message is still in the outbox is sent with it; the
	// others are sent again first. Class states are set under p.mu before being queued.
	p.mu.Lock()
	if v := p.running; v != "" && !p.out.hasClass(p.runningSlot()) {
		p.out.pushFront(message{topic: p.topics.running, payload: []byte(v), retained: true, class: p.runningSlot()})
	}
	for i := len(p.classState) - 1; i >= 0; i-- {
		if v := p.classState[i]; v != "" && !p.out.hasClass(i) {
			p.out.pushFront(message{topic: p.topics.class[i], payload: []byte(v), retained: true, class: i})
		}
	}
	p.mu.Unlock()
	p.ready.Store(true)
	p.log.Info("mqtt: connected", "connection", n)
	p.out.signal()
	select {
	case p.connected <- struct{}{}:
	default:
	}
}

// conns counts a new connection and returns its number.
func (p *Publisher) conns() uint64 {
	n := p.connects.Add(1)
	p.conn.Store(n)
	return n
}

// summariseDrops logs, once, how many messages a full outbox dropped since the last summary. It
// runs when the outbox is half empty again after overflowing, and at Close.
func (p *Publisher) summariseDrops() {
	if !p.dropWarned.CompareAndSwap(true, false) {
		return
	}
	_, d := p.out.len()
	prev := p.droppedSummarised.Swap(d)
	p.log.Warn("mqtt: the outbox was full: oldest state messages were dropped", "dropped", d-prev, "dropped_total", d, "outbox", p.cfg.Outbox)
}

// announce publishes the Home Assistant discovery messages.
func (p *Publisher) announce(c paho.Client) []paho.Token {
	if p.cfg.NoDiscovery {
		return nil
	}
	var toks []paho.Token
	for _, m := range p.discovery() {
		toks = append(toks, c.Publish(m.topic, QoS, true, m.payload))
	}
	p.discoveries.Add(1)
	return toks
}

// route handles the messages of the subscriptions. It runs on paho's router and must not block.
func (p *Publisher) route(_ paho.Client, m paho.Message) {
	switch m.Topic() {
	case p.topics.set:
		if m.Retained() {
			// A retained command would be carried out at every start (a retained pause would
			// pause every restart): only commands sent while the device listens count.
			p.badCommands.Add(1)
			p.log.Warn("mqtt: ignoring a retained command: commands must not be retained (clear it: mosquitto_pub -r -n -t "+p.topics.set+")",
				"topic", p.topics.set, "bytes", len(m.Payload()))
			return
		}
		if len(m.Payload()) == 0 {
			return // the clearing of a retained command
		}
		if n := len(m.Payload()); n > p.cfg.MaxCommandBytes {
			p.badCommands.Add(1)
			p.log.Warn("mqtt: ignoring command: payload too large", "bytes", n, "max_bytes", p.cfg.MaxCommandBytes)
			return
		}
		cmd, err := parseCommand(m.Payload())
		if err != nil {
			p.badCommands.Add(1)
			p.log.Warn("mqtt: ignoring command", "err", err)
			return
		}
		select {
		case p.cmds <- cmd:
		default:
			p.badCommands.Add(1)
			p.log.Warn("mqtt: dropping command: the previous ones are still being handled", "command", cmd.Command)
		}
	case p.topics.haStatus:
		if string(m.Payload()) != Online || p.closed.Load() {
			return
		}
		p.log.Info("mqtt: Home Assistant is online; publishing discovery again")
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for _, t := range p.announce(p.client) {
				select {
				case <-t.Done():
				case <-p.stop:
					return
				}
			}
			p.mu.Lock()
			last, snap := p.lastState, p.lastSnap
			p.mu.Unlock()
			if last != nil && !p.closed.Load() {
				p.push(message{topic: p.topics.state, payload: last, class: -1})
			}
			if snap != nil && !p.closed.Load() && p.client.IsConnectionOpen() {
				p.client.Publish(p.topics.snapshot, 0, false, snap) // the image entity's picture
			}
		}()
	}
}

// dispatch hands commands to cfg.OnCommand in order.
func (p *Publisher) dispatch() {
	defer p.wg.Done()
	for {
		select {
		case cmd := <-p.cmds:
			p.commands.Add(1)
			if p.cfg.OnCommand != nil {
				p.cfg.OnCommand(cmd)
			}
		case <-p.stop:
			return
		}
	}
}

// push queues m, warning once when the outbox starts dropping messages.
func (p *Publisher) push(m message) {
	if p.out.push(m) && p.dropWarned.CompareAndSwap(false, true) {
		p.log.Warn("mqtt: the outbox is full: dropping the oldest state messages until the broker takes them (a summary follows)",
			"outbox", p.cfg.Outbox, "connected", p.ready.Load())
	}
}

// send hands the outbox's messages to paho in order while connected (after onConnect), at most
// cfg.Inflight unacknowledged at a time.
func (p *Publisher) send() {
	defer p.wg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.sendOne() {
			continue
		}
		select {
		case <-p.out.ready:
		case <-p.connected:
		case <-tick.C:
		case <-p.stop:
			return
		}
	}
}

// sendOne hands over the next message, if the connection is ready and the window open.
func (p *Publisher) sendOne() bool {
	p.sendMu.Lock()
	if !p.ready.Load() || !p.client.IsConnectionOpen() {
		p.sendMu.Unlock()
		return false
	}
	m, ok := p.out.next(p.cfg.Inflight)
	if !ok {
		p.sendMu.Unlock()
		return false
	}
	if p.store != nil {
		// QoS 2: acknowledged when the store's packet is deleted (acked), not by the
		// token, which resume completes early.
		p.store.expectMsg(m.id)
		p.client.Publish(m.topic, 2, m.retained, m.payload)
		if !p.store.taken() {
			p.out.unsend(m.id)
			p.sendMu.Unlock()
			return false
		}
		p.sendMu.Unlock()
		return true
	}
	pd := pending{id: m.id, conn: p.conn.Load(), tok: p.client.Publish(m.topic, QoS, m.retained, m.payload)}
	p.sendMu.Unlock()
	select {
	case p.inflight <- pd:
		return true
	case <-p.stop:
		return false
	}
}

// ack waits for the PUBACKs. An acknowledged message leaves the outbox. A publication that failed
// on the current connection makes the messages in flight be sent again in order; one that failed
// because its connection was lost is sent again after the next connection.
func (p *Publisher) ack() {
	defer p.wg.Done()
	for {
		select {
		case pd := <-p.inflight:
			select {
			case <-pd.tok.Done():
			case <-p.stop:
				return
			}
			if err := pd.tok.Error(); err != nil {
				p.log.Debug("mqtt: publication failed; it will be sent again", "err", err)
				p.sendMu.Lock()
				// Not when the connection is gone: paho fails its tokens before the loss is
				// reported, and onConnect rewinds for the next connection anyway.
				if pd.conn == p.conn.Load() && p.ready.Load() && p.client.IsConnectionOpen() {
					p.out.rewind()
				}
				p.sendMu.Unlock()
				continue
			}
			p.acked(pd.id)
		case <-p.stop:
			return
		}
	}
}

// acked releases message id from the outbox once the broker has acknowledged it: its PUBACK, or,
// with a session, the store's word that the broker completed it (PUBCOMP).
func (p *Publisher) acked(id uint64) {
	if p.out.ack(id) {
		p.delivered.Add(1)
	}
	if p.dropWarned.Load() {
		if n, _ := p.out.len(); n <= p.cfg.Outbox/2 {
			p.summariseDrops()
		}
	}
	p.out.signal()
}

// PublishState queues a frame's result for the state topic. It does not block; when the outbox is
// full the oldest state message is dropped.
func (p *Publisher) PublishState(s State) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	j := stateJSON{
		Label:     s.Label,
		Score:     round(s.Score, 1e4),
		TopK:      make([]Scored, len(s.TopK)),
		Timestamp: s.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Seq:       s.Seq,
		LatencyMS: round(float64(s.Latency)/float64(time.Millisecond), 100),
		Trigger:   s.Trigger,
	}
	if math.IsNaN(s.Score) || math.IsInf(s.Score, 0) {
		return fmt.Errorf("mqtt: state of frame %d: score %v", s.Seq, s.Score)
	}
	for i, k := range s.TopK {
		if math.IsNaN(k.Score) || math.IsInf(k.Score, 0) {
			return fmt.Errorf("mqtt: state of frame %d: top-k %d (%q): score %v", s.Seq, i, k.Label, k.Score)
		}
		j.TopK[i] = Scored{Label: k.Label, Score: round(k.Score, 1e4)}
	}
	if s.Watched != nil {
		if len(s.Watched) != len(p.cfg.Classes) {
			return fmt.Errorf("mqtt: state of frame %d: %d watched scores for %d watched classes", s.Seq, len(s.Watched), len(p.cfg.Classes))
		}
		for i, v := range s.Watched {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("mqtt: state of frame %d: watched class %q: score %v", s.Seq, p.cfg.Classes[i], v)
			}
		}
		j.Watched = &watchedJSON{slugs: p.slugs, scores: s.Watched}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("mqtt: state of frame %d: %w", s.Seq, err)
	}
	p.mu.Lock()
	p.lastState = b
	p.mu.Unlock()
	p.push(message{topic: p.topics.state, payload: b, class: -1})
	return nil
}

func round(x, scale float64) float64 { return math.Round(x*scale) / scale }

// PublishClass queues the state of a watched class (retained ON or OFF on its class topic).
func (p *Publisher) PublishClass(name string, active bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	i := -1
	for j, c := range p.cfg.Classes {
		if c == name {
			i = j
			break
		}
	}
	if i < 0 {
		return fmt.Errorf("mqtt: %q is not a watched class", name)
	}
	v := Off
	if active {
		v = On
	}
	p.mu.Lock()
	p.classState[i] = v
	p.mu.Unlock()
	p.push(message{topic: p.topics.class[i], payload: []byte(v), retained: true, class: i})
	return nil
}

// runningSlot is the outbox class index of the running state (past the watched classes and the
// two of PublishSource): only the newest waits.
func (p *Publisher) runningSlot() int { return len(p.cfg.Classes) + 2 }

// PublishRunning queues the state of the Classify switch on edgeinfer/<device>/running: ON
// (retained) while labels are published, OFF while paused. Until it is called, ON is published at
// every connection.
func (p *Publisher) PublishRunning(running bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	v := Off
	if running {
		v = On
	}
	p.mu.Lock()
	p.running = v
	p.mu.Unlock()
	p.push(message{topic: p.topics.running, payload: []byte(v), retained: true, class: p.runningSlot()})
	return nil
}

// PublishSource reports the camera source lost (lost true, with the reason) or back. While it is
// lost, availability is offline — Home Assistant shows the device's entities as unavailable rather
// than a stale label — and online again when it is back (also at every reconnection meanwhile).
// edgeinfer/<device>/source holds the last change, retained, as JSON: {"lost": true, "error":
// "...", "timestamp": "..."}. Both are queued like class states: only the newest of each waits.
func (p *Publisher) PublishSource(lost bool, reason string) error {
	if p.closed.Load() {
		return ErrClosed
	}
	p.sourceLost.Store(lost)
	avail := Online
	if lost {
		avail = Offline
	}
	b, err := json.Marshal(struct {
		Lost      bool   `json:"lost"`
		Error     string `json:"error,omitempty"`
		Timestamp string `json:"timestamp"`
	}{lost, reason, time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")})
	if err != nil {
		return fmt.Errorf("mqtt: source state: %w", err)
	}
	// Class indices past the watched classes: coalesced like class states, never dropped first.
	n := len(p.cfg.Classes)
	p.push(message{topic: p.topics.availability, payload: []byte(avail), retained: true, class: n})
	p.push(message{topic: p.topics.source, payload: b, retained: true, class: n + 1})
	return nil
}

// ErrNotConnected is returned by PublishSnapshot while the broker is unreachable.
var ErrNotConnected = errors.New("mqtt: not connected")

// PublishSnapshot publishes a JPEG image on edgeinfer/<device>/snapshot, at QoS 0, not retained,
// and without the outbox: a snapshot is worth something only now, so while the connection is down
// it is dropped (ErrNotConnected) rather than queued ahead of labels. The last one is sent again
// when Home Assistant comes online (its image entity then has a picture); jpeg must not be
// modified afterwards.
func (p *Publisher) PublishSnapshot(jpeg []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
	p.mu.Lock()
	p.lastSnap = jpeg
	p.mu.Unlock()
	if !p.client.IsConnectionOpen() {
		return ErrNotConnected
	}
	p.client.Publish(p.topics.snapshot, 0, false, jpeg)
	return nil
}

// Connected reports whether the connection to the broker is up.
func (p *Publisher) Connected() bool { return p.client.IsConnectionOpen() }

// Stats returns the counters.
func (p *Publisher) Stats() Stats {
	q, inflight, d, r := p.out.counts()
	if p.store != nil {
		r += p.store.resends()
	}
	return Stats{
		Queued:      q,
		Inflight:    inflight,
		Delivered:   p.delivered.Load(),
		Dropped:     d,
		Retried:     r,
		Undelivered: p.undelivered.Load(),
		Connects:    p.connects.Load(),
		Discoveries: p.discoveries.Load(),
		Commands:    p.commands.Load(),
		BadCommands: p.badCommands.Load(),
		Connected:   p.ready.Load() && p.client.IsConnectionOpen(),
	}
}

// Close stops taking messages and waits until the outbox is delivered or ctx ends, reconnecting
// meanwhile as often as it takes. It then publishes availability offline (waiting for it at most
// one second more), disconnects and stops the Publisher's goroutines. When messages were left
// undelivered it saves them in cfg.OutboxFile if set (then it returns nil), or else logs an error
// saying how many and returns an error naming the broker.
func (p *Publisher) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var ctxErr error
	for ctxErr == nil {
		if q, _ := p.out.len(); q == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
	}
	if p.ready.Load() && p.client.IsConnectionOpen() {
		t := p.client.Publish(p.topics.availability, QoS, true, []byte(Offline))
		if !t.WaitTimeout(time.Second) || t.Error() != nil {
			p.log.Warn("mqtt: publishing offline failed", "err", t.Error())
		}
	}
	p.summariseDrops()
	left := p.shutdown()
	p.undelivered.Store(uint64(left))
	st := p.Stats()
	if left > 0 && p.cfg.OutboxFile != "" {
		if err := p.spill(); err != nil {
			p.log.Error("mqtt: could not save the undelivered messages", "err", err)
		} else {
			// Kept, not lost: not an error.
			p.log.Warn("mqtt: closed with messages not yet delivered: saved, to be sent after the next start", "file", p.cfg.OutboxFile, "messages", left)
			return nil
		}
	}
	if left > 0 {
		p.log.Error("mqtt: closed with messages NOT delivered", "undelivered", left, "delivered", st.Delivered, "dropped", st.Dropped, "connected", p.ready.Load(), "err", ctxErr)
		return fmt.Errorf("mqtt: close: %d messages not delivered to %s: %w", left, p.cfg.Broker, ctxErr)
	}
	p.log.Info("mqtt: closed", "delivered", st.Delivered, "dropped", st.Dropped)
	return nil
}

// shutdown disconnects and stops the goroutines; it returns the messages not delivered.
func (p *Publisher) shutdown() int {
	p.closed.Store(true)
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.client.Disconnect(250)
	p.wg.Wait()
	p.client.Disconnect(0) // a connection made while stopping
	q, _ := p.out.len()
	return q
}

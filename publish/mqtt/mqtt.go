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

// QoS is the quality of service of everything the Publisher sends and subscribes to.
const QoS = 1

var (
	// ErrClosed is returned by the methods of a closed Publisher.
	ErrClosed = errors.New("mqtt: publisher closed")
	// ErrNotAuthorized matches (errors.Is) a *ConnectError for refused credentials.
	ErrNotAuthorized = errors.New("mqtt: not authorized")
)

// ConnectError is a broker refusing the connection (a CONNACK return code other than accepted) or
// a TLS certificate the client cannot accept: retrying cannot help, so Open reports it.
type ConnectError struct {
	Broker string
	Code   byte  // the CONNACK return code; 0 for a certificate error
	Err    error // what paho or crypto/tls said
}

func (e *ConnectError) Error() string {
	switch e.Code {
	case 0:
		return fmt.Sprintf("mqtt: broker %s: TLS: %v", e.Broker, e.Err)
	case packets.ErrRefusedBadUsernameOrPassword, packets.ErrRefusedNotAuthorised:
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
}

type stateJSON struct {
	Label     string   `json:"label"`
	Score     float64  `json:"score"`
	TopK      []Scored `json:"top_k"`
	Timestamp string   `json:"timestamp"`
	Seq       uint64   `json:"seq"`
	LatencyMS float64  `json:"latency_ms"`
	Trigger   string   `json:"trigger,omitempty"`
}

// Stats counts what a Publisher did.
type Stats struct {
	Queued      int    // messages waiting in the outbox
	Inflight    int    // messages handed to paho, waiting for their PUBACK (or one being handed over)
	Delivered   uint64 // messages the broker acknowledged
	Dropped     uint64 // state messages dropped from a full outbox
	Connects    uint64 // connections made (subscriptions included)
	Discoveries uint64 // times the discovery messages were published
	Commands    uint64 // commands handed to OnCommand
	BadCommands uint64 // commands that could not be read, or were dropped while OnCommand was busy
}

type topics struct {
	availability, state, set, haStatus, labelConfig, snapshot string
	class, classConfig                                        []string
}

// pending is a message handed to paho and its token.
type pending struct {
	m   message
	tok paho.Token
}

// Publisher publishes labels to an MQTT broker. Its methods are safe for concurrent use.
type Publisher struct {
	cfg    Config
	log    *slog.Logger
	client paho.Client
	topics topics
	out    *outbox

	inflight      chan pending
	nInflight     atomic.Int64
	classInflight atomic.Int64  // class messages among them
	ready         atomic.Bool   // connected and onConnect done: the outbox may flow
	connected     chan struct{} // gets a token at each connection

	mu         sync.Mutex
	classState []string // last ON/OFF per watched class, "" before the first
	lastState  []byte   // last state payload

	delivered, connects, discoveries, commands, badCommands atomic.Uint64

	cmds   chan Command
	closed atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

// Open checks cfg, connects to the broker and starts publishing. It returns an error for a bad
// configuration, unreadable TLS files, a broker that refuses the connection (*ConnectError;
// errors.Is(err, ErrNotAuthorized) for bad credentials) or a certificate it cannot accept, and
// ctx ending before the first attempt finished. A broker that cannot be reached is not an error:
// Open logs it and keeps trying in the background, with backoff up to cfg.MaxReconnectInterval,
// while messages wait in the outbox. Once connected, lost connections are re-established by paho
// with the same backoff, and the subscriptions, availability, discovery and class states are
// published again.
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
		inflight:   make(chan pending, cfg.Inflight),
		connected:  make(chan struct{}, 1),
		classState: make([]string, len(cfg.Classes)),
		cmds:       make(chan Command, 16),
		stop:       make(chan struct{}),
	}
	base := "edgeinfer/" + cfg.Device + "/"
	p.topics = topics{
		availability: base + "availability",
		state:        base + "state",
		snapshot:     base + "snapshot",
		set:          base + "set",
		haStatus:     cfg.DiscoveryPrefix + "/status",
		labelConfig:  cfg.DiscoveryPrefix + "/sensor/" + cfg.Device + "/label/config",
	}
	for _, name := range cfg.Classes {
		p.topics.class = append(p.topics.class, base+"class/"+Slug(name))
		p.topics.classConfig = append(p.topics.classConfig, cfg.DiscoveryPrefix+"/binary_sensor/"+cfg.Device+"_"+Slug(name)+"/config")
	}

	opts := paho.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(cfg.ClientID).
		SetProtocolVersion(4).
		// A clean session: the subscriptions are made again in onConnect after every connection,
		// so commands sent while the device was away are not replayed hours later.
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(false). // the first connection is retried by connectLoop, which can tell a refusal from a network error
		SetConnectTimeout(cfg.ConnectTimeout).
		SetKeepAlive(cfg.KeepAlive).
		SetPingTimeout(min(cfg.KeepAlive, 10*time.Second)).
		SetMaxReconnectInterval(cfg.MaxReconnectInterval).
		SetBinaryWill(p.topics.availability, []byte(Offline), QoS, true).
		SetOnConnectHandler(p.onConnect).
		SetReconnectingHandler(func(paho.Client, *paho.ClientOptions) {
			p.ready.Store(false) // runs before each attempt, so before the onConnect that sets it again
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.log.Warn("mqtt: connection lost; reconnecting", "err", err)
		}).
		SetConnectionNotificationHandler(func(_ paho.Client, n paho.ConnectionNotification) {
			// Failures of the first connection are logged by connectLoop; these are reconnections.
			if f, ok := n.(paho.ConnectionNotificationFailed); ok && p.connects.Load() > 0 {
				p.log.Warn("mqtt: connection attempt failed", "err", f.Reason)
			}
		})
	if cfg.Username != "" {
		opts.SetUsername(cfg.Username).SetPassword(cfg.Password)
	}
	if tlsCfg != nil {
		opts.SetTLSConfig(tlsCfg)
	}
	p.client = paho.NewClient(opts)

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

// connectLoop makes the first connection, retrying network errors with backoff. It sends the
// outcome of the first attempt to first: nil when connected or when the broker could not be
// reached (the loop goes on), the error when the broker refused.
func (p *Publisher) connectLoop(first chan<- error) {
	defer p.wg.Done()
	wait := min(time.Second, p.cfg.MaxReconnectInterval)
	for attempt := 1; ; attempt++ {
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
			if attempt > 1 {
				p.log.Info("mqtt: broker reached", "attempts", attempt)
			}
			if first != nil {
				first <- nil
			}
			return
		}
		if cerr := p.permanent(tok, err); cerr != nil {
			if first != nil {
				first <- cerr
				return
			}
			p.log.Error("mqtt: broker refused the connection; retrying", "err", cerr, "attempt", attempt, "retry_in", wait)
		} else {
			p.log.Warn("mqtt: broker unreachable; labels wait in the outbox", "err", err, "attempt", attempt, "retry_in", wait)
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

// onConnect runs on paho's goroutine after every connection: subscribe, then publish
// availability, discovery and the class states (all lost if the broker restarted).
func (p *Publisher) onConnect(c paho.Client) {
	filters := map[string]byte{p.topics.set: QoS}
	if !p.cfg.NoDiscovery {
		filters[p.topics.haStatus] = QoS
	}
	sub := c.SubscribeMultiple(filters, p.route)
	if !sub.WaitTimeout(p.cfg.ConnectTimeout) || sub.Error() != nil {
		p.log.Error("mqtt: subscribing failed", "topics", filters, "err", sub.Error())
	}
	toks := []paho.Token{c.Publish(p.topics.availability, QoS, true, []byte(Online))}
	toks = append(toks, p.announce(c)...)
	// Class messages that were in flight when the connection dropped are sent again by paho now;
	// they may be older than the current class states, so those go after them. The outbox is
	// held back (ready) until then, and class states are published under p.mu, so that the last
	// ON/OFF the broker retains is the newest.
	deadline := time.Now().Add(p.cfg.ConnectTimeout)
	for p.classInflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	for i, v := range p.classState {
		if v != "" {
			toks = append(toks, c.Publish(p.topics.class[i], QoS, true, []byte(v)))
		}
	}
	p.mu.Unlock()
	for _, t := range toks {
		if !t.WaitTimeout(p.cfg.ConnectTimeout) || t.Error() != nil {
			p.log.Warn("mqtt: publishing after connecting failed", "err", t.Error())
			break
		}
	}
	p.ready.Store(true)
	n := p.connects.Add(1)
	p.log.Info("mqtt: connected", "connection", n)
	select {
	case p.connected <- struct{}{}:
	default:
	}
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
			last := p.lastState
			p.mu.Unlock()
			if last != nil && !p.closed.Load() {
				p.out.push(message{topic: p.topics.state, payload: last, class: -1})
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

// send moves messages from the outbox to paho while connected (after onConnect), at most cfg.Inflight at a time.
func (p *Publisher) send() {
	defer p.wg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.ready.Load() && p.client.IsConnectionOpen() {
			p.nInflight.Add(1) // before pop, so that Close never sees the message in neither place
			if m, ok := p.out.pop(); ok {
				if m.class >= 0 {
					p.classInflight.Add(1)
				}
				tok := p.client.Publish(m.topic, QoS, m.retained, m.payload)
				select {
				case p.inflight <- pending{m, tok}:
					continue
				case <-p.stop:
					return
				}
			}
			p.nInflight.Add(-1)
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

// ack waits for the PUBACKs in order. A message whose publication failed (paho gave up on it)
// goes back to the head of the outbox. Messages in flight when the connection drops stay with
// paho, which sends them again after reconnecting.
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
				p.log.Debug("mqtt: publication failed; requeued", "topic", pd.m.topic, "err", err)
				p.out.pushFront(pd.m)
			} else {
				p.delivered.Add(1)
			}
			if pd.m.class >= 0 {
				p.classInflight.Add(-1)
			}
			p.nInflight.Add(-1)
		case <-p.stop:
			return
		}
	}
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
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("mqtt: state of frame %d: %w", s.Seq, err)
	}
	p.mu.Lock()
	p.lastState = b
	p.mu.Unlock()
	p.out.push(message{topic: p.topics.state, payload: b, class: -1})
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
	p.out.push(message{topic: p.topics.class[i], payload: []byte(v), retained: true, class: i})
	return nil
}

// ErrNotConnected is returned by PublishSnapshot while the broker is unreachable.
var ErrNotConnected = errors.New("mqtt: not connected")

// PublishSnapshot publishes a JPEG image on edgeinfer/<device>/snapshot, at QoS 0, not retained,
// and without the outbox: a snapshot is worth something only now, so while the connection is down
// it is dropped (ErrNotConnected) rather than queued ahead of labels.
func (p *Publisher) PublishSnapshot(jpeg []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
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
	q, d := p.out.len()
	return Stats{
		Queued:      q,
		Inflight:    int(p.nInflight.Load()),
		Delivered:   p.delivered.Load(),
		Dropped:     d,
		Connects:    p.connects.Load(),
		Discoveries: p.discoveries.Load(),
		Commands:    p.commands.Load(),
		BadCommands: p.badCommands.Load(),
	}
}

// Close stops taking messages, waits until the outbox is delivered or ctx ends, publishes
// availability offline (waiting for it at most one second more), disconnects and stops the
// Publisher's goroutines. It reports the messages left undelivered.
func (p *Publisher) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var ctxErr error
	for ctxErr == nil {
		if q, _ := p.out.len(); q == 0 && p.nInflight.Load() == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
	}
	if p.client.IsConnectionOpen() {
		t := p.client.Publish(p.topics.availability, QoS, true, []byte(Offline))
		if !t.WaitTimeout(time.Second) || t.Error() != nil {
			p.log.Warn("mqtt: publishing offline failed", "err", t.Error())
		}
	}
	left := p.shutdown()
	p.log.Info("mqtt: closed", "delivered", p.delivered.Load(), "undelivered", left)
	if left > 0 {
		return fmt.Errorf("mqtt: close: %d messages not delivered to %s: %w", left, p.cfg.Broker, ctxErr)
	}
	return nil
}

// shutdown disconnects and stops the goroutines; it returns the messages not delivered.
func (p *Publisher) shutdown() int {
	p.closed.Store(true)
	p.client.Disconnect(250)
	close(p.stop)
	p.wg.Wait()
	q, _ := p.out.len()
	return q + int(p.nInflight.Load())
}

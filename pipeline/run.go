package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/display"
	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/internal/ratelog"
	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/pipeline/decide"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// Publisher is where the loop sends labels: a *mqtt.Publisher, or a fake in tests.
type Publisher interface {
	PublishState(mqtt.State) error
	PublishClass(name string, active bool) error
}

// snapshotPublisher is a Publisher that can send JPEG snapshots (*mqtt.Publisher can).
type snapshotPublisher interface {
	PublishSnapshot(jpeg []byte) error
}

// Actuator is what the loop tells about class transitions: *gpio.Actions, or a fake in tests.
type Actuator interface {
	Set(class string, active bool)
}

var _ Actuator = (*gpio.Actions)(nil)

// grabEvery is how often the loop copies a frame for the status page's image.
const grabEvery = time.Second

// Run runs the pipeline until ctx is cancelled (then it drains the MQTT outbox for at most
// cfg.DrainTimeout and returns nil), the source ends, or cfg.Frames frames have been classified.
// cfg.Model must be a file. The GPIO outputs of cfg.Actions are inactive again whenever Run
// returns, with or without an error.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	cfg.Defaults()
	if cfg.Model == "" {
		return errors.New("pipeline: no model given")
	}
	if cfg.Frames < 0 {
		return fmt.Errorf("pipeline: frames %d: must not be negative", cfg.Frames)
	}
	if err := cfg.checkGPIO(); err != nil {
		return err
	}
	creds, err := cfg.credentials()
	if err != nil {
		return err
	}
	m, closer, err := load.Model(cfg.Model)
	if err != nil {
		return err
	}
	defer closer.Close()
	it, err := runtime.New(m, runtime.Options{Threads: cfg.Threads})
	if err != nil {
		return err
	}
	defer it.Close()
	labels := cfg.Labels
	if len(labels) == 0 {
		labels = m.Labels
	}
	if len(labels) == 0 {
		return fmt.Errorf("pipeline: model %s has no labels: give a labels file", cfg.Model)
	}
	dc, err := cfg.decideConfig(labels)
	if err != nil {
		return err
	}
	l, err := newLoop(it, m, labels, dc)
	if err != nil {
		return fmt.Errorf("pipeline: model %s: %w", cfg.Model, err)
	}
	l.log, l.w, l.heartbeat = log, cfg.Out, cfg.Heartbeat

	// GPIO first: a line that cannot be had stops Run before anything else starts.
	if len(cfg.Actions) > 0 {
		acts, err := gpio.Open(cfg.Lines, cfg.Actions, log)
		if err != nil {
			var ae *gpio.ActionError
			if errors.As(err, &ae) {
				return fmt.Errorf("pipeline: %s: %w", cfg.at(fmt.Sprintf("actions[%d].%s", ae.Index, ae.Field)), ae.Err)
			}
			return fmt.Errorf("pipeline: %w", err)
		}
		defer func() {
			if err := acts.Close(); err != nil {
				log.Error("pipeline: turning GPIO outputs off", "err", err)
			}
		}()
		l.actions = acts
		log.Info("GPIO actions", "n", len(cfg.Actions))
	}
	if t := cfg.Trigger; t != nil {
		l.triggerName, l.only = t.Name, t.Only
		if l.triggerName == "" {
			l.triggerName = t.Pin
		}
		tctx, tcancel := context.WithCancel(ctx)
		done, err := gpio.Watch(tctx, cfg.Lines, t.Input, l.fire)
		if err != nil {
			tcancel()
			return fmt.Errorf("pipeline: %s: %w", cfg.at("trigger.pin"), err)
		}
		defer func() { tcancel(); <-done }()
		log.Info("GPIO trigger", "pin", t.Pin, "only", t.Only)
	}
	if d := cfg.Display; d != nil {
		dc := display.Config{Bus: 1, Address: d.Address, Width: d.Width, Height: d.Height}
		if d.Bus != nil {
			dc.Bus = *d.Bus
		}
		open := d.Open
		if open == nil {
			open = func(c display.Config) (display.Screen, error) { return display.Open(c) }
		}
		scr, err := open(dc)
		if err != nil {
			return fmt.Errorf("pipeline: %s: %w", cfg.at("display"), err)
		}
		l.screen = display.NewAsync(scr, log)
		defer func() {
			if err := l.screen.Close(); err != nil {
				log.Error("pipeline: closing the display", "err", err)
			}
		}()
		log.Info("display", "bus", dc.Bus, "address", fmt.Sprintf("%#x", dc.Address))
	}
	if cfg.Listen != "off" || cfg.Snapshot.Enabled {
		l.grab = &frameCopy{}
		l.m.frameJPEG = func() ([]byte, error) {
			b, _, _, err := l.grab.jpeg(85, 0)
			return b, err
		}
	}

	username, password := cfg.MQTT.Username, cfg.MQTT.Password
	if cfg.MQTT.Broker == "" && creds != nil {
		username, password = creds.Username, creds.Password // the embedded broker asks its own client too
	}
	broker := cfg.MQTT.Broker
	if broker == "" {
		var (
			b   *Broker
			err error
			msg = "embedded MQTT broker"
		)
		if creds != nil {
			b, err = StartBrokerAuth(cfg.MQTT.Listen, *creds, log)
			msg += ": clients must authenticate"
		} else {
			b, err = StartBroker(cfg.MQTT.Listen, log)
		}
		if err != nil {
			return err
		}
		defer b.Close()
		broker = b.URL()
		log.Info(msg, "addr", b.Addr())
	}
	l.m.setInfo(cfg.Model, cfg.Source, broker)
	l.m.attach(func(m *Metrics) { m.Source = l.SourceState })
	confURL := ""
	if cfg.Listen != "off" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return listenError(cfg.Listen, err)
		}
		addrs, _ := net.InterfaceAddrs()
		confURL = configurationURL(ln.Addr(), addrs)
		h := l.m.Handler(cfg.Device)
		if creds != nil {
			h = BasicAuth(*creds, h)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics and status page", "url", "http://"+ln.Addr().String()+"/")
		if creds != nil {
			log.Info("metrics and status page: clients must authenticate", "credentials", cfg.Credentials)
		}
	}

	classes := make([]string, len(dc.Classes))
	for i, c := range dc.Classes {
		classes[i] = c.Name
	}
	deviceClass := map[string]string{}
	for _, w := range cfg.Watch {
		if w.DeviceClass != "" {
			deviceClass[w.Class] = w.DeviceClass
		}
	}
	l.watched = make([]float64, len(classes))
	deviceID := cfg.DeviceID
	if deviceID == "" && !cfg.MQTT.NoDiscovery {
		id, from, err := DeviceID()
		if err != nil {
			// Home Assistant's device then follows the device name.
			log.Warn("pipeline: no stable device id: Home Assistant's device is named by the device name (set device_id)", "err", err)
		} else {
			deviceID = id
			log.Debug("device id", "id", id, "from", from)
		}
	}
	pub, err := mqtt.Open(ctx, mqtt.Config{
		Broker: broker, Device: cfg.Device, DeviceID: deviceID, DeviceClass: deviceClass,
		Version: Version(), ConfigurationURL: confURL, Snapshot: cfg.Snapshot.Enabled,
		Username: username, Password: password,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		Classes: classes, Outbox: cfg.MQTT.Outbox, NoDiscovery: cfg.MQTT.NoDiscovery,
		KeepAlive: cfg.MQTT.KeepAlive, Inflight: cfg.MQTT.Inflight, Session: cfg.MQTT.Session, MaxCommandBytes: cfg.MQTT.MaxCommandBytes, OutboxFile: cfg.MQTT.OutboxFile,
		OnCommand: l.command, Logger: log,
	})
	if err != nil {
		return err
	}
	l.pub = pub
	l.m.attach(func(m *Metrics) { m.MQTT = pub.Stats })
	closePub := func() error {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.DrainTimeout)
		defer cancel()
		return pub.Close(dctx)
	}

	// A daemon waits for its camera: one unreachable at start is retried like one lost later,
	// unless the source string bounds it (start_timeout=30s).
	src, err := camera.Open(ctx, cfg.Source, camera.Options{Log: log, StartTimeout: camera.Forever, OnState: l.sourceState})
	if err != nil {
		closePub()
		return err
	}
	latest := camera.NewLatest(src)
	l.m.attach(func(m *Metrics) { m.Dropped = latest.Dropped })
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	if cfg.Snapshot.Enabled {
		if sp, ok := l.pub.(snapshotPublisher); ok {
			l.snapshots = make(chan struct{}, 1)
			go l.snapshotter(bg, sp, cfg.Snapshot)
		}
	}
	log.Info("running", "model", cfg.Model, "source", cfg.Source, "device", cfg.Device, "broker", broker)
	l.alive.Store(time.Now().UnixNano())
	if cfg.Notify != nil {
		if err := cfg.Notify.Notify("READY=1\nSTATUS=classifying"); err != nil {
			log.Warn("pipeline: systemd notify", "err", err)
		}
		if cfg.Watchdog > 0 {
			go l.watchdog(bg, cfg.Notify, cfg.Watchdog)
		}
	}
	err = l.run(ctx, latest, cfg.Frames)
	stopBG()
	if cfg.Notify != nil {
		if nerr := cfg.Notify.Notify("STOPPING=1"); nerr != nil {
			log.Warn("pipeline: systemd notify", "err", nerr)
		}
	}
	latest.Close()
	cerr := closePub()
	if err != nil && ctx.Err() != nil {
		err = nil // stopped by ctx: a clean exit, unless labels were lost
	}
	if cerr != nil {
		// Labels that were not delivered make the exit an error: a supervisor, or the person
		// who sent SIGTERM, must learn that the broker did not get them.
		log.Error("pipeline: MQTT outbox not drained: labels were lost", "err", cerr, "drain_timeout", cfg.DrainTimeout)
		if err == nil {
			err = cerr
		}
	}
	return err
}

// loop is the per-frame state of Run.
type loop struct {
	screen *display.Async // shows the label when it changes; nil: no display
	it     *runtime.Interpreter
	in     *runtime.Tensor
	out    *runtime.Tensor
	pre    *camera.Preprocessor
	dec    *decide.Decider
	pub    Publisher
	m      *Metrics
	scores []float64
	topk   []mqtt.Scored

	log       *slog.Logger
	w         io.Writer // label changes are printed here; nil: nowhere
	heartbeat time.Duration
	now       func() time.Time

	lastLabel int // the label last published; -1 before the first
	lastState time.Time
	cmds      chan mqtt.Command
	paused    bool
	watched   []float64 // the watched classes' scores sent with a state; nil: none

	actions     Actuator      // nil: no GPIO actions
	trig        chan struct{} // a token per trigger edge (coalescing)
	triggerName string        // the state message's trigger field
	triggered   bool          // a trigger asked for the next frame
	only        bool          // classify only triggered frames

	grab      *frameCopy    // nil: no copies (no status page, no snapshots)
	lastGrab  time.Time     // when grab last copied a frame
	snapshots chan struct{} // a token asks the snapshotter to publish grab's frame; nil: off

	alive   atomic.Int64 // UnixNano of the last classified frame, for the watchdog
	waiting atomic.Bool  // the loop waits on purpose (paused, or for its trigger)

	source atomic.Pointer[camera.State] // the source's last change of state; nil: none yet
	badLog *ratelog.Logger              // bad frames: the first, then a count every badLogEvery
}

// badLogEvery is the interval of the bad frame warnings: one is written, the others counted.
const badLogEvery = 10 * time.Second

// sourceState is camera.Options.OnState: it keeps the source's state (SourceState) and logs each
// change once.
func (l *loop) sourceState(s camera.State) {
	l.source.Store(&s)
	if s.Lost {
		l.log.Warn("pipeline: source lost", "source", s.Source, "err", s.Err)
	} else {
		l.log.Info("pipeline: source back", "source", s.Source)
	}
	if sp, ok := l.pub.(sourcePublisher); ok {
		reason := ""
		if s.Err != nil {
			reason = s.Err.Error()
		}
		if err := sp.PublishSource(s.Lost, reason); err != nil {
			l.log.Warn("pipeline: publishing the source state", "err", err)
		}
	}
}

// sourcePublisher is what publishes the source's state (mqtt.Publisher: availability offline while
// the camera is lost).
type sourcePublisher interface {
	PublishSource(lost bool, reason string) error
}

// SourceState reports whether the source is lost (being reopened, or its files unreadable), why,
// and since when; ok is false while no change has been reported (the source works as opened).
func (l *loop) SourceState() (s camera.State, ok bool) {
	if p := l.source.Load(); p != nil {
		return *p, true
	}
	return camera.State{}, false
}

func newLoop(it *runtime.Interpreter, m *models.Model, labels []string, dc decide.Config) (*loop, error) {
	in, out := it.Input(0), it.Output(0)
	if n := out.NumElements(); n != len(labels) {
		return nil, fmt.Errorf("output %q has %d scores but there are %d labels", out.Name, n, len(labels))
	}
	pre, err := camera.NewPreprocessor(in.Type, in.Shape, in.Quant, m.Preprocess, "")
	if err != nil {
		return nil, err
	}
	dec, err := decide.New(labels, dc)
	if err != nil {
		return nil, err
	}
	k := dc.TopK
	if k < 1 {
		k = 1
	}
	return &loop{
		it: it, in: in, out: out, pre: pre, dec: dec, m: newMetrics(),
		scores: make([]float64, len(labels)), topk: make([]mqtt.Scored, 0, k),
		log: slog.Default(), heartbeat: DefaultHeartbeat, now: time.Now,
		lastLabel: -1, cmds: make(chan mqtt.Command, 16), trig: make(chan struct{}, 1),
	}, nil
}

// fire is the trigger's callback (from the GPIO watch goroutine).
func (l *loop) fire(active bool) {
	if !active {
		return
	}
	select {
	case l.trig <- struct{}{}:
		l.log.Info("trigger", "name", l.triggerName)
	default: // one is pending already
	}
}

// triggerArrived records a trigger for the next frame. With only, that frame's scores are judged
// alone (no moving average over frames of other triggers), while a watched class's MinFrames and
// OffDelay count over the triggered frames.
func (l *loop) triggerArrived() {
	l.triggered = true
	if l.only {
		l.dec.ResetScores()
	}
}

// watchdog sends WATCHDOG=1 every interval/2 while the loop is healthy: it classified a frame
// within interval, or it waits on purpose.
func (l *loop) watchdog(ctx context.Context, n Notifier, interval time.Duration) {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			last := time.Unix(0, l.alive.Load())
			if !l.waiting.Load() && now.Sub(last) > interval {
				l.log.Warn("pipeline: no frame classified lately: not telling the watchdog", "last", last, "watchdog", interval)
				continue
			}
			if err := n.Notify("WATCHDOG=1"); err != nil {
				l.log.Warn("pipeline: systemd notify", "err", err)
			}
		}
	}
}

// snapshotter publishes the copied frame as a JPEG each time the loop asks.
func (l *loop) snapshotter(ctx context.Context, sp snapshotPublisher, cfg Snapshot) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.snapshots:
		}
		b, seq, label, err := l.grab.jpeg(cfg.Quality, cfg.MaxBytes)
		if err != nil {
			l.log.Warn("pipeline: snapshot", "err", err)
			continue
		}
		if err := sp.PublishSnapshot(b); err != nil {
			l.log.Warn("pipeline: snapshot not sent", "frame", seq, "err", err)
			continue
		}
		l.log.Debug("snapshot", "frame", seq, "label", label, "bytes", len(b))
	}
}

// command is the MQTT OnCommand callback: it hands the command to the loop.
func (l *loop) command(c mqtt.Command) {
	select {
	case l.cmds <- c:
	default:
		l.log.Warn("pipeline: command dropped: the loop is busy", "command", c.Command)
	}
}

// runningPublisher is a Publisher that shows whether the loop runs or is paused (*mqtt.Publisher:
// the state of Home Assistant's Classify switch).
type runningPublisher interface {
	PublishRunning(running bool) error
}

// publishRunning publishes whether the loop runs (not paused).
func (l *loop) publishRunning() {
	if rp, ok := l.pub.(runningPublisher); ok {
		if err := rp.PublishRunning(!l.paused); err != nil {
			l.log.Warn("pipeline: publishing the running state", "err", err)
		}
	}
}

// maxNamesLogged is how many class names a log line of a command lists at most.
const maxNamesLogged = 10

// apply carries out a command in the loop's goroutine.
func (l *loop) apply(c mqtt.Command) {
	switch c.Command {
	case mqtt.CmdPause:
		l.paused = true
		l.log.Info("paused")
		l.publishRunning()
	case mqtt.CmdResume:
		if l.paused {
			l.paused = false
			l.dec.Reset()
			l.log.Info("resumed")
		}
		l.publishRunning()
	case mqtt.CmdThresholds:
		// One line for the classes set and one for those refused, however many the command
		// names (a command may name thousands).
		var set, bad []string
		var nset, nbad int
		var firstErr error
		for name, t := range c.Thresholds {
			if err := l.dec.SetThresholds(name, t.On, t.Off); err != nil {
				if nbad++; firstErr == nil {
					firstErr = err
				}
				if len(bad) < maxNamesLogged {
					bad = append(bad, name)
				}
				continue
			}
			if nset++; len(set) < maxNamesLogged {
				set = append(set, fmt.Sprintf("%s=%g/%g", name, t.On, t.Off))
			}
		}
		if nset > 0 {
			slices.Sort(set)
			l.log.Info("thresholds", "classes", nset, "set", strings.Join(set, " "))
		}
		if nbad > 0 {
			slices.Sort(bad)
			l.log.Warn("pipeline: thresholds command: classes refused", "refused", nbad, "some", strings.Join(bad, ", "), "first_err", firstErr)
		}
	}
}

// run classifies frames until ctx ends, the source ends (nil) or frames have been classified.
func (l *loop) run(ctx context.Context, src camera.Source, frames int) error {
	bad := 0
	if l.badLog == nil {
		l.badLog = ratelog.New(l.log, badLogEvery)
	}
	defer l.badLog.Flush()
	for frames == 0 || l.m.Frames() < uint64(frames) {
		for drained := false; !drained; {
			select {
			case c := <-l.cmds:
				l.apply(c)
			case <-l.trig:
				l.triggerArrived()
			default:
				drained = true
			}
		}
		for l.paused || l.only && !l.triggered {
			l.waiting.Store(true)
			select {
			case c := <-l.cmds:
				l.apply(c)
			case <-l.trig:
				l.triggerArrived()
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if l.waiting.Load() {
			l.waiting.Store(false)
			l.alive.Store(l.now().UnixNano())
		}
		f, err := src.Next(ctx)
		if err == nil {
			err = l.step(ctx, f)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, io.EOF) {
			if l.m.Frames() == 0 && bad > 0 {
				return fmt.Errorf("pipeline: no frame could be classified (%d bad)", bad)
			}
			return nil
		}
		var be badFrame
		if camera.IsFrameError(err) || errors.As(err, &be) {
			bad++
			l.m.bad.Add(1)
			l.badLog.Warn("pipeline: bad frame", "err", err)
			continue
		}
		return err
	}
	return nil
}

// badFrame is a frame the preprocessing could not use.
type badFrame struct{ err error }

func (b badFrame) Error() string { return b.err.Error() }
func (b badFrame) Unwrap() error { return b.err }

// step classifies one frame and publishes what changed. In steady state (the same label, no
// heartbeat due, no transition) it allocates nothing.
func (l *loop) step(ctx context.Context, f *camera.Frame) error {
	if err := l.pre.FillFrame(l.in.Bytes(), f); err != nil {
		return badFrame{err}
	}
	t0 := l.now()
	if err := l.it.Run(ctx); err != nil {
		return err
	}
	now := l.now()
	inference := now.Sub(t0)
	if err := l.out.Dequantize(l.scores); err != nil {
		return err
	}
	at := f.Timestamp
	if at.IsZero() {
		at = t0
	}
	res, err := l.dec.Step(l.scores, at)
	if err != nil {
		return err
	}
	l.m.observe(inference, res.Top.Label, res.Top.Score, f.Sequence, now)
	l.alive.Store(now.UnixNano())
	for _, tr := range res.Transitions {
		if l.actions != nil {
			l.actions.Set(tr.Label, tr.Active)
		}
		if err := l.pub.PublishClass(tr.Label, tr.Active); err != nil {
			l.log.Warn("pipeline: publish class", "class", tr.Label, "err", err)
		}
		if l.w != nil {
			state := "OFF"
			if tr.Active {
				state = "ON"
			}
			fmt.Fprintf(l.w, "frame %d: %s %s (%.2f)\n", f.Sequence, tr.Label, state, tr.Score)
		}
	}
	changed := res.Top.Index != l.lastLabel
	snapshot := changed && l.snapshots != nil
	if l.grab != nil && (snapshot || now.Sub(l.lastGrab) >= grabEvery) {
		if l.grab.take(f, res.Top.Label, now) {
			l.lastGrab = now
			if snapshot {
				select {
				case l.snapshots <- struct{}{}:
				default: // the last one is still being encoded
				}
			}
		}
	}
	trigger := ""
	if l.triggered {
		trigger, l.triggered = l.triggerName, false
	}
	if !changed && trigger == "" && now.Sub(l.lastState) < l.heartbeat {
		return nil
	}
	l.topk = l.topk[:0]
	for _, s := range res.TopK {
		l.topk = append(l.topk, mqtt.Scored{Label: s.Label, Score: s.Score})
	}
	if l.watched != nil {
		for i := range l.watched {
			l.watched[i] = l.dec.Score(i)
		}
	}
	latency := l.now().Sub(at)
	l.m.publish.observe(latency)
	if err := l.pub.PublishState(mqtt.State{Label: res.Top.Label, Score: res.Top.Score, TopK: l.topk,
		Time: at, Seq: f.Sequence, Latency: latency, Trigger: trigger, Watched: l.watched}); err != nil {
		l.log.Warn("pipeline: publish state", "frame", f.Sequence, "err", err)
	}
	l.lastState = now
	if changed {
		l.lastLabel = res.Top.Index
		if l.screen != nil {
			l.screen.Post(res.Top.Label, res.Top.Score)
		}
		if l.w != nil {
			fmt.Fprintf(l.w, "frame %d: %s %.2f [inference %.1f ms, frame to publish %.1f ms]\n", f.Sequence,
				res.Top.Label, res.Top.Score, float64(inference.Microseconds())/1000, float64(latency.Microseconds())/1000)
		}
	}
	return nil
}

// listenError explains why the /metrics and status page server cannot listen on addr, naming the
// setting that moves it: listen in edgeinfer.yaml, --listen on the command line.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("pipeline: status page and /metrics: %s is in use (another edgeinfer run?): set --listen (listen: in edgeinfer.yaml) to another address, or off", addr)
	}
	return fmt.Errorf("pipeline: status page and /metrics on %s (--listen, listen: in edgeinfer.yaml): %w", addr, err)
}

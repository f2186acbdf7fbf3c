package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
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

// Run runs the pipeline until ctx is cancelled (then it drains the MQTT outbox for at most
// cfg.DrainTimeout and returns nil), the source ends, or cfg.Frames frames have been classified.
// cfg.Model must be a file.
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

	broker := cfg.MQTT.Broker
	if broker == "" {
		b, err := StartBroker(cfg.MQTT.Listen, log)
		if err != nil {
			return err
		}
		defer b.Close()
		broker = b.URL()
		log.Info("embedded MQTT broker", "addr", b.Addr())
	}
	if cfg.Listen != "off" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return fmt.Errorf("pipeline: metrics and status server: %w", err)
		}
		srv := &http.Server{Handler: l.m.Handler(cfg.Device), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics and status page", "url", "http://"+ln.Addr().String()+"/")
	}

	classes := make([]string, len(dc.Classes))
	for i, c := range dc.Classes {
		classes[i] = c.Name
	}
	pub, err := mqtt.Open(ctx, mqtt.Config{
		Broker: broker, Device: cfg.Device,
		Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		Classes: classes, Outbox: cfg.MQTT.Outbox, NoDiscovery: cfg.MQTT.NoDiscovery,
		OnCommand: l.command, Logger: log,
	})
	if err != nil {
		return err
	}
	l.pub = pub
	l.m.Outbox = func() int { return pub.Stats().Queued }
	closePub := func() error {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.DrainTimeout)
		defer cancel()
		return pub.Close(dctx)
	}

	src, err := camera.Open(ctx, cfg.Source, camera.Options{Log: log})
	if err != nil {
		closePub()
		return err
	}
	latest := camera.NewLatest(src)
	l.m.Dropped = latest.Dropped
	log.Info("running", "model", cfg.Model, "source", cfg.Source, "device", cfg.Device, "broker", broker)
	err = l.run(ctx, latest, cfg.Frames)
	latest.Close()
	if cerr := closePub(); cerr != nil {
		log.Warn("pipeline: closing MQTT", "err", cerr)
	}
	if err != nil && ctx.Err() != nil {
		return nil // stopped by ctx: a clean exit
	}
	return err
}

// loop is the per-frame state of Run.
type loop struct {
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
		lastLabel: -1, cmds: make(chan mqtt.Command, 16),
	}, nil
}

// command is the MQTT OnCommand callback: it hands the command to the loop.
func (l *loop) command(c mqtt.Command) {
	select {
	case l.cmds <- c:
	default:
		l.log.Warn("pipeline: command dropped: the loop is busy", "command", c.Command)
	}
}

// apply carries out a command in the loop's goroutine.
func (l *loop) apply(c mqtt.Command) {
	switch c.Command {
	case mqtt.CmdPause:
		l.paused = true
		l.log.Info("paused")
	case mqtt.CmdResume:
		if l.paused {
			l.paused = false
			l.dec.Reset()
			l.log.Info("resumed")
		}
	case mqtt.CmdThresholds:
		for name, t := range c.Thresholds {
			if err := l.dec.SetThresholds(name, t.On, t.Off); err != nil {
				l.log.Warn("pipeline: thresholds command", "err", err)
				continue
			}
			l.log.Info("thresholds", "class", name, "on", t.On, "off", t.Off)
		}
	}
}

// run classifies frames until ctx ends, the source ends (nil) or frames have been classified.
func (l *loop) run(ctx context.Context, src camera.Source, frames int) error {
	bad := 0
	for frames == 0 || l.m.Frames() < uint64(frames) {
		for drained := false; !drained; {
			select {
			case c := <-l.cmds:
				l.apply(c)
			default:
				drained = true
			}
		}
		for l.paused {
			select {
			case c := <-l.cmds:
				l.apply(c)
			case <-ctx.Done():
				return ctx.Err()
			}
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
			l.log.Warn("pipeline: bad frame", "err", err)
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
	for _, tr := range res.Transitions {
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
	if !changed && now.Sub(l.lastState) < l.heartbeat {
		return nil
	}
	l.topk = l.topk[:0]
	for _, s := range res.TopK {
		l.topk = append(l.topk, mqtt.Scored{Label: s.Label, Score: s.Score})
	}
	latency := l.now().Sub(at)
	l.m.publish.observe(latency)
	if err := l.pub.PublishState(mqtt.State{Label: res.Top.Label, Score: res.Top.Score, TopK: l.topk,
		Time: at, Seq: f.Sequence, Latency: latency}); err != nil {
		l.log.Warn("pipeline: publish state", "frame", f.Sequence, "err", err)
	}
	l.lastState = now
	if changed {
		l.lastLabel = res.Top.Index
		if l.w != nil {
			fmt.Fprintf(l.w, "frame %d: %s %.2f [inference %.1f ms, frame to publish %.1f ms]\n", f.Sequence,
				res.Top.Label, res.Top.Score, float64(inference.Microseconds())/1000, float64(latency.Microseconds())/1000)
		}
	}
	return nil
}

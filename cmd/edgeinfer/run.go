package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/pipeline"
)

func init() {
	commands["run"] = command{"run the daemon: camera -> model -> labels over MQTT, /metrics and a status page", runRun}
}

// runRun reads the configuration (file, then EDGEINFER_* variables, then flags) and runs the pipeline.
func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "")
	configFile := fs.String("config", "", "YAML configuration file (see edgeinfer.yaml); EDGEINFER_* variables and flags override it")
	model := fs.String("model", "", "model file, or the name of a pulled model (default: "+defaultModelHint()+")")
	labels := fs.String("labels", "", "labels file, one per line (default: the model's own, or NAME.labels.txt beside it)")
	source := fs.String("source", pipeline.DefaultSource, sourceHelp)
	threads := fs.Int("threads", 1, "worker goroutines per inference")
	device := fs.String("device", "", "device name in MQTT topics and Home Assistant (default: the host name)")
	broker := fs.String("broker", "", "MQTT broker URL, e.g. tcp://host:1883 (default: start the embedded broker)")
	mqttListen := fs.String("mqtt-listen", pipeline.DefaultMQTTListen, "address of the embedded MQTT broker")
	listen := fs.String("listen", pipeline.DefaultListen, "address of /metrics and the status page; off to disable")
	creds := fs.String("credentials", "", "file with the username: and password: the status page and the embedded broker ask for (required to listen beyond loopback)")
	heartbeat := fs.Duration("heartbeat", pipeline.DefaultHeartbeat, "longest time between two state messages")
	frames := fs.Int("frames", 0, "stop after this many classified frames (0: until SIGTERM or the source ends)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("run takes no arguments (use --config or flags)")
	}
	if *frames < 0 {
		return usagef("--frames must not be negative")
	}
	var cfg pipeline.Config
	if *configFile != "" {
		if err := cfg.LoadFile(*configFile); err != nil {
			return err
		}
	}
	if err := cfg.ApplyEnv(e.getenv); err != nil {
		return usageError{err.Error()}
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "model":
			cfg.Model = *model
		case "labels":
			cfg.LabelsFile = *labels
		case "source":
			cfg.Source = *source
		case "threads":
			if *threads < 1 {
				bad = usagef("--threads must be at least 1")
			}
			cfg.Threads = *threads
		case "device":
			cfg.Device = *device
		case "broker":
			cfg.MQTT.Broker = *broker
		case "mqtt-listen":
			cfg.MQTT.Listen = *mqttListen
		case "listen":
			cfg.Listen = *listen
		case "credentials":
			cfg.Credentials = *creds
		case "heartbeat":
			if *heartbeat <= 0 {
				bad = usagef("--heartbeat must be positive")
			}
			cfg.Heartbeat = *heartbeat
		}
	})
	if bad != nil {
		return bad
	}
	cfg.Frames = *frames
	cfg.Out = e.stdout
	path, err := modelOrDefault(ctx, e, cfg.Model,
		func(s string) { e.log.Info(s) },
		func(s string) { e.log.Warn(s) })
	if err != nil {
		return err
	}
	cfg.Model = path
	lpath := cfg.LabelsFile
	if lpath == "" {
		lpath = sidecarLabels(path)
	}
	if lpath != "" {
		if cfg.Labels, err = readLabels(lpath); err != nil {
			return err
		}
	}
	n, wd, err := pipeline.Systemd(e.getenv)
	if err != nil {
		e.log.Warn("not telling systemd", "err", err)
	}
	if n != nil {
		defer n.Close()
		cfg.Notify, cfg.Watchdog = n, wd
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	defer func() { signal.Stop(sigs); close(done) }()
	go forceOnSecond(sigs, done, gpio.AllOff, os.Exit, e.log)
	return pipeline.Run(ctx, cfg, e.log)
}

// forceOnSecond waits for two signals: the first is main's (it cancels the context, and Run shuts
// down in order: drains the MQTT outbox, turns the GPIO outputs off, publishes "offline"); the
// second, say while the outbox drains to an unreachable broker, turns every GPIO output off at
// once and exits with 128+signal, without waiting. It returns when done is closed.
func forceOnSecond(sigs <-chan os.Signal, done <-chan struct{}, off func(), exit func(int), log *slog.Logger) {
	for n := 0; ; {
		select {
		case <-done:
			return
		case sig := <-sigs:
			if n++; n == 1 {
				log.Info("shutting down; a second signal exits at once", "signal", sig.String())
				continue
			}
			off()
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			log.Warn("second signal: exiting now; GPIO outputs are off, queued MQTT messages are lost", "signal", sig.String())
			exit(code)
			return
		}
	}
}

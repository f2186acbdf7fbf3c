// Package pipeline is edgeinfer's run loop: frames from a camera.Source go through the model's
// preprocessing into a runtime.Interpreter, the scores through a decide.Decider, and the labels out
// over MQTT (package publish/mqtt), to the log and to a small HTTP server.
//
// Run does, for every frame it takes (always the newest one, via camera.Latest):
//
//	FillFrame -> Interpreter.Run -> dequantize scores -> Decider.Step ->
//	  PublishClass for each watched class that changed state,
//	  PublishState when the top label changes, and at least every Config.Heartbeat
//
// and prints a line for each label change. The per-frame step allocates nothing in steady state
// (same label, no heartbeat due; pinned by a test with testing.AllocsPerRun); publishing a state
// message allocates (JSON).
//
// Commands on the MQTT set topic pause the loop (no frame is taken while paused), resume it, and
// change the thresholds of watched classes; pause and resume are published on
// edgeinfer/<device>/running (Home Assistant's Classify switch). Each state message carries the
// watched classes' smoothed scores (Home Assistant's score sensors). Home Assistant knows the
// device by Config.DeviceID, or else by DeviceID (from the machine id), so a renamed host keeps its
// device and entities; its device page links to the status page when that listens on a
// non-loopback address. When ctx is cancelled (SIGTERM), Run stops taking
// frames, drains the MQTT outbox for at most Config.DrainTimeout, publishes "offline", and
// returns nil.
//
// # Label groups
//
// Watched classes and action classes may name groups: the built-in ones of models/zoo for the
// model's labels (ImageNet's cat, dog, bird, vehicle, ...; CIFAR-10's) and Config.Groups from the
// file, resolved to label indices when Run starts (errors name the file, line and group). The
// Decider sums a group's smoothed scores each frame without allocating, and a group's transitions
// go to MQTT and GPIO under its name, exactly as a class's.
//
// # GPIO
//
// Config.Actions tie watched classes to GPIO output lines (package gpio: an LED held on while the
// class is active, a relay pulsed, a buzzer pattern), opened before anything else so that a line
// that cannot be had stops Run at once; they are all turned off again whenever Run returns.
// Config.Trigger is an input line whose debounced edges make the next frame's state be published
// with "trigger" set (with Only, no other frame is classified). Action classes, pins, kinds and
// durations are checked when the file is loaded (class names against the model's labels when Run
// starts), errors naming the file, line and field: "edgeinfer.yaml:12: actions[1].pin: ...".
//
// # Snapshots and the status page image
//
// The loop copies a frame into a buffer it reuses (no allocation once it is big enough) about once
// a second for the status page's /frame.jpg, and on each label change when Config.Snapshot is
// enabled; a goroutine then encodes the JPEG (within Snapshot.MaxBytes) and publishes it on
// edgeinfer/<device>/snapshot.
//
// # systemd
//
// With Config.Notify (the CLI sets it from $NOTIFY_SOCKET) Run sends READY=1 once the model,
// the broker connection and the camera are up, WATCHDOG=1 every Config.Watchdog/2 while frames
// keep being classified (or the loop waits on purpose: paused, or for its trigger), and
// STOPPING=1 when the loop ends.
//
// # Broker
//
// With no broker configured (Config.MQTT.Broker empty) Run starts an embedded MQTT broker
// (github.com/mochi-mqtt/server/v2) on Config.MQTT.Listen, 127.0.0.1:1883 by default. It accepts
// anonymous clients from loopback addresses only; a port already taken is an error that says to
// set mqtt.broker to the broker already running there. With Config.Credentials (a file with
// username: and password:, see internal/credentials) it accepts the clients that give them, from
// anywhere, and no others (StartBrokerAuth); the daemon's own client gives them too. Listening
// beyond loopback (isLoopbackAddr) without credentials is refused: Run names mqtt.listen.
//
// # HTTP
//
// Config.Listen (127.0.0.1:9108 by default; "off" disables it) serves /metrics in the Prometheus
// text format (frames, dropped frames, bad frames, histograms of the inference time and of the
// time from frame capture to state message, the MQTT outbox depth) and / a plain HTML status page
// with the latest frame (/frame.jpg), label, score and frame rate. With Config.Credentials the
// whole server asks for them by HTTP basic authentication (BasicAuth, constant-time); beyond
// loopback without them Run refuses to start, naming listen.
//
// # Configuration
//
// Config is read from a YAML file by LoadFile (unknown fields are errors naming their line;
// see edgeinfer.yaml in the repository), then environment variables override it (ApplyEnv):
//
//	EDGEINFER_MODEL  EDGEINFER_LABELS  EDGEINFER_SOURCE  EDGEINFER_DEVICE  EDGEINFER_THREADS
//	EDGEINFER_LISTEN  EDGEINFER_MQTT_BROKER  EDGEINFER_MQTT_LISTEN  EDGEINFER_MQTT_USERNAME
//	EDGEINFER_MQTT_PASSWORD  EDGEINFER_CREDENTIALS
//
// and the command line's flags override both.
package pipeline

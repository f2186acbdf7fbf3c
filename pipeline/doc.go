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
// change the thresholds of watched classes. When ctx is cancelled (SIGTERM), Run stops taking
// frames, drains the MQTT outbox for at most Config.DrainTimeout, publishes "offline", and
// returns nil.
//
// # Broker
//
// With no broker configured (Config.MQTT.Broker empty) Run starts an embedded MQTT broker
// (github.com/mochi-mqtt/server/v2) on Config.MQTT.Listen, 127.0.0.1:1883 by default. It accepts
// anonymous clients from loopback addresses only; a port already taken is an error that says to
// set mqtt.broker to the broker already running there.
//
// # HTTP
//
// Config.Listen (127.0.0.1:9108 by default; "off" disables it) serves /metrics in the Prometheus
// text format (frames, dropped frames, bad frames, histograms of the inference time and of the
// time from frame capture to state message, the MQTT outbox depth) and / a plain HTML status page
// with the latest label, score and frame rate.
//
// # Configuration
//
// Config is read from a YAML file by LoadFile (unknown fields are errors naming their line;
// see edgeinfer.yaml in the repository), then environment variables override it (ApplyEnv):
//
//	EDGEINFER_MODEL  EDGEINFER_LABELS  EDGEINFER_SOURCE  EDGEINFER_DEVICE  EDGEINFER_THREADS
//	EDGEINFER_LISTEN  EDGEINFER_MQTT_BROKER  EDGEINFER_MQTT_LISTEN  EDGEINFER_MQTT_USERNAME
//	EDGEINFER_MQTT_PASSWORD
//
// and the command line's flags override both.
package pipeline

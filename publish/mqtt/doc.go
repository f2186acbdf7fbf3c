// Package mqtt publishes edgeinfer's labels to an MQTT broker, ready for Home Assistant.
//
// Open connects a Publisher (github.com/eclipse/paho.mqtt.golang, MQTT 3.1.1, QoS 1 throughout)
// and keeps it connected. For a device named <device> it uses these topics:
//
//	edgeinfer/<device>/availability   "online" (retained) once connected; "offline" (retained) on
//	                                  Close, and as the last will when the connection dies
//	edgeinfer/<device>/state          a JSON State per published frame: label, score, top_k,
//	                                  timestamp, seq, latency_ms, and trigger when an input asked
//	                                  for the frame
//	edgeinfer/<device>/snapshot       a JPEG image (PublishSnapshot; QoS 0, not retained)
//	edgeinfer/<device>/class/<slug>   "ON" or "OFF" (retained), one per watched class (see Slug)
//	edgeinfer/<device>/set            commands to the device (see Command): pause, resume,
//	                                  thresholds, delivered to Config.OnCommand
//
// and Home Assistant MQTT discovery (retained), published at every connection and again whenever
// Home Assistant announces itself with "online" on homeassistant/status:
//
//	homeassistant/sensor/<device>/label/config                 the label sensor: state from the
//	        state topic's label, score/top_k/seq/latency_ms as attributes, the availability topic
//	homeassistant/binary_sensor/<device>_<slug>/config         one per watched class
//
// # Delivery
//
// PublishState and PublishClass never block: they put the message in a bounded in-memory outbox
// (Config.Outbox, default 1000 messages) from which a goroutine hands messages to paho while the
// connection is up, at most Config.Inflight (default 8) awaiting their PUBACK. A message leaves
// the outbox for good only when the broker has acknowledged it, so labels produced while the
// broker is down or restarting are delivered when it is back (at least once: a message whose
// PUBACK was lost may arrive twice). When the outbox is full the OLDEST STATE MESSAGE is dropped
// (Stats.Dropped counts them); class states are never dropped for state messages: a new ON/OFF
// replaces the one of the same class still waiting, since only the newest matters (it is retained).
//
// # Connection
//
// The session is clean: after every connection (the first one and each reconnection) the
// Publisher subscribes again to its set topic and to homeassistant/status, and publishes
// availability, discovery and the current class states again, since a restarted broker may have
// lost them. A broker that cannot be reached is retried with exponential backoff from 1 s up to
// Config.MaxReconnectInterval (default 30 s), each failure logged with log/slog; this is never an
// error. A broker that refuses the connection is: Open returns a *ConnectError naming the broker
// ("not authorized" for bad credentials, errors.Is(err, ErrNotAuthorized)), as it does for a TLS
// certificate it cannot accept. TLS is used for ssl://, tls://, mqtts:// and wss:// brokers, with
// the CA, client certificate and key from PEM files; user name and password are optional.
//
// Close(ctx) drains the outbox (bounded by ctx), publishes "offline", disconnects and reports
// messages left undelivered.
package mqtt

// Package mqtt publishes edgeinfer's labels to an MQTT broker, ready for Home Assistant.
//
// Open connects a Publisher (github.com/eclipse/paho.mqtt.golang, MQTT 3.1.1, QoS 1 throughout
// unless Config.Session)
// and keeps it connected. For a device named <device> it uses these topics:
//
//	edgeinfer/<device>/availability   "online" (retained) once connected; "offline" (retained) on
//	                                  Close, as the last will when the connection dies, and while
//	                                  the camera source is lost (PublishSource)
//	edgeinfer/<device>/state          a JSON State per published frame: label, score, top_k,
//	                                  timestamp, seq, latency_ms, trigger when an input asked for
//	                                  the frame, and watched: {"<slug>": score} of the watched
//	                                  classes (State.Watched)
//	edgeinfer/<device>/snapshot       a JPEG image (PublishSnapshot; QoS 0, not retained; the last
//	                                  one again when Home Assistant comes online)
//	edgeinfer/<device>/class/<slug>   "ON" or "OFF" (retained), one per watched class (see Slug);
//	                                  "OFF" at every connection until PublishClass says otherwise
//	edgeinfer/<device>/running        "ON" (retained) while classifying, "OFF" while paused
//	                                  (PublishRunning; "ON" at connection until it is called)
//	edgeinfer/<device>/source         the camera source's last loss or return (retained JSON)
//	edgeinfer/<device>/set            commands to the device (see Command): pause, resume,
//	                                  thresholds, delivered to Config.OnCommand; retained
//	                                  messages are ignored with a warning (a retained pause would
//	                                  pause every restart)
//
// and Home Assistant MQTT discovery (retained), published at every connection and again whenever
// Home Assistant announces itself with "online" on homeassistant/status, on the topics
// homeassistant/<component>/edgeinfer_<id>/<object>/config, <id> being Config.DeviceID:
//
//	sensor/…/label            the label sensor: state from the state topic's label;
//	                          score/top_k/seq/latency_ms as attributes
//	switch/…/classify         "Classify": on while classifying; it sends "resume" and "pause" to
//	                          the set topic and reads edgeinfer/<device>/running
//	image/…/snapshot          the snapshot (image_topic), when Config.Snapshot is set
//	binary_sensor/…/<slug>    one per watched class, its device_class from Config.DeviceClass
//	                          (default occupancy)
//	sensor/…/<slug>_score     one per watched class: its score from the state's "watched"
//	                          (state_class measurement, no unit)
//
// Every payload has unique_id edgeinfer_<id>_<object> and default_entity_id
// <component>.edgeinfer_<device>_<object> (not the deprecated object_id), the device block
// (identifiers edgeinfer_<id>, sw_version Config.Version, configuration_url
// Config.ConfigurationURL when set), an origin block (name edgeinfer, sw_version, support_url) and
// the availability topic, so that Home Assistant shows the entities unavailable while the device
// or its camera is away. Since they are named by DeviceID, a device renamed (a new Device) keeps its
// device and entities in Home Assistant. The discovery topics of earlier versions, named by Device
// (homeassistant/sensor/<device>/label/config, homeassistant/binary_sensor/<device>_<slug>/config),
// are cleared at every connection.
//
// # Delivery
//
// PublishState and PublishClass never block: they put the message in a bounded in-memory outbox
// (Config.Outbox, default 1000 messages), one ordered queue from which a goroutine hands messages
// to paho while the connection is up, at most Config.Inflight (default 8) awaiting their PUBACK. A
// message leaves the outbox only when the broker has acknowledged it. After a lost connection the
// unacknowledged messages are sent again from the oldest, before any newer one, so labels produced
// while the broker is down, restarting or hung are delivered in order when it is back (at least
// once: a message whose PUBACK was lost may arrive twice; Stats.Retried counts messages sent
// again). paho's own store never resends anything (a clean session, no automatic reconnection),
// which also avoids its data race between resume and the sender (eclipse-paho/paho.mqtt.golang#703).
//
// Duplicates: under QoS 1 a message the broker received, and passed on, but whose PUBACK was lost
// with the connection is sent again as a new message, and subscribers get it twice (MQTT 3.1.1,
// 4.3.2: at least once). A smaller Config.Inflight bounds how many per lost connection, not
// whether. Config.Session removes them between the Publisher and a broker that keeps the session:
// the outbox's messages go at QoS 2 with clean session off, and after a lost connection paho's
// resume sends the unacknowledged PUBLISHes again with their packet identifiers (DUP set), which
// the broker recognises, and the PUBRELs of those it had acknowledged with PUBREC. Two paho v1.5.1
// defects are worked around for it (see sessionStore): its MemoryStore hands resume the packet
// the sender may be encoding (#703) in map order, and it never stores the PUBREL it sends, so it
// would resend the PUBLISH of a message the broker had already released (a duplicate); the
// Publisher's own store copies packets, keeps their order, and replaces a PUBLISH by its PUBREL
// when the broker's PUBREC goes by on the connection (pubrecConn). What remains: the broker must
// keep the session (mosquitto: across its restarts only with persistence, and a SIGKILL loses
// what it had not saved — a message whose PUBREC the broker sent before losing the session is
// then lost, which the Publisher logs); duplicates between the broker and a subscriber depend on
// the subscriber's own QoS, session and client (a subscriber at QoS 2 with a persistent session
// whose client releases a message once, as libmosquitto's mosquitto_sub does, gets none; paho.mqtt.golang
// v1.5.1 passes a QoS 2 PUBLISH the broker sends again on a second time); and a daemon restart
// starts a new packet-identifier space (the outbox file's messages are sent as new). Subscribers
// can drop duplicates by the state's seq in any case.
//
// When the outbox is full the OLDEST WAITING STATE MESSAGE is dropped (messages in flight are
// kept, they may have arrived); class states are never dropped for state messages: a new ON/OFF
// replaces the one of the same class still waiting, since only the newest matters (it is
// retained). Drops are counted (Stats.Dropped; edgeinfer_mqtt_dropped_total{reason="outbox_full"}
// in the daemon's /metrics) and logged twice per outage: one warning when dropping starts, one
// summary with the count when the broker is back (or at Close), never one line per message.
//
// # Connection
//
// The session is clean: after every connection (the first one and each reconnection) the
// Publisher subscribes again to its set topic and to homeassistant/status, and publishes
// availability, discovery (and empty messages on the legacy discovery topics), and the class and
// running states the outbox does not already hold (OFF and ON before any was given), since a
// restarted broker may have lost them. The Publisher makes every connection itself: while the
// broker cannot be reached it tries again after 100 ms, the wait doubling up to
// Config.MaxReconnectInterval (default 250 ms), and from 100 ms again after every lost connection
// (one lost within a second of being made, e.g. to another client with the same ID, waits first),
// so it is connected again within about a quarter of a second of the broker being reachable, however
// long or often it was away (paho's own backoff reached 20 s). The first failure of an outage is
// logged, then one line every 30 s; lost connections likewise. A hung broker (one that accepts but does not answer) is
// detected by the keep-alive: Config.KeepAlive (default 10 s) without a packet from the broker,
// then Config.PingTimeout (default half of it, at most 5 s) without an answer to PINGREQ.
//
// A broker that refuses the connection is an error: Open returns a *ConnectError naming the
// broker ("not authorized" for bad credentials, errors.Is(err, ErrNotAuthorized)), as it does
// for a TLS certificate it cannot accept, and for a TLS/plain mismatch (errors.Is(err,
// ErrTLSMismatch)): when an attempt reaches the port but fails, the port is probed with the other
// protocol (an MQTT CONNECT in plain TCP for an ssl:// URL, a TLS ClientHello for a tcp:// one)
// and a port that answers it is reported as "not a TLS port" or "the port expects TLS" instead of
// being retried as unreachable. TLS is used for ssl://, tls://, mqtts:// and wss:// brokers, with
// the CA, client certificate and key from PEM files; user name and password are optional, and a
// password for a plain tcp:// broker that is not on this machine gets a warning.
//
// # Commands
//
// Command payloads larger than Config.MaxCommandBytes (default 64 KiB) are ignored with one
// warning before being parsed (Stats.BadCommands counts them). The embedded broker of the daemon
// also refuses packets over 1 MiB, which protects against huge payloads before they are read;
// with an external broker, set its limit too (mosquitto: max_packet_size).
//
// Close(ctx) drains the outbox (bounded by ctx), reconnecting meanwhile as often as it takes,
// publishes "offline", disconnects and, when messages were left undelivered, logs an error with
// their number and returns an error naming the broker (the daemon then exits with status 1) —
// unless Config.OutboxFile is set: then they are saved there (at most Outbox messages, JSON
// lines, written atomically) and the next Open loads them back ahead of anything new, so a
// restart of the daemon loses nothing the outbox held (a crash or power cut still does).
package mqtt

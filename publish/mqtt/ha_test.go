package mqtt

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// haPayload reads the newest retained discovery payload on topic as JSON.
func haPayload(t *testing.T, w *watcher, topic string) map[string]any {
	t.Helper()
	r := w.on(topic)
	if len(r) == 0 {
		t.Fatalf("no discovery payload on %s", topic)
	}
	m := r[len(r)-1]
	if !m.retained {
		t.Errorf("%s: not retained", topic)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(m.payload), &v); err != nil {
		t.Fatalf("%s: %v: %s", topic, err, m.payload)
	}
	return v
}

// wantFields checks fields of a discovery payload: a nil want means the key must be absent.
func wantFields(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case v == nil && ok:
			t.Errorf("%s: %s = %v, want no such key", what, k, g)
		case v != nil && !reflect.DeepEqual(g, v):
			t.Errorf("%s: %s = %#v, want %#v", what, k, g, v)
		}
	}
}

// waitConnected waits until the switch's initial state, the last message a connection publishes
// before the outbox flows, reached the broker: the retained messages before it are there too.
func waitConnected(t *testing.T, url, device string) {
	t.Helper()
	w := newWatcher(t, url, "probe-"+device, false, "edgeinfer/"+device+"/running")
	eventually(t, 10*time.Second, "the connection's initial states", func() bool { return len(w.on("edgeinfer/"+device+"/running")) > 0 })
}

// TestHomeAssistantConformance checks, against a real mosquitto, the discovery payloads of every
// entity field by field (as https://www.home-assistant.io/integrations/mqtt/ documents them today:
// default_entity_id rather than the deprecated object_id, an origin block, the device's
// sw_version, configuration_url and stable identifiers, binary sensors with a device_class, a
// score sensor per watched class, the Classify switch, the snapshot image), the initial OFF states,
// a retained command ignored, and availability offline while the camera source is lost.
func TestHomeAssistantConformance(t *testing.T) {
	b := startBroker(t, brokerOpts{})
	const (
		base  = "edgeinfer/HA-cam/"
		disc  = "homeassistant/"
		node  = "/edgeinfer_0123abcd/"
		avail = base + "availability"
	)
	ctl := newWatcher(t, b.url(), "ctl", false, "nothing/#")
	// A retained pause left on the command topic (by a user, or a tool that retains everything):
	// it must not pause the device when it starts.
	ctl.publish(t, base+"set", `{"command":"pause"}`, true)

	cmds := make(chan Command, 10)
	log, logs := testLogger()
	classes := []string{"cat", "n02099601 golden retriever"}
	p := open(t, Config{Broker: b.url(), Device: "HA-cam", DeviceID: "0123abcd", Classes: classes,
		DeviceClass: map[string]string{"n02099601 golden retriever": "motion"}, Version: "v1.2.3",
		ConfigurationURL: "http://192.0.2.7:9108/", Snapshot: true, Logger: log,
		OnCommand: func(c Command) { cmds <- c }})
	waitConnected(t, b.url(), "HA-cam")
	w := newWatcher(t, b.url(), "ha", false, "homeassistant/#", "edgeinfer/#")

	// Every entity: its unique_id and default_entity_id from the device id and name, the device
	// block, the origin block, the availability topic, and no deprecated object_id.
	device := map[string]any{
		"identifiers":       []any{"edgeinfer_0123abcd"},
		"name":              "edgeinfer HA-cam",
		"manufacturer":      "edgeinfer",
		"model":             "edgeinfer camera classifier",
		"sw_version":        "v1.2.3",
		"configuration_url": "http://192.0.2.7:9108/",
	}
	origin := map[string]any{"name": "edgeinfer", "sw_version": "v1.2.3", "support_url": SupportURL}
	common := func(domain, object, name string) map[string]any {
		return map[string]any{
			"name":                  name,
			"unique_id":             "edgeinfer_0123abcd_" + object,
			"default_entity_id":     domain + ".edgeinfer_ha_cam_" + object,
			"object_id":             nil,
			"availability_topic":    avail,
			"payload_available":     "online",
			"payload_not_available": "offline",
			"device":                device,
			"origin":                origin,
		}
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	want := map[string]map[string]any{
		disc + "sensor" + node + "label/config": with(common("sensor", "label", "Label"),
			"state_topic", base+"state", "value_template", "{{ value_json.label }}", "json_attributes_topic", base+"state"),
		disc + "switch" + node + "classify/config": with(common("switch", "classify", "Classify"),
			"command_topic", base+"set", "state_topic", base+"running",
			"payload_on", "resume", "payload_off", "pause", "state_on", "ON", "state_off", "OFF"),
		disc + "image" + node + "snapshot/config": with(common("image", "snapshot", "Snapshot"),
			"image_topic", base+"snapshot", "content_type", "image/jpeg", "state_topic", nil),
		disc + "binary_sensor" + node + "cat/config": with(common("binary_sensor", "cat", "cat"),
			"state_topic", base+"class/cat", "payload_on", "ON", "payload_off", "OFF", "device_class", "occupancy"),
		disc + "binary_sensor" + node + "n02099601_golden_retriever/config": with(common("binary_sensor", "n02099601_golden_retriever", "n02099601 golden retriever"),
			"state_topic", base+"class/n02099601_golden_retriever", "payload_on", "ON", "payload_off", "OFF", "device_class", "motion"),
		disc + "sensor" + node + "cat_score/config": with(common("sensor", "cat_score", "cat score"),
			"state_topic", base+"state", "value_template", "{{ value_json.watched['cat'] }}",
			"state_class", "measurement", "unit_of_measurement", nil, "device_class", nil),
		disc + "sensor" + node + "n02099601_golden_retriever_score/config": with(common("sensor", "n02099601_golden_retriever_score", "n02099601 golden retriever score"),
			"state_topic", base+"state", "value_template", "{{ value_json.watched['n02099601_golden_retriever'] }}",
			"state_class", "measurement", "unit_of_measurement", nil),
	}
	eventually(t, 5*time.Second, "retained discovery payloads", func() bool {
		for topic := range want {
			if len(w.on(topic)) == 0 {
				return false
			}
		}
		return true
	})
	for topic, fields := range want {
		wantFields(t, topic, haPayload(t, w, topic), fields)
	}
	w.mu.Lock()
	for _, m := range w.msgs {
		if strings.HasPrefix(m.topic, disc) && want[m.topic] == nil {
			t.Errorf("unexpected discovery message %s: %q", m.topic, m.payload)
		}
	}
	w.mu.Unlock()

	// The initial states, retained: every watched class OFF, the switch ON (classifying),
	// available.
	for topic, v := range map[string]string{base + "class/cat": "OFF", base + "class/n02099601_golden_retriever": "OFF",
		base + "running": "ON", avail: "online"} {
		if r := w.on(topic); len(r) != 1 || r[0].payload != v || !r[0].retained {
			t.Errorf("%s: %+v, want %s retained", topic, r, v)
		}
	}

	// The score sensors' value: the state's "watched" object, keyed as their templates say.
	if err := p.PublishState(State{Label: "tabby", Score: 0.7, Seq: 1, Time: frameTime, Watched: []float64{0.812345, 0.05}}); err != nil {
		t.Fatal(err)
	}
	if err := p.PublishState(State{Label: "tabby", Watched: []float64{0.5}}); err == nil {
		t.Error("PublishState with 1 watched score for 2 classes: no error")
	}
	eventually(t, 5*time.Second, "state", func() bool { return len(w.on(base+"state")) == 1 })
	var st struct{ Watched map[string]float64 }
	if err := json.Unmarshal([]byte(w.on(base + "state")[0].payload), &st); err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"cat": 0.8123, "n02099601_golden_retriever": 0.05}; !reflect.DeepEqual(st.Watched, want) {
		t.Errorf("state's watched scores %v, want %v", st.Watched, want)
	}

	// The switch: its payloads are commands the set topic understands; the retained pause was
	// not one of them (the first command received is the switch's "on").
	ctl.publish(t, base+"set", "resume", false)
	ctl.publish(t, base+"set", "pause", false)
	for _, want := range []string{CmdResume, CmdPause} {
		select {
		case c := <-cmds:
			if c.Command != want {
				t.Fatalf("command %q, want %q (the retained pause must be ignored)", c.Command, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q command", want)
		}
	}
	if !strings.Contains(logs.String(), "ignoring a retained command") {
		t.Errorf("no log line about the retained command:\n%s", logs)
	}
	if n := p.Stats().BadCommands; n != 1 {
		t.Errorf("Stats.BadCommands %d, want 1 (the retained command)", n)
	}
	if err := p.PublishRunning(false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "switch state OFF", func() bool {
		r := w.on(base + "running")
		return len(r) == 2 && r[1].payload == "OFF"
	})
	w2 := newWatcher(t, b.url(), "w2", false, base+"running")
	eventually(t, 5*time.Second, "switch state OFF retained", func() bool {
		r := w2.on(base + "running")
		return len(r) == 1 && r[0].payload == "OFF" && r[0].retained
	})

	// Home Assistant restarts: discovery again, and the last snapshot for its image entity.
	if err := p.PublishSnapshot([]byte("\xff\xd8jpeg")); err != nil {
		t.Fatal(err)
	}
	ctl.publish(t, "homeassistant/status", "online", false)
	eventually(t, 5*time.Second, "discovery and the last snapshot again after homeassistant/status online", func() bool {
		return len(w.on(disc+"image"+node+"snapshot/config")) == 2 && len(w.on(base+"snapshot")) == 2
	})

	// The camera source is lost: availability offline (retained), which every entity's
	// availability_topic names; back: online.
	if err := p.PublishSource(true, "camera gone"); err != nil {
		t.Fatal(err)
	}
	late := newWatcher(t, b.url(), "late", false, avail, base+"source")
	eventually(t, 5*time.Second, "availability offline while the source is lost", func() bool {
		r := late.on(avail)
		return len(r) > 0 && r[len(r)-1].payload == "offline"
	})
	if r := late.on(base + "source"); len(r) == 0 || !strings.Contains(r[len(r)-1].payload, `"lost":true`) {
		t.Errorf("source topic %+v", r)
	}
	if err := p.PublishSource(false, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "availability online when the source is back", func() bool {
		r := late.on(avail)
		return len(r) > 0 && r[len(r)-1].payload == "online"
	})
}

// TestHomeAssistantRename: a new device name with the same device id keeps the device and its
// entities (same discovery topics, identifiers and unique_ids; only the topics they read change),
// and the discovery topics of earlier versions (named by the device name) are cleared. Without a
// configuration URL or snapshots, the device has no configuration_url and there is no image.
func TestHomeAssistantRename(t *testing.T) {
	b := startBroker(t, brokerOpts{})
	ctl := newWatcher(t, b.url(), "ctl", false, "nothing/#")
	legacy := []string{"homeassistant/sensor/newname/label/config", "homeassistant/binary_sensor/newname_cat/config"}
	for _, topic := range legacy {
		ctl.publish(t, topic, `{"name":"old"}`, true)
	}
	for i, dev := range []string{"oldname", "newname"} {
		p := open(t, Config{Broker: b.url(), Device: dev, DeviceID: "f00d", Classes: []string{"cat"}})
		waitConnected(t, b.url(), dev)
		w := newWatcher(t, b.url(), fmt.Sprint("w", i), false, "homeassistant/#")
		topic := "homeassistant/binary_sensor/edgeinfer_f00d/cat/config"
		eventually(t, 5*time.Second, "discovery", func() bool { return len(w.on(topic)) > 0 })
		wantFields(t, dev, haPayload(t, w, topic), map[string]any{
			"unique_id":         "edgeinfer_f00d_cat",
			"default_entity_id": "binary_sensor.edgeinfer_" + dev + "_cat",
			"state_topic":       "edgeinfer/" + dev + "/class/cat",
		})
		if d, _ := haPayload(t, w, topic)["device"].(map[string]any); d == nil || fmt.Sprint(d["identifiers"]) != "[edgeinfer_f00d]" || d["configuration_url"] != nil {
			t.Errorf("%s: device %v", dev, d)
		}
		if r := w.on("homeassistant/image/edgeinfer_f00d/snapshot/config"); len(r) != 0 {
			t.Errorf("an image entity without snapshots: %+v", r)
		}
		if i == 1 {
			for _, topic := range legacy {
				if r := w.on(topic); len(r) != 0 {
					t.Errorf("legacy discovery topic %s not cleared: %+v", topic, r)
				}
			}
		}
		p.Close(t.Context())
	}
}

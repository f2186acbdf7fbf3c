package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	p := writeConfig(t, `# a comment
model: m.tflite
source: pattern:?size=64x48
heartbeat: 10s
watch:
  - class: cat
    on: 0.7
    off: 0.4
  - class: dog
    on: 0.6
mqtt:
  broker: tcp://broker:1883
  username: u
`)
	var c Config
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	if c.Model != "m.tflite" || c.Source != "pattern:?size=64x48" || c.Heartbeat != 10*time.Second ||
		len(c.Watch) != 2 || c.Watch[0].Off != 0.4 || c.MQTT.Broker != "tcp://broker:1883" || c.MQTT.Username != "u" {
		t.Fatalf("loaded %+v", c)
	}
	if len(c.watchLines) != 2 || c.watchLines[0] != 6 || c.watchLines[1] != 9 {
		t.Errorf("watch lines %v, want [6 9]", c.watchLines)
	}
	_, err := c.decideConfig([]string{"cat", "bird"})
	if err == nil || !strings.Contains(err.Error(), p+":9: watch: unknown class \"dog\"") {
		t.Errorf("unknown watched class: %v", err)
	}
	if _, err := c.decideConfig([]string{"cat", "dog"}); err != nil {
		t.Errorf("known classes: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"model: m\nsorce: auto\n", "line 2: field sorce not found"},
		{"mqtt:\n  broker: x\n  pasword: y\n", "line 3: field pasword not found"},
		{"watch:\n  - class: cat\n    onn: 0.5\n", "line 3: field onn not found"},
		{"threads: many\n", "line 1: cannot unmarshal !!str `many` into int"},
		{"heartbeat: soon\n", "line 1"},
		{"model: [\n", "line 1: did not find expected node content"},
		{"model: m\nsource: pattern:\nthreads: 1\n", "line 2: mapping values are not allowed"},
	} {
		p := writeConfig(t, tc.text)
		var c Config
		err := c.LoadFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: error %v, want it to name %s and contain %q", tc.text, err, p, tc.want)
		}
	}
	var c Config
	if err := c.LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestApplyEnvAndDefaults(t *testing.T) {
	env := map[string]string{"EDGEINFER_SOURCE": "pattern:", "EDGEINFER_MQTT_BROKER": "tcp://b:1883", "EDGEINFER_THREADS": "2"}
	c := Config{Source: "auto", Threads: 1}
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Source != "pattern:" || c.MQTT.Broker != "tcp://b:1883" || c.Threads != 2 {
		t.Errorf("after env: %+v", c)
	}
	env["EDGEINFER_THREADS"] = "zero"
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "EDGEINFER_THREADS") {
		t.Errorf("bad EDGEINFER_THREADS: %v", err)
	}
	var d Config
	d.Defaults()
	if d.Source != "auto" || d.Listen != DefaultListen || d.MQTT.Listen != DefaultMQTTListen || d.Device == "" || d.Heartbeat != DefaultHeartbeat {
		t.Errorf("defaults: %+v", d)
	}
	e := Config{MQTT: MQTT{Broker: "tcp://x"}}
	e.Defaults()
	if e.MQTT.Listen != "" {
		t.Errorf("an external broker still gets an embedded listen address %q", e.MQTT.Listen)
	}
}

// TestExampleConfig: the documented example in the repository root loads, with its stated values.
func TestExampleConfig(t *testing.T) {
	var c Config
	if err := c.LoadFile("../edgeinfer.yaml"); err != nil {
		t.Fatal(err)
	}
	if c.Source != "auto" || c.Listen != DefaultListen || c.MQTT.Listen != DefaultMQTTListen || c.MQTT.Broker != "" ||
		c.Heartbeat != DefaultHeartbeat || c.Smoothing != DefaultSmoothing || c.TopK != DefaultTopK || c.OffDelay != 2*time.Second {
		t.Errorf("example config: %+v", c)
	}
}

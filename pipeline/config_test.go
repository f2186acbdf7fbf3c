package pipeline

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/pipeline/decide"
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
  inflight: 1
  session: true
`)
	var c Config
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	if c.Model != "m.tflite" || c.Source != "pattern:?size=64x48" || c.Heartbeat != 10*time.Second ||
		len(c.Watch) != 2 || c.Watch[0].Off != 0.4 || c.MQTT.Broker != "tcp://broker:1883" || c.MQTT.Username != "u" ||
		c.MQTT.Inflight != 1 || !c.MQTT.Session {
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
		{"model: m\nsorce: auto\n", `:2: unknown key "sorce" (did you mean "source"?)`},
		{"wacth:\n  - class: cat\n", `:1: unknown key "wacth" (did you mean "watch"?)`},
		{"Watch:\n  - class: cat\n", `:1: unknown key "Watch" (did you mean "watch"?)`},
		{"mqtt:\n  broker: x\n  pasword: y\n", `:3: unknown key "pasword" (did you mean "password"?)`},
		{"mqtt:\n  brokr: x\n", `:2: unknown key "brokr" (did you mean "broker"?)`},
		{"watch:\n  - class: cat\n    onn: 0.5\n", `:3: unknown key "onn" (did you mean "on"?)`},
		{"snapshot:\n  enabeld: true\n", `:2: unknown key "enabeld" (did you mean "enabled"?)`},
		{"trigger:\n  pinn: GPIO4\n", `:2: unknown key "pinn" (did you mean "pin"?)`},
		{"camera: x\n", `:1: unknown key "camera" (known keys here: actions, credentials, device, device_id, display, drain_timeout, groups, heartbeat, labels, listen, model, mqtt, off_delay, smoothing, snapshot, source, threads, top_k, trigger, watch)`},
		{"threads: many\n", `:1: "many" where a whole number is wanted`},
		{"heartbeat: soon\n", `:1: "soon" where a duration such as 30s or 500ms is wanted`},
		{"mqtt: [1]\n", ":1: a list where a mapping of keys is wanted"},
		{"model: [\n", ":1: did not find expected node content"},
		{"model: m\nsource: pattern:\nthreads: 1\n", ":2: mapping values are not allowed"},
	} {
		p := writeConfig(t, tc.text)
		var c Config
		err := c.LoadFile(p)
		if err == nil || !strings.Contains(err.Error(), p+tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, p+tc.want)
		} else if strings.Contains(err.Error(), "pipeline.") || strings.Contains(err.Error(), "!!") {
			t.Errorf("%q: error %v names a Go type or a YAML tag", tc.text, err)
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

// User-defined groups in the file, with CIFAR-10's built-in ones: watch: and actions: take group
// names, members are labels, first names of labels or built-in groups, and the mistakes are errors
// naming the file, the line and the group.
func TestGroupsConfig(t *testing.T) {
	cifar := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	p := writeConfig(t, `watch:
  - class: garden
    on: 0.6
  - class: vehicle
    on: 0.5
groups:
  garden: [bird, pet, deer]
  flying: [airplane, "bird"]
actions:
  - class: flying
    pin: GPIO17
    kind: led
`)
	var c Config
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	dc, err := c.decideConfig(cifar)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, g := range dc.Groups {
		got[g.Name] = g.Members
	}
	if !slices.Equal(got["garden"], []int{2, 3, 5, 4}) || !slices.Equal(got["flying"], []int{0, 2}) || !slices.Equal(got["vehicle"], []int{1, 9}) {
		t.Errorf("groups %v", got)
	}
	var names []string
	for _, w := range dc.Classes {
		names = append(names, w.Name)
	}
	if !slices.Equal(names, []string{"garden", "vehicle", "flying"}) {
		t.Errorf("watched %v, want garden, vehicle and the action's flying", names)
	}
	// The decider sums a group's labels.
	d, err := decide.New(cifar, dc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Step([]float64{0, 0, 0.25, 0.2, 0.2, 0.05, 0.3, 0, 0, 0}, time.Now())
	if err != nil || len(r.Transitions) != 1 || r.Transitions[0].Label != "garden" || math.Abs(r.Transitions[0].Score-0.7) > 1e-9 {
		t.Fatalf("transitions %+v, %v; want garden on at 0.7", r.Transitions, err)
	}

	// A label's first name is a member; so is a built-in ImageNet-style label with commas.
	imagenetish := []string{"tabby, tabby cat", "tiger cat", "crane", "crane"}
	c = Config{Groups: map[string][]string{"kitty": {"tabby", "tiger cat"}}}
	if dc, err := c.decideConfig(imagenetish); err != nil || len(dc.Groups) != 1 || !slices.Equal(dc.Groups[0].Members, []int{0, 1}) {
		t.Errorf("first names: %+v, %v", dc.Groups, err)
	}

	for _, tc := range []struct{ text, want string }{
		{"groups:\n  garden: [bird, hedgehog]\n", ":2: groups.garden: unknown member \"hedgehog\": not one of the model's 10 labels nor a built-in group (pet, car, vehicle, boat, aircraft, animal)"},
		{"groups:\n  cat: [dog]\n", ":2: groups.cat: the group has the name of one of the model's labels"},
		{"groups:\n  garden: []\n", ":2: groups.garden: no members"},
		{"watch:\n  - class: gardn\ngroups:\n  garden: [bird]\n", ":2: watch: unknown class \"gardn\": not one of the model's 10 labels nor one of its 7 groups"},
	} {
		p := writeConfig(t, tc.text)
		var c Config
		err := c.LoadFile(p)
		if err == nil {
			_, err = c.decideConfig(cifar)
		}
		if err == nil || !strings.Contains(err.Error(), p+tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, p+tc.want)
		}
	}
}

package pipeline

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/gpio"
)

func TestLoadActions(t *testing.T) {
	p := writeConfig(t, `model: m.tflite
watch:
  - class: cat
    on: 0.7
actions:
  - class: cat
    kind: led
    pin: GPIO17
  - class: dog
    kind: pulse
    pin: 27
    active_low: true
    duration: 250ms
  - class: dog
    kind: buzzer
    pin: P1-12
    pattern: [50ms, 50ms, 200ms]
trigger:
  pin: pin16
  edge: falling
  pull: up
  debounce: 20ms
  only: true
snapshot:
  enabled: true
`)
	var c Config
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	want := []gpio.Action{
		{Class: "cat", Kind: gpio.LED, Pin: "GPIO17"},
		{Class: "dog", Kind: gpio.Pulse, Pin: "27", ActiveLow: true, Duration: 250 * time.Millisecond},
		{Class: "dog", Kind: gpio.Buzzer, Pin: "P1-12", Pattern: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}},
	}
	if !reflect.DeepEqual(c.Actions, want) {
		t.Errorf("actions %+v, want %+v", c.Actions, want)
	}
	if tr := c.Trigger; tr == nil || tr.Pin != "pin16" || tr.Edge != "falling" || tr.Pull != "up" || tr.Debounce != 20*time.Millisecond || !tr.Only {
		t.Errorf("trigger %+v", c.Trigger)
	}
	if !c.Snapshot.Enabled {
		t.Error("snapshot not enabled")
	}
	dc, err := c.decideConfig([]string{"bird", "cat", "dog"})
	if err != nil {
		t.Fatal(err)
	}
	// cat watched with its own thresholds; dog added once, with the default.
	if len(dc.Classes) != 2 || dc.Classes[0].On != 0.7 || dc.Classes[1].Name != "dog" || dc.Classes[1].On != DefaultOn {
		t.Errorf("decide classes %+v", dc.Classes)
	}
	_, err = c.decideConfig([]string{"bird", "cat"})
	if err == nil || !strings.Contains(err.Error(), p+`:9: actions[1].class: unknown class "dog"`) {
		t.Errorf("unknown action class: %v", err)
	}
}

// TestLoadActionErrors: every bad action or trigger field is an error naming file, line and field.
func TestLoadActionErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"actions:\n  - class: cat\n    kind: led\n    pin: P1-1\n", `:4: actions[0].pin: gpio: pin "P1-1": header pin 1 is 3V3 power, not a GPIO`},
		{"actions:\n  - class: cat\n    kind: led\n    pin: GPIO99\n", `:4: actions[0].pin: gpio: pin "GPIO99": BCM numbers on the 40-pin header are 0..27`},
		{"actions:\n  - class: cat\n    kind: led\n    pin: LED1\n", `:4: actions[0].pin: gpio: pin "LED1": not a pin name`},
		{"actions:\n  - class: cat\n    kind: lamp\n    pin: 17\n", `:3: actions[0].kind: "lamp": want led, pulse or buzzer`},
		{"actions:\n  - class: cat\n    pin: 17\n", `:2: actions[0].kind: missing`},
		{"actions:\n  - kind: led\n    pin: 17\n", `:2: actions[0].class: missing`},
		{"actions:\n  - class: cat\n    kind: led\n    pin: 17\n    duration: 1s\n", `:5: actions[0].duration: only a pulse has a duration`},
		{"actions:\n  - class: cat\n    kind: led\n    pin: 17\n  - class: dog\n    kind: led\n    pin: P1-11\n", `:7: actions[1].pin: pin GPIO17 (P1-11) is actions[0].pin's already`},
		{"actions:\n  - class: cat\n    kind: led\n    pin: 17\n    colour: red\n", `:5: unknown key "colour" (known keys here: active_low, class, duration, kind, pattern, pin)`},
		{"actions:\n  - class: cat\n    kind: pulse\n    pin: 17\n    duration: long\n", `:5: "long" where a duration`},
		{"trigger:\n  pin: 5\n  edge: up\n", `:3: trigger.edge: "up": want rising, falling or both`},
		{"trigger:\n  pin: P1-40\n  pull: strong\n", `:3: trigger.pull: "strong"`},
		{"trigger:\n  edge: both\n", `:1: trigger.pin: gpio: empty pin name`},
		{"actions:\n  - class: cat\n    kind: led\n    pin: 17\ntrigger:\n  pin: GPIO17\n", `:6: trigger.pin: pin GPIO17 is actions[0].pin's already`},
		{"snapshot:\n  enabled: true\n  quality: 101\n", `:3: snapshot.quality: 101: want 1..100`},
		{"watch:\n  - class: cat\n  - class: dog\n    on: 0.7\n    device_class: dog\n", `:5: watch[1].device_class: "dog": not a Home Assistant binary sensor device class (battery, `},
	} {
		p := writeConfig(t, tc.text)
		var c Config
		err := c.LoadFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) || !strings.HasPrefix(err.Error(), "pipeline: ") {
			t.Errorf("%q:\n error %v\n want it to name %s and contain %q", tc.text, err, p, tc.want)
		}
	}
}

// TestExampleConfigCommented: the commented-out examples of edgeinfer.yaml (watch, groups,
// actions, trigger, display) load once uncommented, and resolve against ImageNet's labels.
func TestExampleConfigCommented(t *testing.T) {
	b, err := os.ReadFile("../edgeinfer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	example := regexp.MustCompile(`^#( {2,}(- )?[a-z_]+:|trigger:|groups:|display:)`)
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case l == "watch: []" || l == "actions: []":
			l = strings.TrimSuffix(l, " []")
		case example.MatchString(l):
			l = l[1:]
		}
		out = append(out, l)
	}
	p := writeConfig(t, strings.Join(out, "\n"))
	var c Config
	if err := c.LoadFile(p); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(out, "\n"))
	}
	if len(c.Watch) != 1 || len(c.Actions) != 3 || c.Trigger == nil || c.Trigger.Pin != "P1-16" || c.Actions[2].Pattern[4] != 300*time.Millisecond {
		t.Errorf("uncommented example: watch %+v, actions %+v, trigger %+v", c.Watch, c.Actions, c.Trigger)
	}
	// ImageNet's labels as far as the built-in groups check them, and those the example names.
	labels := make([]string, 1000)
	for i := range labels {
		labels[i] = fmt.Sprintf("class %d", i)
	}
	for i, l := range map[int]string{0: "tench, Tinca tinca", 151: "Chihuahua", 277: "red fox, Vulpes vulpes",
		281: "tabby, tabby cat", 334: "porcupine, hedgehog", 817: "sports car, sport car", 999: "toilet tissue, toilet paper"} {
		labels[i] = l
	}
	if _, err := c.decideConfig(labels); err != nil || len(c.Groups["cat_flap"]) != 3 {
		t.Errorf("groups %v: %v", c.Groups, err)
	}
}

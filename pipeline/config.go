package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgeinfer/edgeinfer/display"
	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/internal/credentials"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/pipeline/decide"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

// Config configures Run. The zero value plus Defaults is a working configuration, given a model.
type Config struct {
	// Model is the model file. The CLI resolves names of pulled models before Run; Run needs a path.
	Model string `yaml:"model"`
	// LabelsFile is a labels file, one per line; the CLI reads it into Labels.
	LabelsFile string `yaml:"labels"`
	// Labels are the model's class names; empty means the model's own.
	Labels []string `yaml:"-"`
	// Source is a camera source as camera.Open takes it (default "auto").
	Source string `yaml:"source"`
	// Threads is the number of goroutines per inference (default 1).
	Threads int `yaml:"threads"`
	// Device names this device in MQTT topics and Home Assistant (default: the host name).
	Device string `yaml:"device"`
	// DeviceID identifies this device in Home Assistant for good, whatever its name: letters,
	// digits, '_' and '-' (default: derived from the machine id, see DeviceID).
	DeviceID string `yaml:"device_id"`
	// Heartbeat is the longest time between two state messages while the label stays the same
	// (default 30s).
	Heartbeat time.Duration `yaml:"heartbeat"`
	// Listen is the address of the /metrics and status HTTP server (default 127.0.0.1:9108;
	// "off" disables it). Beyond loopback (0.0.0.0:9108, a LAN address) it needs Credentials.
	Listen string `yaml:"listen"`
	// Credentials is a file with the username: and password: (see internal/credentials) that the
	// status page (HTTP basic authentication) and the embedded MQTT broker ask for. Required when
	// either listens beyond loopback; when set, both ask for them on any address.
	Credentials string `yaml:"credentials"`

	// Smoothing, OffDelay and TopK are decide.Config's.
	Smoothing int           `yaml:"smoothing"`
	OffDelay  time.Duration `yaml:"off_delay"`
	TopK      int           `yaml:"top_k"`
	// Watch are the classes that get an ON/OFF topic and a Home Assistant binary sensor: labels of
	// the model or names of groups (a group is published under its name like a class).
	Watch []Watch `yaml:"watch"`
	// Groups are user-defined label groups, name: [members], each member a label of the model, a
	// label's first name ("tabby" for "tabby, tabby cat") or a built-in group of models/zoo ("cat",
	// "dog", "vehicle", ... for ImageNet models; see models/zoo/GROUPS.md). A group's score is the
	// sum of its labels' probabilities. A group named like a built-in one replaces it.
	Groups map[string][]string `yaml:"groups"`

	MQTT MQTT `yaml:"mqtt"`

	// Actions drive GPIO lines from watched classes (see package gpio). An action's class must be
	// a label of the model; one not in Watch is watched with the default thresholds.
	Actions []gpio.Action `yaml:"actions"`
	// Trigger is an input line (a button, a PIR sensor) that asks for a classification.
	Trigger *Trigger `yaml:"trigger"`
	// Snapshot publishes a JPEG of the frame on edgeinfer/<device>/snapshot when the label changes.
	Snapshot Snapshot `yaml:"snapshot"`
	// Display shows the current label on an SSD1306 OLED on the I2C bus (package display).
	Display *Display `yaml:"display"`
	// Lines opens the GPIO lines of Actions and Trigger (default gpio.Chardev{}). Not in the file:
	// tests set a fake.
	Lines gpio.Lines `yaml:"-"`
	// Notify, when set, is told READY, WATCHDOG and STOPPING (systemd's sd_notify protocol; the
	// CLI sets it from $NOTIFY_SOCKET). Not in the file.
	Notify Notifier `yaml:"-"`
	// Watchdog is systemd's WatchdogSec: with Notify, WATCHDOG=1 is sent every Watchdog/2 while
	// frames keep being classified (or the loop waits, paused or for its trigger). Not in the file.
	Watchdog time.Duration `yaml:"-"`

	// Frames stops Run after this many classified frames (0: until ctx is cancelled or the source
	// ends). Not in the file: for tests and benchmarks.
	Frames int `yaml:"-"`
	// DrainTimeout bounds the wait for the MQTT outbox to drain at shutdown (default 5s).
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// Out receives one line per label change (default: none).
	Out io.Writer `yaml:"-"`

	file       string         // the file LoadFile read, for errors
	watchLines []int          // the line of each Watch entry in file
	fieldLines map[string]int // "actions[0].pin", "trigger.edge", ...: their line in file
}

// Trigger is an input line that asks for a classification: on each of its debounced edges the
// next frame is classified and its state published with "trigger" set, label change or not.
type Trigger struct {
	gpio.Input `yaml:",inline"`
	// Name is the state message's trigger field (default: the pin as configured).
	Name string `yaml:"name"`
	// Only: classify no frame but those the trigger asks for (the camera keeps running; each
	// trigger classifies the newest frame, with the moving average reset).
	Only bool `yaml:"only"`
}

// Display configures the screen that shows the current label and its score, updated when the
// label changes (package display: gobot's SSD1306 driver on periph's /dev/i2c-N).
type Display struct {
	// Bus is the I2C bus number, /dev/i2c-Bus (default 1: pins 3 and 5 of a Pi's header).
	Bus *int `yaml:"bus"`
	// Address is the screen's 7-bit I2C address (default 0x3C).
	Address int `yaml:"address"`
	// Width and Height are its pixels (default 128x64; 128x32 for the 0.91" modules).
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// Open opens the screen (default display.Open). Not in the file: tests set one on a fake bus.
	Open func(display.Config) (display.Screen, error) `yaml:"-"`
}

// Snapshot configures the JPEG published when the label changes.
type Snapshot struct {
	Enabled bool `yaml:"enabled"`
	// MaxBytes bounds the JPEG's size (default 256 KiB): the quality is lowered until it fits,
	// and a frame that does not fit at quality 30 is not sent.
	MaxBytes int `yaml:"max_bytes"`
	// Quality is the JPEG quality to start with, 1..100 (default 80).
	Quality int `yaml:"quality"`
}

// Watch is a watched class with its thresholds (see decide.Class).
type Watch struct {
	Class     string  `yaml:"class"`
	On        float64 `yaml:"on"`
	Off       float64 `yaml:"off"`
	MinFrames int     `yaml:"min_frames"`
	// DeviceClass is the Home Assistant device_class of the class's binary sensor (default
	// occupancy; "none" for none): one of mqtt.BinarySensorDeviceClasses.
	DeviceClass string `yaml:"device_class"`
}

// MQTT is where labels are published.
type MQTT struct {
	// Broker is the broker's URL (tcp://host:1883, ssl://host:8883, ...); empty starts the embedded
	// broker on Listen.
	Broker string `yaml:"broker"`
	// Listen is the embedded broker's address (default 127.0.0.1:1883). Beyond loopback
	// (0.0.0.0:1883, a LAN address) it needs the top-level credentials:, which its clients must
	// then give; so does this daemon's own client (Username and Password apply to Broker only).
	Listen   string `yaml:"listen"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Outbox is how many messages wait while the broker is unreachable (default 1000).
	Outbox int `yaml:"outbox"`
	// NoDiscovery turns Home Assistant discovery off.
	NoDiscovery bool `yaml:"no_discovery"`
	// KeepAlive is the MQTT keep-alive (default 10s): a broker silent for this long is pinged,
	// and one that does not answer within half of it (at most 5s) is taken as hung and
	// reconnected to.
	KeepAlive time.Duration `yaml:"keepalive"`
	// MaxCommandBytes is the largest command payload read from the set topic (default 65536).
	MaxCommandBytes int `yaml:"max_command_bytes"`
	// Inflight is how many messages may wait for the broker's acknowledgement at once (default
	// 8). After a lost connection those are sent again, and any the broker had already taken
	// reach subscribers twice: 1 keeps that to at most one message per lost connection, at the
	// cost of one round trip per message (about 1/RTT messages per second).
	Inflight int `yaml:"inflight"`
	// Session publishes at QoS 2 in a persistent session: no duplicates from the daemon to a
	// broker that keeps the session (mosquitto with persistence; see publish/mqtt's Config.Session).
	Session bool `yaml:"session"`
	// OutboxFile, when set, is where messages still undelivered at shutdown are saved, to be sent
	// after the next start (a graceful restart of the daemon loses nothing the outbox held).
	OutboxFile string `yaml:"outbox_file"`
}

// Defaults used by Config.Defaults.
const (
	DefaultSource     = "auto"
	DefaultListen     = "127.0.0.1:9108"
	DefaultMQTTListen = "127.0.0.1:1883"
	DefaultHeartbeat  = 30 * time.Second
	DefaultSmoothing  = 5
	DefaultTopK       = 3
	DefaultDrain      = 5 * time.Second
	// DefaultOn is the on threshold of a class that an action names but watch does not.
	DefaultOn = 0.5
	// DefaultSnapshotBytes and DefaultSnapshotQuality are Snapshot's defaults.
	DefaultSnapshotBytes   = 256 << 10
	DefaultSnapshotQuality = 80
)

// Defaults fills in the fields left empty (the model excepted).
func (c *Config) Defaults() {
	if c.Source == "" {
		c.Source = DefaultSource
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.Device == "" {
		c.Device = hostDevice()
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Smoothing == 0 {
		c.Smoothing = DefaultSmoothing
	}
	if c.TopK == 0 {
		c.TopK = DefaultTopK
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrain
	}
	if c.Snapshot.MaxBytes == 0 {
		c.Snapshot.MaxBytes = DefaultSnapshotBytes
	}
	if c.Snapshot.Quality == 0 {
		c.Snapshot.Quality = DefaultSnapshotQuality
	}
	if c.Lines == nil {
		c.Lines = gpio.Chardev{}
	}
	if c.MQTT.Broker == "" && c.MQTT.Listen == "" {
		c.MQTT.Listen = DefaultMQTTListen
	}
}

// hostDevice is the host name made fit for MQTT topics (letters, digits, '_' and '-').
func hostDevice() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "edgeinfer"
	}
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// LoadFile reads a YAML configuration file over c. Unknown fields and values of the wrong type
// are errors naming the file, the line and the field.
func (c *Config) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pipeline: config: %w", err)
	}
	return c.Load(path, data)
}

// Load reads the YAML configuration data over c, as LoadFile does; path names it in errors.
func (c *Config) Load(path string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				msgs[i] = yamlError(path, e)
			}
			return fmt.Errorf("pipeline: %s", joinLines(msgs))
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if !strings.HasPrefix(msg, "line ") {
			if n := errorLine(data); n > 0 {
				msg = fmt.Sprintf("line %d: %s", n, msg)
			}
		}
		return fmt.Errorf("pipeline: %s", yamlError(path, msg))
	}
	c.file = path
	c.watchLines = nil
	c.fieldLines = map[string]int{}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil && len(root.Content) == 1 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, val := m.Content[i].Value, m.Content[i+1]
			c.fieldLines[key] = m.Content[i].Line
			switch {
			case key == "watch" && val.Kind == yaml.SequenceNode:
				for j, n := range val.Content {
					c.watchLines = append(c.watchLines, n.Line)
					c.fieldLines[fmt.Sprintf("watch[%d]", j)] = n.Line
					fieldLines(c.fieldLines, fmt.Sprintf("watch[%d].", j), n)
				}
			case key == "actions" && val.Kind == yaml.SequenceNode:
				for j, n := range val.Content {
					c.fieldLines[fmt.Sprintf("actions[%d]", j)] = n.Line
					fieldLines(c.fieldLines, fmt.Sprintf("actions[%d].", j), n)
				}
			case key == "trigger" || key == "snapshot" || key == "groups" || key == "display" || key == "mqtt":
				fieldLines(c.fieldLines, key+".", val)
			}
		}
	}
	if err := c.checkGroups(); err != nil {
		return err
	}
	return c.checkGPIO()
}

// checkGroups checks the user-defined groups as far as it can without the model's labels: a name
// and at least one member each.
func (c *Config) checkGroups() error {
	for _, name := range slices.Sorted(maps.Keys(c.Groups)) {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("pipeline: %s: a group needs a name", c.at("groups"))
		}
		if len(c.Groups[name]) == 0 {
			return fmt.Errorf("pipeline: %s: no members (want a list of labels or built-in groups)", c.at("groups."+name))
		}
	}
	return nil
}

// groups returns the label groups for a model with these labels: models/zoo's built-in ones
// (zoo.GroupsFor) and the user's, resolved to label indices. A member that is neither a label, a
// label's first name nor a built-in group, and a group named like a label, are errors naming the
// file, line and group.
func (c *Config) groups(labels []string) ([]decide.Group, error) {
	if err := c.checkGroups(); err != nil {
		return nil, err
	}
	builtin := zoo.GroupsFor(labels)
	index := make(map[string]int, 2*len(labels))
	short := make(map[string]int, len(labels))
	for i, l := range labels {
		if _, dup := index[l]; !dup {
			index[l] = i
		}
		if s := zoo.ShortLabel(l); s != l {
			if _, dup := short[s]; dup {
				short[s] = -1 // ambiguous: two labels begin with it
			} else {
				short[s] = i
			}
		}
	}
	byName := make(map[string][]int, len(builtin))
	for _, g := range builtin {
		byName[g.Name] = g.Classes
	}
	var out []decide.Group
	for _, g := range builtin {
		if _, replaced := c.Groups[g.Name]; !replaced {
			out = append(out, decide.Group{Name: g.Name, Members: g.Classes})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Groups)) {
		where := c.at("groups." + name)
		if _, ok := index[name]; ok {
			return nil, fmt.Errorf("pipeline: %s: the group has the name of one of the model's labels", where)
		}
		var members []int
		for _, m := range c.Groups[name] {
			if i, ok := index[m]; ok {
				members = append(members, i)
			} else if g, ok := byName[m]; ok {
				members = append(members, g...)
			} else if i, ok := short[m]; ok && i >= 0 {
				members = append(members, i)
			} else if ok {
				return nil, fmt.Errorf("pipeline: %s: member %q names more than one label: give the whole label", where, m)
			} else {
				return nil, fmt.Errorf("pipeline: %s: unknown member %q: not one of the model's %d labels nor a built-in group%s",
					where, m, len(labels), builtinNames(builtin))
			}
		}
		out = append(out, decide.Group{Name: name, Members: members})
	}
	return out, nil
}

// builtinNames lists the built-in groups for an error message.
func builtinNames(gs []zoo.Group) string {
	if len(gs) == 0 {
		return " (the model has none)"
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// fieldLines records the line of each key of the mapping n, as prefix+key.
func fieldLines(lines map[string]int, prefix string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		lines[prefix+n.Content[i].Value] = n.Content[i].Line
	}
}

// at names where field is: "file:line: field" when it came from a file, else just field. For a
// field the file left out (a default), the line of its parent.
func (c *Config) at(field string) string {
	if c.file == "" {
		return field
	}
	for f := field; f != ""; {
		if n, ok := c.fieldLines[f]; ok {
			return fmt.Sprintf("%s:%d: %s", c.file, n, field)
		}
		if i := strings.LastIndexAny(f, ".["); i > 0 {
			f = f[:i]
		} else {
			break
		}
	}
	return c.file + ": " + field
}

// checkGPIO checks the actions, the trigger and the snapshot settings, all but the class names
// (which need the model's labels; see gpioClasses). Errors name the file, line and field.
func (c *Config) checkGPIO() error {
	used := map[string]string{}
	for i, a := range c.Actions {
		p, err := a.Check()
		if err != nil {
			return c.fieldError(fmt.Sprintf("actions[%d]", i), err)
		}
		f := fmt.Sprintf("actions[%d].pin", i)
		if prev, ok := used[p.Key()]; ok {
			return fmt.Errorf("pipeline: %s: pin %s is %s's already", c.at(f), p, prev)
		}
		used[p.Key()] = f
	}
	if c.Trigger != nil {
		p, err := c.Trigger.Check()
		if err != nil {
			return c.fieldError("trigger", err)
		}
		if prev, ok := used[p.Key()]; ok {
			return fmt.Errorf("pipeline: %s: pin %s is %s's already", c.at("trigger.pin"), p, prev)
		}
	}
	for i, w := range c.Watch {
		if dc := w.DeviceClass; dc != "" && dc != "none" && !slices.Contains(mqtt.BinarySensorDeviceClasses, dc) {
			return fmt.Errorf("pipeline: %s: %q: not a Home Assistant binary sensor device class (%s, or none)",
				c.at(fmt.Sprintf("watch[%d].device_class", i)), dc, strings.Join(mqtt.BinarySensorDeviceClasses, ", "))
		}
	}
	if c.Snapshot.MaxBytes < 0 {
		return fmt.Errorf("pipeline: %s: %d: must not be negative", c.at("snapshot.max_bytes"), c.Snapshot.MaxBytes)
	}
	if q := c.Snapshot.Quality; q < 0 || q > 100 {
		return fmt.Errorf("pipeline: %s: %d: want 1..100", c.at("snapshot.quality"), q)
	}
	return nil
}

// fieldError places a Check error of the entry at parent ("actions[0]", "trigger"): at its field
// when it is a *gpio.FieldError, else at parent itself.
func (c *Config) fieldError(parent string, err error) error {
	var fe *gpio.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("pipeline: %s: %w", c.at(parent+"."+fe.Field), fe.Err)
	}
	return fmt.Errorf("pipeline: %s: %w", c.at(parent), err)
}

// errorLine finds the first line at which the YAML in data stops parsing, for the syntax errors
// whose message has no line (yaml.v3 gives none for some scanner errors): the shortest prefix of
// whole lines that fails. 0 if none does.
func errorLine(data []byte) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var n yaml.Node
	for k := 1; k <= len(lines); k++ {
		if err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n); err != nil {
			return k
		}
	}
	return 0
}

var (
	yamlLine      = regexp.MustCompile(`^line ([0-9]+): (.*)$`)
	fieldNotFound = regexp.MustCompile(`^field (.+) not found in type (\S+)$`)
	cannotDecode  = regexp.MustCompile("^cannot unmarshal !!([a-z]+)(?: `(.*)`)? into (.+)$")
)

// yamlError rewrites one of yaml.v3's messages ("line 3: field wacth not found in type
// pipeline.Config") as FILE:LINE: and words without Go types: an unknown key with the nearest
// known one (`unknown key "wacth" (did you mean "watch"?)`), a value of the wrong kind with the
// kind wanted.
func yamlError(path, msg string) string {
	where := path
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		where, msg = path+":"+m[1], m[2]
	}
	if m := fieldNotFound.FindStringSubmatch(msg); m != nil {
		key, known := m[1], yamlKeys()[m[2]]
		msg = fmt.Sprintf("unknown key %q", key)
		if near := nearest(key, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		} else if len(known) > 0 {
			msg += " (known keys here: " + strings.Join(known, ", ") + ")"
		}
	} else if m := cannotDecode.FindStringSubmatch(msg); m != nil {
		got := "a " + yamlKinds[m[1]]
		if m[2] != "" {
			got = strconv.Quote(m[2])
		} else if yamlKinds[m[1]] == "" {
			got = m[1]
		}
		want, ok := goKinds[m[3]]
		if !ok {
			switch {
			case strings.HasPrefix(m[3], "[]"):
				want = "a list"
			case strings.HasPrefix(m[3], "map["), strings.Contains(m[3], "."):
				want = "a mapping of keys"
			default:
				want = m[3]
			}
		}
		msg = fmt.Sprintf("%s where %s is wanted", got, want)
	}
	return where + ": " + msg
}

// yamlKinds names YAML's tags, goKinds the Go types of Config's fields.
var (
	yamlKinds = map[string]string{"str": "string", "int": "number", "float": "number", "bool": "boolean",
		"seq": "list", "map": "mapping", "null": "null"}
	goKinds = map[string]string{"int": "a whole number", "float64": "a number", "bool": "true or false",
		"string": "a string", "time.Duration": "a duration such as 30s or 500ms", "gpio.Kind": "led, pulse or buzzer"}
)

// yamlKeys maps the Go type names that yaml.v3 puts in its errors ("pipeline.Config",
// "pipeline.MQTT", "gpio.Action") to the YAML keys their fields take, sorted.
var yamlKeys = sync.OnceValue(func() map[string][]string {
	keys := map[string][]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || keys[t.String()] != nil {
			return
		}
		var names []string
		var fields func(t reflect.Type)
		fields = func(t reflect.Type) {
			for f := range t.Fields() {
				name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if name == "-" || !f.IsExported() {
					continue
				}
				if opts == "inline" {
					fields(f.Type)
					continue
				}
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				names = append(names, name)
				walk(f.Type)
			}
		}
		keys[t.String()] = []string{} // no revisit
		fields(t)
		slices.Sort(names)
		keys[t.String()] = names
	}
	walk(reflect.TypeFor[Config]())
	return keys
})

// nearest returns the key of known closest to key (case aside, a letter added, dropped, changed
// or two swapped counting 1), if within 2 edits and closer than key is long; else "".
func nearest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestD && d < len(key) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b: insertions, deletions,
// substitutions and transpositions of adjacent letters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func joinLines(errs []string) string {
	var b bytes.Buffer
	for i, e := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e)
	}
	return b.String()
}

// Env lists the environment variables ApplyEnv reads, and the field each one sets.
var Env = []string{
	"EDGEINFER_MODEL", "EDGEINFER_LABELS", "EDGEINFER_SOURCE", "EDGEINFER_DEVICE", "EDGEINFER_THREADS",
	"EDGEINFER_LISTEN", "EDGEINFER_MQTT_BROKER", "EDGEINFER_MQTT_LISTEN", "EDGEINFER_MQTT_USERNAME",
	"EDGEINFER_MQTT_PASSWORD", "EDGEINFER_CREDENTIALS",
}

// ApplyEnv overrides c with the EDGEINFER_* environment variables that are set (see Env).
func (c *Config) ApplyEnv(getenv func(string) string) error {
	set := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set("EDGEINFER_MODEL", &c.Model)
	set("EDGEINFER_LABELS", &c.LabelsFile)
	set("EDGEINFER_SOURCE", &c.Source)
	set("EDGEINFER_DEVICE", &c.Device)
	set("EDGEINFER_LISTEN", &c.Listen)
	set("EDGEINFER_MQTT_BROKER", &c.MQTT.Broker)
	set("EDGEINFER_MQTT_LISTEN", &c.MQTT.Listen)
	set("EDGEINFER_MQTT_USERNAME", &c.MQTT.Username)
	set("EDGEINFER_MQTT_PASSWORD", &c.MQTT.Password)
	set("EDGEINFER_CREDENTIALS", &c.Credentials)
	if v := getenv("EDGEINFER_THREADS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("pipeline: EDGEINFER_THREADS=%q: want a positive number", v)
		}
		c.Threads = n
	}
	return nil
}

// credentials loads Credentials, and checks that nothing listens beyond loopback without them: the
// embedded broker (mqtt.listen, when mqtt.broker is empty) and the status page (listen). nil
// when no credentials file is set (and nothing needs one).
func (c *Config) credentials() (*credentials.Credentials, error) {
	if c.Credentials != "" {
		cr, err := credentials.Load(c.Credentials)
		if err != nil {
			return nil, fmt.Errorf("pipeline: %s (--credentials): %s", c.at("credentials"), strings.TrimPrefix(err.Error(), "credentials: "))
		}
		return &cr, nil
	}
	const fix = "set credentials: (--credentials) to a file with username: and password: (see README, \"Reaching the appliance\"), or listen on 127.0.0.1"
	if c.MQTT.Broker == "" && !isLoopbackAddr(c.MQTT.Listen) {
		return nil, fmt.Errorf("pipeline: %s (--mqtt-listen) %s is reachable from the network and there are no credentials: the embedded MQTT broker would take anyone: %s",
			c.at("mqtt.listen"), c.MQTT.Listen, fix)
	}
	if c.Listen != "off" && !isLoopbackAddr(c.Listen) {
		return nil, fmt.Errorf("pipeline: %s (--listen) %s is reachable from the network and there are no credentials: the status page (camera frames) and /metrics would be open to anyone: %s",
			c.at("listen"), c.Listen, fix)
	}
	return nil, nil
}

// decideConfig checks the watched classes and those of the actions against the labels and the
// groups (built-in and user-defined) and makes the decide.Config; an action's class that is not
// watched is added with DefaultOn. An unknown
// class is an error naming it (and its line and field, when it came from a file).
func (c *Config) decideConfig(labels []string) (decide.Config, error) {
	known := make(map[string]bool, len(labels))
	for _, l := range labels {
		known[l] = true
	}
	dc := decide.Config{Smoothing: c.Smoothing, OffDelay: c.OffDelay, TopK: c.TopK}
	groups, err := c.groups(labels)
	if err != nil {
		return dc, err
	}
	nor := ""
	if len(groups) > 0 {
		nor = fmt.Sprintf(" nor one of its %d groups", len(groups))
	}
	for _, g := range groups {
		if !known[g.Name] {
			known[g.Name] = true
			dc.Groups = append(dc.Groups, g)
		}
	}
	for i, w := range c.Watch {
		if !known[w.Class] {
			where := "watch"
			if c.file != "" && i < len(c.watchLines) {
				where = fmt.Sprintf("%s:%d: watch", c.file, c.watchLines[i])
			}
			return dc, fmt.Errorf("pipeline: %s: unknown class %q: not one of the model's %d labels%s", where, w.Class, len(labels), nor)
		}
		dc.Classes = append(dc.Classes, decide.Class{Name: w.Class, On: w.On, Off: w.Off, MinFrames: w.MinFrames})
	}
	for i, a := range c.Actions {
		f := fmt.Sprintf("actions[%d].class", i)
		if !known[a.Class] {
			return dc, fmt.Errorf("pipeline: %s: unknown class %q: not one of the model's %d labels%s", c.at(f), a.Class, len(labels), nor)
		}
		watched := false
		for _, w := range dc.Classes {
			watched = watched || w.Name == a.Class
		}
		if !watched {
			dc.Classes = append(dc.Classes, decide.Class{Name: a.Class, On: DefaultOn})
		}
	}
	return dc, nil
}

package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/gpio/gpiotest"
)

var labelLine = regexp.MustCompile(`(?m)^frame \d+: (.+) (\d\.\d\d) \[inference`)

// patternLabel runs the pipeline briefly on the 320x240 test pattern and returns the label and
// score it prints first.
func patternLabel(t *testing.T, mp string, labels []string) (string, float64) {
	t.Helper()
	var out lockedBuffer
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=320x240", Listen: "off", Frames: 3, Out: &out,
		MQTT: MQTT{Listen: freeAddr(t)}}
	if err := Run(context.Background(), cfg, quietLog()); err != nil {
		t.Fatal(err)
	}
	m := labelLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no label printed: %q", out.String())
	}
	score, _ := strconv.ParseFloat(m[2], 64)
	return m[1], score
}

// TestRunActions: a watched class of the test pattern drives an LED (on while active) and a
// pulse; when Run ends both are off and released.
func TestRunActions(t *testing.T) {
	mp, labels := modelAndLabels(t)
	label, score := patternLabel(t, mp, labels)
	var lines gpiotest.Lines
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=320x240&fps=30", Listen: "off",
		MQTT:  MQTT{Listen: freeAddr(t)},
		Watch: []Watch{{Class: label, On: score / 2}},
		Actions: []gpio.Action{
			{Class: label, Kind: gpio.LED, Pin: "P1-11"},
			{Class: label, Kind: gpio.Pulse, Pin: "gpiochip0:0", ActiveLow: true, Duration: 50 * time.Millisecond},
		},
		Lines: &lines,
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()
	led, relay := lines.Pin("GPIO17"), lines.Pin("gpiochip0:0")
	deadline := time.Now().Add(30 * time.Second)
	for led.Level() != pgpio.High || len(relay.History()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: LED %v, relay %v", led.Levels(), relay.Levels())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := relay.Levels(); got[0] != pgpio.High || got[1] != pgpio.Low || got[2] != pgpio.High {
		t.Errorf("active-low pulse: levels %v, want High (off) Low (on) High (off)", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if led.Level() != pgpio.Low || relay.Level() != pgpio.High || led.Requested() || relay.Requested() {
		t.Errorf("after Run: LED %v (requested %v), relay %v (requested %v); want both off and released",
			led.Level(), led.Requested(), relay.Level(), relay.Requested())
	}
}

// TestRunActionsErrorPath: when Run fails after opening the lines (here: the MQTT broker's port
// is taken), the lines are inactive and released.
func TestRunActionsErrorPath(t *testing.T) {
	mp, labels := modelAndLabels(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var lines gpiotest.Lines
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:", Listen: "off", MQTT: MQTT{Listen: ln.Addr().String()},
		Actions: []gpio.Action{{Class: labels[1], Kind: gpio.LED, Pin: "GPIO5", ActiveLow: true}},
		Trigger: &Trigger{Input: gpio.Input{Pin: "GPIO6"}}, Lines: &lines}
	if err := Run(context.Background(), cfg, quietLog()); err == nil {
		t.Fatal("Run with the broker's port taken: no error")
	}
	if p := lines.Pin("GPIO5"); p.Requested() || p.Level() != pgpio.High || p.Requests != 1 {
		t.Errorf("LED after the failed Run: requested %v, level %v (want released, High = off)", p.Requested(), p.Level())
	}
	if p := lines.Pin("GPIO6"); p.Requested() || p.Requests != 1 {
		t.Errorf("trigger after the failed Run: requested %v", p.Requested())
	}

	// An unknown class in an action is refused before any line is requested.
	var lines2 gpiotest.Lines
	cfg.Actions[0].Class, cfg.Lines = "unicorn", &lines2
	err = Run(context.Background(), cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), `actions[0].class: unknown class "unicorn"`) {
		t.Errorf("unknown action class: %v", err)
	}
	if lines2.Pin("GPIO5").Requests != 0 {
		t.Error("a line was requested before the configuration was checked")
	}

	// A line that cannot be had: the error names the action's pin field, from the file.
	p := writeConfig(t, "actions:\n  - class: "+labels[1]+"\n    kind: led\n    pin: P1-29\n")
	var fc Config
	if err := fc.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	fc.Model, fc.Labels, fc.Source, fc.Listen = mp, labels, "pattern:", "off"
	fc.Lines = &gpiotest.Lines{Fail: map[string]error{"GPIO5": errors.New("device or resource busy")}}
	err = Run(context.Background(), fc, quietLog())
	if err == nil || !strings.Contains(err.Error(), p+":4: actions[0].pin: device or resource busy") {
		t.Errorf("busy line: %v", err)
	}
}

// TestRunTrigger: with trigger.only the loop classifies nothing until the input fires; each press
// publishes one state with the trigger field.
func TestRunTrigger(t *testing.T) {
	mp, labels := modelAndLabels(t)
	var lines gpiotest.Lines
	btn := lines.Pin("GPIO23")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=160x120&fps=30", Listen: "off", Device: "trig",
		Heartbeat: time.Millisecond, MQTT: MQTT{Listen: addr}, Lines: &lines,
		Trigger: &Trigger{Input: gpio.Input{Pin: "P1-16", Debounce: 10 * time.Millisecond}, Name: "button", Only: true}}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()
	msgs := subscribe(t, "tcp://"+addr, "edgeinfer/trig/state")
	select {
	case m := <-msgs:
		t.Fatalf("state before any trigger: %s", m.Payload())
	case <-time.After(500 * time.Millisecond):
	}
	for press := range 2 {
		btn.Set(pgpio.High)
		select {
		case m := <-msgs:
			s := checkState(t, m.Payload(), labels)
			var raw map[string]any
			json.Unmarshal(m.Payload(), &raw)
			if raw["trigger"] != "button" {
				t.Errorf("press %d: state %s: trigger %v, want \"button\"", press, m.Payload(), raw["trigger"])
			}
			_ = s
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatalf("press %d: no state", press)
		}
		btn.Set(pgpio.Low)
		select {
		case m := <-msgs:
			t.Fatalf("press %d: a second state for one press: %s", press, m.Payload())
		case <-time.After(300 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunSnapshot: with snapshot on, the label change at start publishes a JPEG of the frame,
// within max_bytes.
func TestRunSnapshot(t *testing.T) {
	mp, labels := modelAndLabels(t)
	broker, err := StartBroker(freeAddr(t), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	msgs := subscribe(t, broker.URL(), "edgeinfer/snap/snapshot")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=320x240&fps=30", Listen: "off", Device: "snap",
		MQTT: MQTT{Broker: broker.URL()}, Snapshot: Snapshot{Enabled: true, MaxBytes: 12000}}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()
	var b []byte
	select {
	case m := <-msgs:
		b = m.Payload()
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no snapshot")
	}
	if len(b) > 12000 {
		t.Errorf("snapshot of %d bytes, over max_bytes 12000", len(b))
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("snapshot is not a JPEG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 320 || r.Dy() != 240 {
		t.Errorf("snapshot %v, want 320x240", r)
	}
	// The label stays: no second snapshot.
	select {
	case m := <-msgs:
		t.Errorf("a second snapshot (%d bytes) without a label change", len(m.Payload()))
	case <-time.After(500 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSystemdNotify: READY=1 once running, WATCHDOG=1 about every half WATCHDOG_USEC, STOPPING=1
// at the end, as datagrams on $NOTIFY_SOCKET.
func TestSystemdNotify(t *testing.T) {
	mp, labels := modelAndLabels(t)
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	env := map[string]string{"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": strconv.Itoa(os.Getpid())}
	n, wd, err := Systemd(func(k string) string { return env[k] })
	if err != nil || n == nil || wd != 400*time.Millisecond {
		t.Fatalf("Systemd: %v, %v, %v", n, wd, err)
	}
	defer n.Close()
	received := make(chan []string, 1)
	go func() { // read as they come: the socket holds only a few datagrams
		var got []string
		buf := make([]byte, 256)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				received <- got
				return
			}
			got = append(got, string(buf[:k]))
		}
	}()
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=160x120&fps=20", Listen: "off", Frames: 30,
		MQTT: MQTT{Listen: freeAddr(t)}, Notify: n, Watchdog: wd}
	start := time.Now()
	if err := Run(context.Background(), cfg, quietLog()); err != nil {
		t.Fatal(err)
	}
	ran := time.Since(start)
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	got := <-received
	if len(got) < 3 || got[0] != "READY=1\nSTATUS=classifying" || got[len(got)-1] != "STOPPING=1" {
		t.Fatalf("messages %q: want READY first, STOPPING last", got)
	}
	dogs := 0
	for _, m := range got[1 : len(got)-1] {
		if m != "WATCHDOG=1" {
			t.Errorf("unexpected message %q", m)
		}
		dogs++
	}
	// Every 200 ms over the time the loop ran (which includes loading the model before READY).
	if want := int(ran / (200 * time.Millisecond)); dogs < 1 || dogs > want+1 {
		t.Errorf("%d WATCHDOG=1 in %v, want 1..%d (every 200 ms)", dogs, ran, want+1)
	}

	// Not under systemd: no notifier. Bad values: errors.
	if n, wd, err := Systemd(func(string) string { return "" }); n != nil || wd != 0 || err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v %v %v", n, wd, err)
	}
	env["WATCHDOG_USEC"] = "soon"
	if _, _, err := Systemd(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "WATCHDOG_USEC") {
		t.Errorf("bad WATCHDOG_USEC: %v", err)
	}
	env["WATCHDOG_USEC"], env["WATCHDOG_PID"] = "400000", "1"
	if n, wd, err := Systemd(func(k string) string { return env[k] }); err != nil || wd != 0 {
		t.Errorf("watchdog for another pid: %v %v", wd, err)
	} else {
		n.Close()
	}
}

package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sys/unix"
	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
)

func TestMain(m *testing.M) { vmtest.Main(m) }

// pl061Data is the physical address of the virt machine's PL061 GPIODATA register with all eight
// lines in its address mask (base 0x09030000, offset 0x3fc): reading it from the QEMU monitor
// gives the levels the emulated chip drives.
const pl061Data = 0x090303fc

// TestVMEndToEnd runs the pipeline inside the arm64 guest: vivid's /dev/video0 -> the real model ->
// MQTT to mosquitto on the host. The class the model sees on vivid's pattern drives an LED action
// on PL061 line 0, checked from the guest (debugfs) and from the host (the chip's data register,
// through the QEMU monitor) while on and after Run has returned; QEMU's power button on line 3
// is the trigger, whose state message (trigger "power-button") the host receives.
func TestVMEndToEnd(t *testing.T) {
	var env map[string]string
	var msgs <-chan paho.Message
	if !vmtest.InGuest() {
		vmtest.RequireVM(t)
		mp := shareddata.Path(t, testModel)
		lp := shareddata.Path(t, testLabels)
		env = map[string]string{"E2E_FILES": serveFiles(t, map[string]string{"model.tflite": mp, "labels.txt": lp})}
		b := vmtest.StartMosquitto(t)
		env["E2E_BROKER"] = b.GuestURL()
		msgs = subscribe(t, b.HostURL(), "edgeinfer/vm/#")
	}
	vmtest.Run(t, vmtest.Options{
		Modules: []string{"vivid node_types=0x1"},
		WaitFor: []string{"/dev/video0", "/dev/gpiochip0"},
		Env:     env,
		Timeout: 4 * time.Minute,
		Host: func(ctx context.Context, vm *vmtest.VM) error {
			if err := vm.WaitEvent(ctx, "led-on"); err != nil {
				return err
			}
			v, err := readPL061(ctx, vm)
			if err != nil || v&1 != 1 {
				return fmt.Errorf("PL061 data register while the LED action is on: %#x, %v; want line 0 high", v, err)
			}
			t.Logf("host: PL061 GPIODATA %#02x with the LED on", v)
			// QEMU's button holds line 3 high for 100 ms of its clock. An emulated guest on a
			// loaded host can wake after the line is low again, when the debouncer rightly sees a
			// glitch (a press shorter than the debounce time; a real Pi wakes within a
			// millisecond), so the host presses again until the guest has seen the trigger.
			for press := 1; ; press++ {
				if err := vm.PowerButton(ctx); err != nil {
					return err
				}
				wait, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := vm.WaitEvent(wait, "triggered")
				cancel()
				if err == nil {
					t.Logf("host: the guest saw the power button after %d press(es)", press)
					break
				}
				if ctx.Err() != nil || press == 5 {
					return fmt.Errorf("the guest saw no power-button trigger after %d presses: %w", press, err)
				}
			}
			if err := vm.WaitEvent(ctx, "stopped"); err != nil {
				return err
			}
			v, err = readPL061(ctx, vm)
			if err != nil || v&1 != 0 {
				return fmt.Errorf("PL061 data register after Run returned: %#x, %v; want line 0 low (off)", v, err)
			}
			t.Logf("host: PL061 GPIODATA %#02x after Run returned", v)
			return nil
		},
	}, guestEndToEnd)
	if vmtest.InGuest() {
		return
	}
	var on, trig bool
	deadline := time.After(10 * time.Second)
	for !on || !trig {
		select {
		case m := <-msgs:
			switch {
			case strings.HasPrefix(m.Topic(), "edgeinfer/vm/class/") && string(m.Payload()) == "ON":
				on = true
			case m.Topic() == "edgeinfer/vm/state":
				var s struct{ Trigger string }
				json.Unmarshal(m.Payload(), &s)
				trig = trig || s.Trigger == "power-button"
			}
		case <-deadline:
			t.Fatalf("host: class ON received %v, state with trigger power-button received %v", on, trig)
		}
	}
}

// readPL061 reads the PL061's data register through the QEMU monitor.
func readPL061(ctx context.Context, vm *vmtest.VM) (uint64, error) {
	out, err := vm.Monitor(ctx, fmt.Sprintf("xp /1wx %#x", pl061Data))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return 0, fmt.Errorf("xp printed %q", out)
	}
	return strconv.ParseUint(strings.TrimPrefix(f[len(f)-1], "0x"), 16, 32)
}

// serveFiles serves files (name -> host path) over HTTP on the host's loopback for the guest, and
// returns their base URL as the guest sees it.
func serveFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, p)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("http://%s:%d/", vmtest.HostIP, ln.Addr().(*net.TCPAddr).Port)
}

func download(t *testing.T, url, dst string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// watchedLines wraps gpio.Chardev and remembers the last level written to any output, so that the
// guest knows when to look at the chip.
type watchedLines struct {
	gpio.Chardev
	high atomic.Bool
}

type watchedOut struct {
	pgpio.PinOut
	l *watchedLines
}

func (w *watchedOut) Out(l pgpio.Level) error {
	err := w.PinOut.Out(l)
	if err == nil {
		w.l.high.Store(bool(l))
	}
	return err
}

func (w *watchedOut) Close() { gpio.Release(w.PinOut) }

func (w *watchedLines) Output(p gpio.Pin) (pgpio.PinOut, error) {
	o, err := w.Chardev.Output(p)
	if err != nil {
		return nil, err
	}
	return &watchedOut{o, w}, nil
}

// debugfsLine returns the line of /sys/kernel/debug/gpio that describes the requested line offset
// of the PL061 (its first GPIO number is the chip's base, in the "gpiochip0: GPIOs N-M" header).
func debugfsLine(t *testing.T, offset int) string {
	t.Helper()
	b, err := os.ReadFile("/sys/kernel/debug/gpio")
	if err != nil {
		t.Fatalf("debugfs: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	base := -1
	for _, l := range lines {
		if strings.HasPrefix(l, "gpiochip0: GPIOs ") {
			fmt.Sscanf(strings.TrimPrefix(l, "gpiochip0: GPIOs "), "%d", &base)
		}
		if base >= 0 && strings.Contains(l, fmt.Sprintf("gpio-%d ", base+offset)) {
			return l
		}
	}
	return ""
}

func guestEndToEnd(t *testing.T) {
	if err := unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, ""); err != nil && err != unix.EBUSY {
		t.Fatalf("mount debugfs: %v", err)
	}
	dir := t.TempDir()
	mp, lp := filepath.Join(dir, "model.tflite"), filepath.Join(dir, "labels.txt")
	download(t, os.Getenv("E2E_FILES")+"model.tflite", mp)
	download(t, os.Getenv("E2E_FILES")+"labels.txt", lp)
	b, err := os.ReadFile(lp)
	if err != nil {
		t.Fatal(err)
	}
	labels := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	broker := os.Getenv("E2E_BROKER")

	// What the model sees on vivid's test pattern.
	var out lockedBuffer
	if err := Run(context.Background(), Config{Model: mp, Labels: labels, Source: "/dev/video0", Listen: "off",
		Device: "vm-probe", Frames: 2, Out: &out, MQTT: MQTT{Broker: broker}}, quietLog()); err != nil {
		t.Fatal(err)
	}
	m := labelLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no label printed: %q", out.String())
	}
	label := m[1]
	score, _ := strconv.ParseFloat(m[2], 64)
	t.Logf("vivid: %q %.2f", label, score)

	states := subscribe(t, broker, "edgeinfer/vm/state")
	lines := &watchedLines{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Model: mp, Labels: labels, Source: "/dev/video0", Listen: "off", Device: "vm",
		Heartbeat: time.Hour, MQTT: MQTT{Broker: broker}, Lines: lines,
		Watch:   []Watch{{Class: label, On: score / 2}},
		Actions: []gpio.Action{{Class: label, Kind: gpio.LED, Pin: "gpiochip0:0"}},
		Trigger: &Trigger{Input: gpio.Input{Pin: "gpiochip0:3", Debounce: 20 * time.Millisecond}, Name: "power-button"},
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()
	for deadline := time.Now().Add(60 * time.Second); !lines.high.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("the LED action did not turn line 0 on within 60 s")
		}
		select {
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if l := debugfsLine(t, 0); !strings.Contains(l, " out ") || !strings.Contains(l, " hi") {
		t.Errorf("debugfs for line 0 while on: %q, want an output, high", l)
	}
	vmtest.Event("led-on") // the host reads the chip, then presses the power button

	for got := false; !got; {
		select {
		case msg := <-states:
			var s struct{ Trigger string }
			json.Unmarshal(msg.Payload(), &s)
			got = s.Trigger == "power-button"
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatal("no state with trigger power-button within 60 s of the button")
		}
	}
	vmtest.Event("triggered") // the host stops pressing
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lines.high.Load() {
		t.Error("line 0 was left high when Run returned")
	}
	if l := debugfsLine(t, 0); l != "" {
		t.Errorf("line 0 still requested after Run: %q", l)
	}
	vmtest.Event("stopped")
	time.Sleep(2 * time.Second) // the host reads the chip's register once more
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/edgeinfer/edgeinfer/gpio"
	"github.com/edgeinfer/edgeinfer/gpio/gpiotest"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// TestRun runs 'edgeinfer run' in-process on the test pattern with the embedded broker on a free
// port, for a few frames, taking the source from the environment and the rest from a config file
// and flags.
func TestRun(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	conf := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	if err := os.WriteFile(conf, []byte("source: file:nothing.jpg\ndevice: clitest\nlisten: \"off\"\nwatch:\n  - class: goldfish, Carassius auratus\n    on: 0.6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EDGEINFER_SOURCE": "pattern:?size=160x120&fps=60"}
	code, out, errs := cli(t, env, "run", "--config", conf, "--model", model, "--labels", labels,
		"--mqtt-listen", "127.0.0.1:0", "--frames", "5")
	if code != 0 {
		t.Fatalf("run: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if !strings.HasPrefix(out, "frame ") || !strings.Contains(errs, "embedded MQTT broker") || !strings.Contains(errs, "device=clitest") {
		t.Errorf("run: stdout %q\nstderr %s", out, errs)
	}
}

func TestRunErrors(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("source: \"pattern:\"\nmqtt:\n  brokr: tcp://x\n"), 0o644)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("source: \"pattern:\"\nlisten: \"off\"\nwatch:\n  - class: unicorn\n    on: 0.5\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--config", bad}, 1, bad + `:3: unknown key "brokr" (did you mean "broker"?)`},
		{[]string{"run", "--config", unknown, "--model", model, "--labels", labels, "--mqtt-listen", "127.0.0.1:0"}, 1,
			unknown + `:4: watch: unknown class "unicorn"`},
		{[]string{"run", "--frames", "-1"}, 2, "--frames must not be negative"},
		{[]string{"run", "extra"}, 2, "run takes no arguments"},
		{[]string{"run", "--config", filepath.Join(dir, "missing.yaml")}, 1, "missing.yaml"},
		// Beyond loopback only with credentials: the flag that set it is named, and the fix.
		{[]string{"run", "--model", model, "--labels", labels, "--listen", "0.0.0.0:0", "--mqtt-listen", "127.0.0.1:0"}, 1,
			"edgeinfer run: listen (--listen) 0.0.0.0:0 is reachable from the network and there are no credentials"},
		{[]string{"run", "--model", model, "--labels", labels, "--mqtt-listen", "0.0.0.0:0"}, 1,
			"set credentials: (--credentials) to a file with username: and password:"},
		{[]string{"run", "--model", model, "--labels", labels, "--mqtt-listen", "0.0.0.0:0", "--credentials", filepath.Join(dir, "nocreds.yaml")}, 1,
			"edgeinfer run: credentials (--credentials): open " + filepath.Join(dir, "nocreds.yaml")},
	} {
		code, _, errs := cli(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// TestMain lets TestSecondSignal run this test binary as the edgeinfer command.
func TestMain(m *testing.M) {
	if os.Getenv("EDGEINFER_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestForceOnSecond: the first signal only logs; the second turns the GPIO outputs off, then exits
// with 128+signal.
func TestForceOnSecond(t *testing.T) {
	var lines gpiotest.Lines
	as, err := gpio.Open(&lines, []gpio.Action{{Class: "cat", Kind: gpio.LED, Pin: "GPIO17"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	led := lines.Pin("GPIO17")
	as.Set("cat", true)
	for deadline := time.Now().Add(2 * time.Second); led.Level() != pgpio.High; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("LED not on")
		}
	}
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	var ledAtExit pgpio.Level
	go forceOnSecond(sigs, make(chan struct{}), gpio.AllOff, func(code int) { ledAtExit = led.Level(); exited <- code }, slog.New(slog.DiscardHandler))
	sigs <- syscall.SIGTERM
	select {
	case code := <-exited:
		t.Fatalf("exited (%d) after one signal", code)
	case <-time.After(100 * time.Millisecond):
	}
	sigs <- os.Interrupt
	select {
	case code := <-exited:
		if code != 130 || ledAtExit != pgpio.Low {
			t.Errorf("exit %d with the LED %v; want 130 with it off", code, ledAtExit)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no exit after the second signal")
	}
}

// TestSecondSignal runs 'edgeinfer run' as a process with an unreachable broker and a long drain
// timeout: the first SIGINT starts the drain, the second ends the process at once.
func TestSecondSignal(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	conf := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	if err := os.WriteFile(conf, []byte("drain_timeout: 60s\nlisten: \"off\"\nheartbeat: 10ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--config", conf, "--model", model, "--labels", labels,
		"--source", "pattern:?size=160x120&fps=30", "--broker", "tcp://127.0.0.1:1")
	cmd.Env = append(os.Environ(), "EDGEINFER_TEST_MAIN=1")
	var stdout, stderr lockedBuilder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// A label printed is a state message queued for the unreachable broker: the drain will wait.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stdout.String(), "frame "); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no label after 30 s:\n%s", stderr.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("exited after the first signal (%v), before the 60 s drain:\n%s", err, stderr.String())
	case <-time.After(time.Second):
	}
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after the second signal:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "second signal: exiting now") {
		t.Errorf("exit %d after %v; stderr:\n%s", code, time.Since(start), stderr.String())
	}
}

// TestDrainUndeliveredExitCode runs 'edgeinfer run' as a process with an unreachable broker and a
// short drain: SIGTERM ends it after the drain with exit status 1 and a log line saying how many
// labels were not delivered (it used to exit 0).
func TestDrainUndeliveredExitCode(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	conf := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	if err := os.WriteFile(conf, []byte("drain_timeout: 300ms\nlisten: \"off\"\nheartbeat: 10ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--config", conf, "--model", model, "--labels", labels,
		"--source", "pattern:?size=160x120&fps=30", "--broker", "tcp://127.0.0.1:1")
	cmd.Env = append(os.Environ(), "EDGEINFER_TEST_MAIN=1")
	var stdout, stderr lockedBuilder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stdout.String(), "frame "); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no label after 30 s:\n%s", stderr.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20 s after SIGTERM:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "messages not delivered to tcp://127.0.0.1:1") {
		t.Errorf("exit %d; want 1 and the undelivered labels named; stderr:\n%s", code, stderr.String())
	}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunMetricsAndStatus scrapes a running 'edgeinfer run': /metrics is the Prometheus client's
// exposition (the daemon's counters, edgeinfer_info, the process and Go runtime collectors) and
// /status.json, which the status page polls, names the model, the source and the MQTT state.
func TestRunMetricsAndStatus(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	done := make(chan int, 1)
	go func() {
		code, _, _ := cli(t, nil, "run", "--model", model, "--labels", labels, "--source", "pattern:?size=160x120&fps=30",
			"--mqtt-listen", "127.0.0.1:0", "--listen", addr, "--frames", "150")
		done <- code
	}()
	get := func(path string) (string, error) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("%s: %s", path, resp.Status)
		}
		return string(b), err
	}
	var metrics, status string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("run exited (%d) before /metrics showed classified frames", code)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no classified frame on /metrics within 2 minutes:\n%s", metrics)
		}
		m, err := get("/metrics")
		if err != nil || !regexp.MustCompile(`(?m)^edgeinfer_frames_total [1-9]`).MatchString(m) ||
			!strings.Contains(m, "edgeinfer_mqtt_connected 1") {
			metrics = m
			continue
		}
		metrics = m
		if status, err = get("/status.json"); err == nil {
			break
		}
	}
	for _, want := range []string{"go_goroutines ", "process_resident_memory_bytes ", "go_build_info{", "edgeinfer_source_up 1",
		`edgeinfer_info{broker="tcp://127.0.0.1:`, `model="` + model + `"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	var s struct {
		Model, Source, Label string
		MQTT                 struct{ Connected bool }
	}
	if err := json.Unmarshal([]byte(status), &s); err != nil {
		t.Fatalf("/status.json: %v: %s", err, status)
	}
	if s.Model != model || !strings.HasPrefix(s.Source, "pattern:") || s.Label == "" || !s.MQTT.Connected {
		t.Errorf("/status.json: %s", status)
	}
	t.Logf("status: %s", status)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run: exit %d", code)
		}
	case <-time.After(3 * time.Minute):
		t.Error("run did not end after its 150 frames")
	}
}

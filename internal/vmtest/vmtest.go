package vmtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Addresses on QEMU's user-mode network.
const (
	// HostIP is the host as the guest sees it: connections to it reach the host's 127.0.0.1.
	HostIP = "10.0.2.2"
	// GuestIP is the guest's eth0 address (a /24).
	GuestIP = "10.0.2.15"
)

// Environment variables the rig reads on the host.
const (
	EnvRequire   = "EDGEINFER_REQUIRE_VM"
	EnvKernelDir = "EDGEINFER_VMTEST_KERNEL_DIR"
	EnvQEMU      = "EDGEINFER_VMTEST_QEMU"
	EnvAppend    = "EDGEINFER_VMTEST_APPEND"
)

// Options configures one guest boot.
type Options struct {
	// Modules are kernel modules to load in the guest, in order, each a name optionally followed by
	// its parameters: "vivid node_types=0x1". Their dependencies come from modules.dep and load first.
	// virtio_pci and virtio_net are loaded unless NoNetwork is set.
	Modules []string
	// WaitFor lists guest paths (e.g. "/dev/video0") that must exist before the test runs; the guest
	// waits up to 10 s for each after loading the modules.
	WaitFor []string
	// Env is set in the guest's environment before the test runs.
	Env map[string]string
	// Host, when set, runs on the host while the guest runs. Its context ends when the guest exits,
	// and Run waits for it to return. An error from it fails the test and stops the guest.
	Host func(ctx context.Context, vm *VM) error
	// Timeout bounds the whole boot, from starting QEMU to its exit. Default 3 minutes.
	Timeout time.Duration
	// MemoryMB is the guest's RAM. Default 1024.
	MemoryMB int
	// NoNetwork leaves out the virtio network card.
	NoNetwork bool
	// KernelArgs are appended to the kernel command line.
	KernelArgs []string
}

// guestConfig is /vmtest.json: everything the guest's Main needs to know about this boot.
type guestConfig struct {
	Test    string            `json:"test"` // t.Name() of the test this boot serves
	Call    int               `json:"call"` // which of that test's Run calls, counted from 0
	Args    []string          `json:"args"` // the guest test binary's flags
	Env     map[string]string `json:"env,omitempty"`
	Modules []guestModule     `json:"modules,omitempty"` // in load order
	Network bool              `json:"network"`
	WaitFor []string          `json:"wait_for,omitempty"`
}

const guestConfigPath = "/vmtest.json"

// Console markers the guest prints on lines of their own.
const (
	markerEvent = "<<vmtest:event:"
	markerExit  = "<<vmtest:exit:"
	markerEnd   = ">>"
)

var (
	mainCalled atomic.Bool

	guestConfigOnce = sync.OnceValue(func() *guestConfig {
		if os.Getpid() != 1 {
			return nil
		}
		b, err := os.ReadFile(guestConfigPath)
		if err != nil {
			return nil
		}
		var cfg guestConfig
		if err := json.Unmarshal(b, &cfg); err != nil {
			fmt.Printf("vmtest: %s: %v\n", guestConfigPath, err)
			return nil
		}
		return &cfg
	})

	callsMu sync.Mutex
	calls   = map[*testing.T]int{}
)

// InGuest reports whether this process is the guest's /init started by Run.
func InGuest() bool { return guestConfigOnce() != nil }

// nextCall returns how many times Run was called before in this run of test t (-count=N runs a test
// N times, each with its own *testing.T).
func nextCall(t *testing.T) int {
	callsMu.Lock()
	defer callsMu.Unlock()
	n, ok := calls[t]
	if !ok {
		t.Cleanup(func() {
			callsMu.Lock()
			defer callsMu.Unlock()
			delete(calls, t)
		})
	}
	calls[t] = n + 1
	return n
}

// eventRan is the event the guest sends when it calls the Run function of its boot.
const eventRan = "vmtest.ran"

// Main is the TestMain of every package that calls Run. On the host it runs the tests and removes the
// guest binaries it built. In the guest it sets up the machine, runs the one test the boot is for, prints
// its exit code on the console and powers off. It does not return.
func Main(m *testing.M) {
	mainCalled.Store(true)
	if cfg := guestConfigOnce(); cfg != nil {
		guestMain(m, cfg)
	}
	code := m.Run()
	hostCleanup()
	os.Exit(code)
}

func guestMain(m *testing.M, cfg *guestConfig) {
	code := 3
	if err := setupGuest(cfg); err != nil {
		fmt.Printf("vmtest: guest setup: %v\n", err)
	} else {
		os.Args = append([]string{os.Args[0]}, cfg.Args...)
		code = m.Run()
	}
	fmt.Printf("\n%s%d%s\n", markerExit, code, markerEnd)
	powerOff(code)
}

// Event tells the host's Options.Host hook that the guest reached the point name (see VM.WaitEvent).
// name must be non-empty without spaces or '>'. On the host it does nothing.
func Event(name string) {
	if !InGuest() {
		return
	}
	fmt.Printf("\n%s%s%s\n", markerEvent, name, markerEnd)
}

// RequireVM skips t when the rig (QEMU and the kernel) is not installed, or fails it when
// EDGEINFER_REQUIRE_VM=1. Run calls it; a test calls it itself to skip before host-side setup.
// In the guest it does nothing.
func RequireVM(t testing.TB) {
	t.Helper()
	if InGuest() {
		return
	}
	if _, err := findRig(); err != nil {
		unavailable(t, err)
	}
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%v (%s=1)", err, EnvRequire)
	}
	t.Skipf("%v; run .ci/vmtest-setup.sh or set %s (%s=1 makes this fail)", err, EnvKernelDir, EnvRequire)
}

// Run runs fn inside a fresh arm64 guest and passes or fails t with the guest's result; the guest's
// console log is attached on failure and logged under -v. In the guest, Run calls fn for the boot's own
// test and call, and does nothing for the others.
func Run(t *testing.T, opts Options, fn func(t *testing.T)) {
	t.Helper()
	res, inGuest := runVM(t, opts, fn)
	switch {
	case inGuest:
	case res.err != nil:
		t.Fatalf("vmtest: %v\n--- guest console ---\n%s", res.err, res.log)
	case res.exit != 0:
		t.Fatalf("vmtest: the guest's test failed (exit code %d)\n--- guest console ---\n%s", res.exit, res.log)
	case testing.Verbose():
		t.Logf("--- guest console ---\n%s", res.log)
	}
}

// runVM is Run without the verdict: on the host it boots the guest and returns what happened; in the
// guest it calls fn if this boot is for this call and reports inGuest.
func runVM(t *testing.T, opts Options, fn func(t *testing.T)) (res bootResult, inGuest bool) {
	t.Helper()
	if cfg := guestConfigOnce(); cfg != nil {
		if nextCall(t) == cfg.Call && t.Name() == cfg.Test {
			Event(eventRan)
			fn(t)
		}
		return bootResult{}, true
	}
	if !mainCalled.Load() {
		t.Fatal("vmtest: Run needs the package's TestMain to call vmtest.Main(m)")
	}
	r, err := findRig()
	if err != nil {
		unavailable(t, err)
	}
	call := nextCall(t)
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Minute
	}
	if opts.MemoryMB <= 0 {
		opts.MemoryMB = 1024
	}

	start := time.Now()
	bin, err := guestBinary()
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)

	reqs := opts.Modules
	if !opts.NoNetwork {
		reqs = append([]string{"virtio_pci", "virtio_net"}, reqs...)
	}
	mods, err := r.modules.resolve(reqs)
	if err != nil {
		t.Fatal(err)
	}
	guestTimeout := opts.Timeout * 4 / 5
	args := []string{
		"-test.run=" + testPattern(t.Name()),
		"-test.v=true",
		"-test.timeout=" + guestTimeout.String(),
	}
	if testing.Short() {
		args = append(args, "-test.short=true")
	}
	cfg := guestConfig{
		Test: t.Name(), Call: call, Args: args, Env: opts.Env,
		Modules: mods, Network: !opts.NoNetwork, WaitFor: opts.WaitFor,
	}
	initrd := filepath.Join(t.TempDir(), "initrd.cpio")
	if err := writeInitramfsFile(initrd, bin, cfg); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	bootStart := time.Now()
	res = r.boot(ctx, initrd, opts)
	t.Logf("vmtest: guest binary ready in %v, guest ran %v (%s)", built.Round(time.Millisecond),
		time.Since(bootStart).Round(time.Millisecond), r.kernelVersion)
	return res, false
}

// testPattern is the -test.run pattern that selects exactly the test (or subtest) named name.
func testPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// rig is what the host needs to boot guests.
type rig struct {
	qemu          string
	vmlinuz       string
	kernelVersion string
	modules       *moduleDB
}

var findRig = sync.OnceValues(func() (*rig, error) {
	qemu := os.Getenv(EnvQEMU)
	if qemu == "" {
		qemu = "qemu-system-aarch64"
	}
	qemuPath, err := exec.LookPath(qemu)
	if err != nil {
		return nil, fmt.Errorf("vmtest: QEMU not found: %w", err)
	}
	dir := os.Getenv(EnvKernelDir)
	if dir == "" {
		cache := os.Getenv("EDGEINFER_CACHE")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("vmtest: no kernel dir: %s unset and %w", EnvKernelDir, err)
			}
			cache = filepath.Join(home, ".cache", "edgeinfer")
		}
		dir = filepath.Join(cache, "vmtest", "current")
	}
	vmlinuz := filepath.Join(dir, "vmlinuz")
	if _, err := os.Stat(vmlinuz); err != nil {
		return nil, fmt.Errorf("vmtest: no arm64 kernel: %w", err)
	}
	vers, _ := filepath.Glob(filepath.Join(dir, "lib", "modules", "*", "modules.dep"))
	if len(vers) != 1 {
		return nil, fmt.Errorf("vmtest: want one lib/modules/<version>/modules.dep in %s, found %d", dir, len(vers))
	}
	db, err := loadModuleDB(filepath.Dir(vers[0]))
	if err != nil {
		return nil, err
	}
	return &rig{qemu: qemuPath, vmlinuz: vmlinuz, kernelVersion: filepath.Base(filepath.Dir(vers[0])), modules: db}, nil
})

var (
	hostTmpMu sync.Mutex
	hostTmp   string
)

// guestBinary builds the current package's test binary for the guest, once per process.
var guestBinary = sync.OnceValues(func() (string, error) {
	hostTmpMu.Lock()
	dir, err := os.MkdirTemp("", "vmtest-bin-")
	hostTmp = dir
	hostTmpMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("vmtest: %w", err)
	}
	out := filepath.Join(dir, "guest.test")
	// go test puts its own GOROOT/bin first in the test's PATH.
	cmd := exec.Command("go", "test", "-c", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("vmtest: building the guest test binary (GOARCH=arm64 go test -c): %v\n%s", err, b)
	}
	return out, nil
})

func hostCleanup() {
	hostTmpMu.Lock()
	defer hostTmpMu.Unlock()
	if hostTmp != "" {
		os.RemoveAll(hostTmp)
	}
}

// writeInitramfsFile writes the guest's initramfs to path.
func writeInitramfsFile(path, bin string, cfg guestConfig) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("vmtest: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("vmtest: %w", cerr)
		}
	}()
	if err := writeInitramfs(f, bin, cfg); err != nil {
		return err
	}
	return nil
}

var errNotReached = errors.New("the guest's test passed without reaching this Run call: " +
	"the test's sequence of Run calls must not depend on host-only state")

var errNoResult = errors.New("the guest exited without reporting a result (its /init crashed or exited: see the console)")

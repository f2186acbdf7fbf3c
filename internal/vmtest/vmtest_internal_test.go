package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

// fakeModules writes a lib/modules/<version> tree with a hand-made modules.dep and returns its path.
func fakeModules(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lib", "modules", "9.9.9-test")
	files := map[string]string{
		"modules.dep": "kernel/a.ko: kernel/b.ko kernel/c.ko.xz\n" +
			"kernel/b.ko: kernel/c.ko.xz\n" +
			"kernel/c.ko.xz:\n" +
			"\n# comment\n" +
			"kernel/sub/d-e.ko: kernel/a.ko kernel/b.ko kernel/c.ko.xz\n" +
			"/lib/modules/9.9.9-test/kernel/abs.ko: kernel/c.ko.xz\n" +
			"kernel/x.ko: kernel/y.ko\n" +
			"kernel/y.ko: kernel/x.ko\n" +
			"kernel/orphan.ko: kernel/missing.ko\n",
		"modules.builtin":   "kernel/drivers/gpio/gpio-pl061.ko\n",
		"kernel/a.ko":       "module a",
		"kernel/b.ko":       "module b",
		"kernel/c.ko.xz":    "module c, compressed",
		"kernel/sub/d-e.ko": "module d-e",
		"kernel/abs.ko":     "module abs",
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func moduleNames(ms []guestModule) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestModuleResolve(t *testing.T) {
	db, err := loadModuleDB(fakeModules(t))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := db.resolve([]string{"d-e x=1 y=2", "a", "gpio-pl061", "abs"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := moduleNames(mods), []string{"c", "b", "a", "d_e", "abs"}; !slices.Equal(got, want) {
		t.Fatalf("load order %v, want %v", got, want)
	}
	byName := map[string]guestModule{}
	for _, m := range mods {
		byName[m.Name] = m
	}
	if m := byName["d_e"]; m.Params != "x=1 y=2" || m.Path != "/lib/modules/9.9.9-test/kernel/sub/d-e.ko" || m.Compressed {
		t.Errorf("d_e resolved to %+v", m)
	}
	if m := byName["c"]; !m.Compressed || m.Params != "" || !strings.HasSuffix(m.src, filepath.FromSlash("kernel/c.ko.xz")) {
		t.Errorf("c resolved to %+v", m)
	}
	if m := byName["abs"]; m.Path != "/lib/modules/9.9.9-test/kernel/abs.ko" {
		t.Errorf("absolute modules.dep path resolved to %q", m.Path)
	}

	for _, tc := range []struct {
		reqs []string
		want string
	}{
		{[]string{"nosuch"}, `module "nosuch" is not in`},
		{[]string{"a", "b y=1"}, "already loaded as a dependency"},
		{[]string{"x"}, "has a cycle"},
		{[]string{"orphan"}, "kernel/missing.ko (needed by kernel/orphan.ko) is not in"},
		{[]string{" "}, "empty module request"},
	} {
		if _, err := db.resolve(tc.reqs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("resolve(%q) = %v, want an error containing %q", tc.reqs, err, tc.want)
		}
	}
}

func TestModuleDBErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadModuleDB(dir); err == nil || !strings.Contains(err.Error(), "modules.dep") {
		t.Errorf("no modules.dep: got %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte("kernel/a.ko\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadModuleDB(dir); err == nil || !strings.Contains(err.Error(), "modules.dep:1") {
		t.Errorf("malformed modules.dep: got %v", err)
	}
}

// TestRealKernelModules resolves the sample's modules against the installed Debian kernel.
func TestRealKernelModules(t *testing.T) {
	r, err := findRig()
	if err != nil {
		t.Skipf("%v", err)
	}
	mods, err := r.modules.resolve([]string{"virtio_pci", "virtio_net", "vivid"})
	if err != nil {
		t.Fatal(err)
	}
	names := moduleNames(mods)
	pos := func(n string) int {
		i := slices.Index(names, n)
		if i < 0 {
			t.Fatalf("%s missing from %v", n, names)
		}
		return i
	}
	if pos("videodev") > pos("vivid") || pos("failover") > pos("net_failover") || pos("net_failover") > pos("virtio_net") {
		t.Errorf("dependencies after their users: %v", names)
	}
	if names[len(names)-1] != "vivid" {
		t.Errorf("last module %s, want vivid: %v", names[len(names)-1], names)
	}
	for _, m := range mods {
		if _, err := os.Stat(m.src); err != nil {
			t.Error(err)
		}
	}
}

func TestInitramfs(t *testing.T) {
	db, err := loadModuleDB(fakeModules(t))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := db.resolve([]string{"a p=1"})
	if err != nil {
		t.Fatal(err)
	}
	initBin := filepath.Join(t.TempDir(), "guest.test")
	if err := os.WriteFile(initBin, []byte("\x7fELF pretend"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := guestConfig{Test: "TestX/sub", Call: 1, Args: []string{"-test.v=true"}, Env: map[string]string{"K": "V"},
		Modules: mods, Network: true, WaitFor: []string{"/dev/video0"}}
	var buf bytes.Buffer
	if err := writeInitramfs(&buf, initBin, cfg); err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]cpio.Record{}
	for i, r := range recs {
		if r.Name == cpio.Trailer {
			if i != len(recs)-1 {
				t.Errorf("trailer at %d of %d records", i, len(recs))
			}
			continue
		}
		if dir := path.Dir(r.Name); dir != "." && dir != r.Name {
			if d, ok := seen[dir]; !ok || d.Mode&cpio.S_IFMT != cpio.S_IFDIR {
				t.Errorf("%s comes before its directory %s", r.Name, dir)
			}
		}
		seen[r.Name] = r
	}
	content := func(name string) string {
		r, ok := seen[name]
		if !ok {
			t.Fatalf("%s missing from the archive", name)
		}
		b, err := io.ReadAll(io.NewSectionReader(r, 0, int64(r.FileSize)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if c := seen["dev/console"]; c.Mode != cpio.S_IFCHR|0o600 || c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("dev/console: %v", c.Info)
	}
	if m := seen["init"].Mode; m != cpio.S_IFREG|0o755 {
		t.Errorf("init mode %#o", m)
	}
	if got := content("init"); got != "\x7fELF pretend" {
		t.Errorf("init holds %q", got)
	}
	for _, want := range []string{"proc", "sys", "tmp"} {
		if seen[want].Mode&cpio.S_IFMT != cpio.S_IFDIR {
			t.Errorf("%s is not a directory", want)
		}
	}
	for _, m := range mods {
		if got, want := content(strings.TrimPrefix(m.Path, "/")), "module "; !strings.HasPrefix(got, want) {
			t.Errorf("%s holds %q", m.Path, got)
		}
	}
	var back guestConfig
	if err := json.Unmarshal([]byte(content("vmtest.json")), &back); err != nil {
		t.Fatal(err)
	}
	if back.Test != cfg.Test || back.Call != 1 || back.Env["K"] != "V" || len(back.Modules) != 3 ||
		back.Modules[2].Params != "p=1" || !back.Modules[0].Compressed || !back.Network {
		t.Errorf("vmtest.json round trip: %+v", back)
	}
}

func TestTestPattern(t *testing.T) {
	for name, want := range map[string]string{
		"TestA":             "^TestA$",
		"TestA/sub_1":       "^TestA$/^sub_1$",
		"TestA/x.y(z)/deep": `^TestA$/^x\.y\(z\)$/^deep$`,
	} {
		if got := testPattern(name); got != want {
			t.Errorf("testPattern(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestConsole(t *testing.T) {
	vm := newVM("")
	c := &console{vm: vm}
	in := "[    1.0] booting\r\n" +
		"=== RUN   TestX\r\n" +
		"\r\n<<vmtest:event:armed>>\r\n" +
		"[    2.0] printk in the middle <<vmtest:event:second>> of a line\r\n" +
		"<<vmtest:event:>>\r\n" + // empty: no event
		"<<vmtest:exit:1>>\r\n" +
		"[    3.0] reboot: Power down\r\n"
	c.read(strings.NewReader(in))
	if code, ok := c.exitCode(); !ok || code != 1 {
		t.Errorf("exit code %d, %v; want 1, true", code, ok)
	}
	if !vm.events["armed"] || !vm.events["second"] || len(vm.events) != 2 {
		t.Errorf("events %v", vm.events)
	}
	if got := c.String(); strings.Contains(got, "\r") || !strings.Contains(got, "=== RUN   TestX\n") || !strings.HasSuffix(got, "Power down\n") {
		t.Errorf("console log:\n%q", got)
	}

	none := &console{}
	none.read(strings.NewReader("Kernel panic - not syncing: Attempted to kill init!\n"))
	if _, ok := none.exitCode(); ok {
		t.Error("exit code found in a log without a marker")
	}
}

func TestConsoleCap(t *testing.T) {
	c := &console{}
	long := strings.Repeat("x", 1000)
	for i := 0; i < maxConsole/1000+5000; i++ {
		c.line(long)
	}
	c.line("the last line")
	got := c.String()
	if len(got) > maxConsole+maxConsole/2 {
		t.Errorf("log kept %d bytes, cap %d", len(got), maxConsole)
	}
	if !strings.Contains(got, "lines dropped") || !strings.HasSuffix(got, "the last line\n") {
		t.Errorf("capped log lacks the drop note or the last line (%d bytes)", len(got))
	}
}

func TestWaitEvent(t *testing.T) {
	vm := newVM("")
	go func() {
		time.Sleep(20 * time.Millisecond)
		vm.addEvent("other")
		vm.addEvent("ready")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := vm.WaitEvent(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := vm.WaitEvent(short, "never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitEvent past the deadline: %v", err)
	}
	close(vm.exited)
	if err := vm.WaitEvent(ctx, "never"); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitEvent after exit: %v", err)
	}
}

// TestMonitor drives VM.PowerButton against a fake HMP server that speaks like QEMU 7.2's.
func TestMonitor(t *testing.T) {
	dir, err := os.MkdirTemp("", "vmtest-hmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "hmp.sock")
	vm := newVM(sock)
	got := make(chan string, 1)
	go func() {
		time.Sleep(100 * time.Millisecond) // the client must wait for the socket to appear
		l, err := net.Listen("unix", sock)
		if err != nil {
			got <- "listen: " + err.Error()
			return
		}
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		io.WriteString(c, "QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) ")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- line
		io.WriteString(c, "\x1b[K"+strings.TrimSpace(line)+"\r\n(qemu) ")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := vm.PowerButton(ctx); err != nil {
		t.Fatal(err)
	}
	if line := <-got; line != "system_powerdown\n" {
		t.Errorf("monitor got %q", line)
	}
}

func TestQEMUArgs(t *testing.T) {
	t.Setenv(EnvAppend, "loglevel=7")
	r := &rig{qemu: "qemu-system-aarch64", vmlinuz: "/k/vmlinuz"}
	args := strings.Join(r.qemuArgs("/i/initrd.cpio", "/s/hmp.sock", Options{MemoryMB: 512, KernelArgs: []string{"foo=bar"}}), " ")
	for _, want := range []string{
		"-M virt -cpu cortex-a72 -smp 1 -m 512", "-no-reboot", "-kernel /k/vmlinuz", "-initrd /i/initrd.cpio",
		"-monitor unix:/s/hmp.sock,server=on,wait=off",
		"-append console=ttyAMA0 panic=-1 quiet loglevel=7 foo=bar",
		"-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile=",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("QEMU args lack %q:\n%s", want, args)
		}
	}
	if args := strings.Join(r.qemuArgs("i", "s", Options{MemoryMB: 512, NoNetwork: true}), " "); strings.Contains(args, "netdev") {
		t.Errorf("NoNetwork still has a network card: %s", args)
	}
}

// TestGuestFailureReported boots a guest whose test fails on purpose and checks that the host sees
// the failure, the guest's log, the environment and an event.
func TestGuestFailureReported(t *testing.T) {
	t.Run("sub", func(t *testing.T) {
		var hostSawEvent bool
		res, inGuest := runVM(t, Options{
			NoNetwork: true,
			Env:       map[string]string{"VMTEST_PROBE": "probe-value"},
			Host: func(ctx context.Context, vm *VM) error {
				err := vm.WaitEvent(ctx, "probe")
				hostSawEvent = err == nil
				return err
			},
		}, func(t *testing.T) {
			if got := os.Getenv("VMTEST_PROBE"); got != "probe-value" {
				t.Fatalf("VMTEST_PROBE=%q in the guest", got)
			}
			Event("probe")
			t.Error("deliberate guest failure 4711")
		})
		if inGuest {
			return
		}
		if res.err != nil {
			t.Fatalf("boot failed: %v\n%s", res.err, res.log)
		}
		if res.exit != 1 || !strings.Contains(res.log, "deliberate guest failure 4711") ||
			!strings.Contains(res.log, "--- FAIL: TestGuestFailureReported/sub") {
			t.Fatalf("guest exit %d; want 1 and the failure in the log:\n%s", res.exit, res.log)
		}
		if !hostSawEvent {
			t.Errorf("the host hook did not see the guest's event")
		}
	})
}

// TestGuestRunNotReached checks the safety net for tests whose Run calls differ between host and guest:
// a guest that passes without reaching the boot's Run call must not pass the host's test.
func TestGuestRunNotReached(t *testing.T) {
	if InGuest() {
		return // deliberately skips the Run call in the guest
	}
	res, _ := runVM(t, Options{NoNetwork: true}, func(t *testing.T) {})
	if !errors.Is(res.err, errNotReached) {
		t.Fatalf("got err %v, exit %d; want errNotReached\n%s", res.err, res.exit, res.log)
	}
}

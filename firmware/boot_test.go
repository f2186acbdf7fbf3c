package firmware

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// requireTool returns the path of a command, or skips the test when it is missing (fails it when
// EDGEINFER_CI=1 or EDGEINFER_REQUIRE_VM=1, as CI sets them).
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("EDGEINFER_CI") == "1" || os.Getenv("EDGEINFER_REQUIRE_VM") == "1" {
		t.Fatalf("%s not found (Debian package %s; .ci/vmtest-setup.sh installs it)", name, pkg)
	}
	t.Skipf("skipping: %s not installed (Debian package %s); EDGEINFER_CI=1 makes this a failure", name, pkg)
	return ""
}

// TestBootPi3QEMU builds the appliance image for the Pi 3 with a real model and boots it under
// qemu-system-aarch64 -M raspi3b, with the kernel and device tree taken from the image's boot
// partition and its cmdline.txt, until edgeinfer run logs "running" on the serial console: root
// squashfs mounted, edgeinfer started as PID 1, kernel modules loaded (uvcvideo, and the WiFi drivers
// brcmfmac with its dependencies), data partition mounted, 'edgeinfer run' supervised, model loaded,
// test pattern source and embedded MQTT broker up, and the WiFi station waiting for an interface.
func TestBootPi3QEMU(t *testing.T) {
	qemu := requireTool(t, "qemu-system-aarch64", "qemu-system-arm")
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	pi3, _ := LookupBoard("pi3")
	dir := t.TempDir()
	img := filepath.Join(dir, "pi3.img")
	// With WiFi: the brcmfmac drivers must load on this kernel and the WiFi station start (QEMU's
	// raspi3b has no WiFi chip, so it waits for an interface).
	wifiFW, err := WiFiFirmwareDir(testContext(t, 10*time.Minute), "", testLogger(t))
	if err != nil {
		if os.Getenv("EDGEINFER_CI") == "1" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v (EDGEINFER_CI=1 makes this a failure)", err)
	}
	start := time.Now()
	s, err := BuildAppliance(testContext(t, 10*time.Minute), img, ApplianceOptions{Board: pi3, Payload: Payload{
		Binary: testBinary(t), Model: model, Labels: labels, Config: []byte("source: \"pattern:?size=320x240&fps=5\"\n")},
		WiFi: &WiFi{SSID: "edgeinfer-test", Passphrase: "not a real network", Country: "GB"}, WiFiFirmware: wifiFW})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image: %.1f MiB, written in %v (plus %v for the arm64 build)", float64(s.Size)/mib, time.Since(start).Round(time.Millisecond), binTime.Round(time.Second))

	// Kernel, device tree and command line from the image itself.
	im := openImage(t, img)
	boot := im.fs(1, filesystem.TypeFat32)
	kernel, dtb := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, pi3.QEMUDTB)
	if err := os.WriteFile(kernel, readFS(t, boot, "/vmlinuz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dtb, readFS(t, boot, "/"+pi3.QEMUDTB), 0o644); err != nil {
		t.Fatal(err)
	}
	cmdline := strings.TrimSpace(string(readFS(t, boot, "/cmdline.txt")))
	// The Pi firmware turns serial0 into the UART that enable_uart selects (ttyS0, the mini UART,
	// on the Pi 3); QEMU boots the kernel directly, so name it. QEMU's first serial port is the
	// PL011, which the Pi 3 device tree gives to Bluetooth; the second is the mini UART.
	cmdline = strings.Replace(cmdline, "console=serial0,115200", "console=ttyS0,115200", 1)
	cmdline = strings.Replace(cmdline, " console=tty1", "", 1)

	// QEMU wants an SD card whose size is a power of two: pad a copy.
	sd := filepath.Join(dir, "sd.img")
	if err := copyFile(testContext(t, time.Minute), img, sd); err != nil {
		t.Fatal(err)
	}
	size := int64(1)
	for size < s.Size {
		size <<= 1
	}
	if err := os.Truncate(sd, size); err != nil {
		t.Fatal(err)
	}
	// An edgeinfer.yaml on the data partition replaces the built-in one: "running" must name its
	// source.
	d, err := diskfs.Open(sd, diskfs.WithOpenMode(diskfs.ReadWrite), diskfs.WithSectorSize(diskfs.SectorSize512))
	if err != nil {
		t.Fatal(err)
	}
	data, err := d.GetFilesystem(3)
	if err != nil {
		t.Fatal(err)
	}
	const dataSource = "pattern:?size=160x120&fps=2"
	if err := writeFiles(testContext(t, time.Minute), data, []fileSpec{{dst: "/edgeinfer.yaml", data: []byte("source: \"" + dataSource + "\"\n")}}, Epoch(), "data"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-M", "raspi3b", "-accel", "tcg,thread=single",
		"-kernel", kernel, "-dtb", dtb, "-append", cmdline,
		"-drive", "if=sd,format=raw,file="+sd,
		"-display", "none", "-monitor", "none", "-serial", "null", "-serial", "stdio", "-no-reboot")
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	qemuStart := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var console []string
	marks := map[string]time.Duration{}
	want := []struct{ name, text string }{
		{"kernel", "Booting Linux"},
		{"root", "VFS: Mounted root (squashfs filesystem) readonly"},
		{"init", `msg="edgeinfer init: starting" pid=1`},
		{"modules", `msg="edgeinfer init: loaded kernel modules"`},
		{"uvcvideo", "usbcore: registered new interface driver uvcvideo"},
		{"data", `msg="edgeinfer init: mounted data partition"`},
		{"running", "msg=running "},
		{"data config", `source="` + dataSource + `"`},
		{"regdomain", `msg="edgeinfer init: WiFi: regulatory domain set" country=GB`},
		{"wifi", `msg="edgeinfer init: WiFi: waiting for a wireless interface"`},
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		console = append(console, line)
		for _, w := range want {
			if _, seen := marks[w.name]; !seen && strings.Contains(line, w.text) {
				marks[w.name] = time.Since(qemuStart)
			}
		}
		if strings.Contains(line, `msg="edgeinfer init: kernel module"`) {
			t.Errorf("console: %s", line)
		}
		if len(marks) == len(want) {
			break
		}
	}
	cmd.Process.Kill()
	go io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	tail := console[max(0, len(console)-60):]
	if _, ok := marks["running"]; !ok {
		why := "QEMU exited"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			why = "timed out after 3m"
		}
		t.Fatalf("no readiness line on the console (%s: %v); last lines:\n%s", why, werr, strings.Join(tail, "\n"))
	}
	var report []string
	for _, w := range want {
		d, ok := marks[w.name]
		if !ok {
			t.Errorf("console never showed %q", w.text)
			continue
		}
		report = append(report, fmt.Sprintf("%s %.1fs", w.name, d.Seconds()))
	}
	t.Logf("QEMU raspi3b, seconds from QEMU start: %s", strings.Join(report, ", "))
	if testing.Verbose() {
		t.Logf("console (last lines):\n%s", strings.Join(tail, "\n"))
	}
}

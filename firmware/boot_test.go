package firmware

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/edgeinfer/edgeinfer/internal/credentials"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// The USB controller's compatible string in the Raspberry Pi device trees (the dwc_otg driver's),
// and the mainline one (dwc2's), the same length: see TestBootPi3QEMU.
const (
	dwcOTG = "brcm,bcm2708-usb"
	dwc2   = "brcm,bcm2835-usb"
)

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// checkReachable connects to a booted appliance's MQTT broker at mqttAddr and status page at
// httpAddr (host ports forwarded to the guest): with c, the broker lets the client in and hands it
// the device's retained "online", and the page and /metrics answer 200; without credentials, or with
// a wrong password or username, the broker refuses the CONNECT and the page answers 401.
func checkReachable(t *testing.T, ctx context.Context, mqttAddr, httpAddr string, c credentials.Credentials) {
	t.Helper()
	broker := "tcp://" + mqttAddr
	connect := func(id, user, pass string) (paho.Client, error) {
		o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetAutoReconnect(false).
			SetConnectRetry(false).SetConnectTimeout(30 * time.Second).SetUsername(user).SetPassword(pass)
		cl := paho.NewClient(o)
		tok := cl.Connect()
		if !tok.WaitTimeout(40 * time.Second) {
			return nil, errors.New("CONNECT timed out")
		}
		return cl, tok.Error()
	}
	cl, err := connect("host-ok", c.Username, c.Password)
	if err != nil {
		t.Fatalf("MQTT CONNECT to the appliance (%s, forwarded to the guest's 1883) with its credentials: %v", broker, err)
	}
	online := make(chan string, 10)
	tok := cl.Subscribe("edgeinfer/+/availability", 1, func(_ paho.Client, m paho.Message) {
		select {
		case online <- m.Topic() + " " + string(m.Payload()):
		default:
		}
	})
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Errorf("subscribe: %v", tok.Error())
	}
	select {
	case m := <-online:
		if m != "edgeinfer/edgeinfer/availability online" {
			t.Errorf("availability: %q, want edgeinfer/edgeinfer/availability online", m)
		}
	case <-time.After(60 * time.Second):
		t.Error("no retained availability message from the appliance's broker within 60 s")
	}
	cl.Disconnect(100)
	for _, tc := range []struct{ name, user, pass string }{
		{"no credentials", "", ""},
		{"wrong password", c.Username, c.Password[1:]},
		{"wrong username", "admin", c.Password},
	} {
		cl, err := connect("host-"+strings.ReplaceAll(tc.name, " ", "-"), tc.user, tc.pass)
		if err == nil {
			cl.Disconnect(50)
			t.Errorf("MQTT CONNECT with %s: accepted", tc.name)
		} else if !strings.Contains(err.Error(), "not Authorized") && !strings.Contains(err.Error(), "bad user name or password") {
			t.Errorf("MQTT CONNECT with %s: %v, want a refusal for bad credentials", tc.name, err)
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	for _, p := range []string{"/", "/metrics"} {
		for _, tc := range []struct {
			name, user, pass string
			want             int
		}{
			{"the credentials", c.Username, c.Password, http.StatusOK},
			{"no credentials", "", "", http.StatusUnauthorized},
			{"a wrong password", c.Username, c.Password + "x", http.StatusUnauthorized},
		} {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+httpAddr+p, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Errorf("GET %s with %s: %v", p, tc.name, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET %s with %s: %d, want %d", p, tc.name, resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusOK && p == "/" && !strings.Contains(string(body), "<h1>edgeinfer edgeinfer</h1>") {
				t.Errorf("GET / with the credentials: not the status page:\n%s", body)
			}
		}
	}
}

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
//
// The image is built as 'firmware build' without --broker builds it, with credentials, and the
// guest has a network: QEMU's usb-net on user-mode networking, with host ports forwarded to the
// guest's 1883 and 9108. From the host, through those, the test then connects to the appliance's
// broker and status page: with the credentials it gets in (and the retained "online"), without
// them or with wrong ones it is refused (see checkReachable). QEMU's raspi3b emulates the USB
// controller that the mainline dwc2 driver drives, not the Raspberry Pi kernel's dwc_otg (which
// times out reading descriptors): the test's copy of the device tree names the controller
// "brcm,bcm2835-usb" instead of "brcm,bcm2708-usb", so that dwc2 (built into the kernel too)
// takes it; the image itself keeps the Pi's tree.
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
	creds, err := credentials.Generate()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, err := BuildAppliance(testContext(t, 10*time.Minute), img, ApplianceOptions{Board: pi3, Payload: Payload{
		Binary: testBinary(t), Model: model, Labels: labels, Config: []byte("source: \"pattern:?size=320x240&fps=5\"\n")},
		WiFi: &WiFi{SSID: "edgeinfer-test", Passphrase: "not a real network", Country: "GB"}, WiFiFirmware: wifiFW,
		Credentials: &creds})
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
	tree := readFS(t, boot, "/"+pi3.QEMUDTB)
	if n := bytes.Count(tree, []byte(dwcOTG)); n != 1 {
		t.Fatalf("%s: %q %d times, want once", pi3.QEMUDTB, dwcOTG, n)
	}
	if err := os.WriteFile(dtb, bytes.Replace(tree, []byte(dwcOTG), []byte(dwc2), 1), 0o644); err != nil {
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

	mqttPort, httpPort := freePort(t), freePort(t)
	// Three minutes sufficed on a quiet machine; on this shared one (load average 20-30) the kernel
	// has taken more than four to start init's first line.
	const bootTimeout = 6 * time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-M", "raspi3b", "-accel", "tcg,thread=single",
		"-kernel", kernel, "-dtb", dtb, "-append", cmdline,
		"-drive", "if=sd,format=raw,file="+sd,
		"-device", "usb-net,netdev=n0",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:1883,hostfwd=tcp:127.0.0.1:%d-:9108", mqttPort, httpPort),
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
		{"dhcp", `msg="edgeinfer init: DHCP" if=usb0`},
		{"broker", `msg="embedded MQTT broker: clients must authenticate" addr=[::]:1883`}, // every interface
		{"page", `msg="metrics and status page: clients must authenticate" credentials=` + DataCredentials},
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
	// The guest keeps running (and its console is kept) while the host reaches it.
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for sc.Scan() {
			console = append(console, sc.Text())
		}
		io.Copy(io.Discard, stdout)
	}()
	var reach time.Duration
	if len(marks) == len(want) {
		reachStart := time.Now()
		checkReachable(t, ctx, fmt.Sprintf("127.0.0.1:%d", mqttPort), fmt.Sprintf("127.0.0.1:%d", httpPort), creds)
		reach = time.Since(reachStart)
	}
	cmd.Process.Kill()
	werr := cmd.Wait()
	<-consoleDone
	tail := console[max(0, len(console)-60):]
	if _, ok := marks["running"]; !ok {
		why := "QEMU exited"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			why = fmt.Sprintf("timed out after %v", bootTimeout)
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
	t.Logf("QEMU raspi3b, seconds from QEMU start: %s; reaching the broker and page from the host: %.1fs", strings.Join(report, ", "), reach.Seconds())
	if testing.Verbose() {
		t.Logf("console (last lines):\n%s", strings.Join(tail, "\n"))
	}
}

package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"

	"github.com/edgeinfer/edgeinfer/firmware"
	"github.com/edgeinfer/edgeinfer/internal/credentials"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

func TestFirmwareUsageErrors(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"firmware"}, "usage: edgeinfer firmware build"},
		{[]string{"firmware", "build", "-o", "x.img"}, "--board is required"},
		{[]string{"firmware", "build", "--board", "pi2", "-o", "x.img"}, `unknown board "pi2" (known: pi3, pi4, pi5, zero2w)`},
		{[]string{"firmware", "build", "--board", "pi3"}, "-o FILE is required"},
		{[]string{"firmware", "build", "--board", "pi3", "-o", "x.img", "--wifi-ssid", "home"}, "--wifi-ssid and --wifi-psk go together"},
		{[]string{"firmware", "build", "--board", "pi3", "-o", "x.img", "--size", "12X"}, "--size"},
		{[]string{"firmware", "build", "--board", "pi3", "-o", "x.img", "--wifi-firmware", "/lib/firmware", "--base", "b.img"}, "--wifi-firmware applies to appliance images only"},
		{[]string{"firmware", "build", "--board", "pi3", "-o", "x.img", "--size", "1G", "--base", "b.img"}, "--size applies to appliance images only"},
		{[]string{"firmware", "build", "--board", "pi3", "-o", "x.img", "--broker", "tcp://h:1883", "--base", "b.img"}, "--broker applies to appliance images only"},
		{[]string{"firmware", "build", "--board", "pi3", "-o", "x.img", "--model", model}, "has no labels"},
	} {
		code, _, errs := cli(t, nil, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// TestFirmwareBuild runs 'edgeinfer firmware build' in-process for a Pi 5 with a converted model
// (which carries its labels) and checks the summary; firmware's own tests read the images back.
func TestFirmwareBuild(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite")
	labels := shareddata.Path(t, "imagenet/imagenet_labels.txt")
	dir := t.TempDir()
	eim := filepath.Join(dir, "mnv1.eim")
	if code, _, errs := cli(t, nil, "convert", "--labels", labels, model, eim); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errs)
	}
	pi5, err := firmware.LookupBoard("pi5")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	bin := filepath.Join(dir, "edgeinfer")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := firmware.BuildBinary(ctx, firmware.FindModuleRoot(wd), pi5, bin); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "sdcard.img")
	// WiFi firmware: Debian's packages, downloaded once into the cache.
	wifiFW, err := firmware.WiFiFirmwareDir(ctx, "", slog.New(slog.DiscardHandler))
	if err != nil {
		if os.Getenv("EDGEINFER_CI") == "1" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v (EDGEINFER_CI=1 makes this a failure)", err)
	}
	code, out, errs := cli(t, nil, "firmware", "build", "--board", "pi5", "--model", eim, "--binary", bin, "--hostname", "door",
		"--wifi-ssid", "door net", "--wifi-psk", "correct horse", "--wifi-country", "de", "--wifi-firmware", wifiFW, "--ntp", "ntp.example:123,10.0.0.1",
		"-o", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"appliance image for pi5: " + img, "root:/usr/share/edgeinfer/mnv1.eim", "boot:/bcm2712-rpi-5-b.dtb", "partition 2 root  squashfs",
		"root:/lib/firmware/brcm/brcmfmac43455-sdio.raspberrypi,5-model-b.txt", "root:/lib/firmware/regulatory.db ",
		"/brcmfmac/brcmfmac.ko"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "firmware: writing boot partition") {
		t.Errorf("no progress output on stderr:\n%s", errs)
	}
	if strings.Contains(out, "correct horse") {
		t.Error("the summary shows the WiFi passphrase")
	}
	// No --broker: credentials generated, printed once, and the same on the data partition.
	if c := checkPrintedCredentials(t, out, img); strings.Contains(errs, c.Password) {
		t.Error("the password is in the log on stderr")
	}
	if code, _, errs := cli(t, nil, "firmware", "build", "--board", "pi5", "--model", eim, "--binary", bin, "--ntp", "a b", "-o", img+"2"); code == 0 || !strings.Contains(errs, `NTP server "a b"`) {
		t.Errorf("--ntp 'a b': exit %d, %s", code, errs)
	}
	if fi, err := os.Stat(img); err != nil || fi.Size() < 100<<20 {
		t.Errorf("image: %v, %v", fi, err)
	}

	// No --model: the default model, fetched into the cache (here from a directory mirror), and its
	// labels go into the image.
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	// With --broker: no credentials.
	code, out, errs = cli(t, map[string]string{"EDGEINFER_MODELS_URL": imagenetMirror(t)}, "firmware", "build", "--board", "pi5",
		"--binary", bin, "--wifi-firmware", wifiFW, "--broker", "tcp://ha.lan:1883", "-o", img+"3")
	if code != 0 || !strings.Contains(errs, "fetched the default model mobilenet_v2_1.0_224_quant") {
		t.Fatalf("default model: exit %d: %s", code, errs)
	}
	for _, want := range []string{"root:/usr/share/edgeinfer/mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2_1.0_224_quant.labels.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("default model: the summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "password:") || strings.Contains(out, "credentials.yaml") {
		t.Errorf("--broker: credentials made:\n%s", out)
	}
}

// checkPrintedCredentials finds the username and password that firmware build printed in out and
// checks that the image's data partition holds the same in credentials.yaml.
func checkPrintedCredentials(t *testing.T, out, img string) credentials.Credentials {
	t.Helper()
	var printed credentials.Credentials
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "username: "); ok {
			printed.Username = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "password: "); ok {
			printed.Password = v
		}
	}
	if !strings.HasPrefix(printed.Username, credentials.UserPrefix) || len(printed.Password) != credentials.PasswordLen {
		t.Fatalf("no credentials printed:\n%s", out)
	}
	if n := strings.Count(out, printed.Password); n != 2 { // the line, and the mosquitto_sub example
		t.Errorf("the password is printed %d times, want 2 (its line and the example)", n)
	}
	d, err := diskfs.Open(img, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fsys, err := d.GetFilesystem(3)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.OpenFile("/credentials.yaml", os.O_RDONLY)
	if err != nil {
		t.Fatalf("data partition: %v", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	onImage, err := credentials.Parse("credentials.yaml", b)
	if err != nil || onImage != printed {
		t.Errorf("data:/credentials.yaml %+v, %v; printed %+v", onImage, err, printed)
	}
	return printed
}

// The credentials' note names the host the router lists: the payload's host name, or the
// appliance's default one.
func TestWriteCredentialsHost(t *testing.T) {
	c := credentials.Credentials{Username: credentials.UserPrefix + "x", Password: "p"}
	for _, tc := range []struct{ host, want string }{{"", firmware.DefaultHostname}, {"cam-porch", "cam-porch"}} {
		var b strings.Builder
		writeCredentials(&b, c, tc.host)
		if !strings.Contains(b.String(), "shows it as "+tc.want+")") {
			t.Errorf("host %q: the note does not name %q:\n%s", tc.host, tc.want, b.String())
		}
	}
}

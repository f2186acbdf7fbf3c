package firmware

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/ulikunitz/xz"
)

// fakeFirmwareDir writes every wifiFirmwareFiles entry with distinct contents (the build only
// copies them) in the layout of an installed system: usr/lib/firmware/...
func fakeFirmwareDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range wifiFirmwareFiles {
		p := filepath.Join(dir, "usr", "lib", "firmware", filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("contents of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestApplianceWiFi builds a Pi 4 image with WiFi and reads back the firmware, the drivers and the
// network in init.json, which must hold the PSK and never the passphrase.
func TestApplianceWiFi(t *testing.T) {
	fw := fakeFirmwareDir(t)
	const pass = "password"
	out, _, _ := buildTestAppliance(t, "pi4", func(o *ApplianceOptions) {
		o.WiFi = &WiFi{SSID: "IEEE", Passphrase: pass, Country: "GB"}
		o.WiFiFirmware = fw
	})
	im := openImage(t, out)
	root := im.fs(2, filesystem.TypeSquashfs)
	for _, f := range wifiFirmwareFiles {
		got := readFS(t, root, "/lib/firmware/"+f)
		if want := "contents of " + f; string(got) != want {
			t.Errorf("/lib/firmware/%s = %q, want %q", f, got, want)
		}
	}
	var ic InitConfig
	if err := json.Unmarshal(readFS(t, root, RootInitConfig), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.WiFi == nil || ic.WiFi.Network == nil {
		t.Fatalf("init.json has no WiFi network: %+v", ic)
	}
	// IEEE 802.11i-2004, H.4.3, test vector 1.
	want := InitWiFi{SSID: "IEEE", PSK: "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e", Country: "GB"}
	if *ic.WiFi.Network != want {
		t.Errorf("init.json WiFi network %+v, want %+v", *ic.WiFi.Network, want)
	}
	// Drivers after their dependencies, then the Cypress/WCC vendor modules; all in the image.
	var names []string
	for _, m := range ic.Modules {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".ko"))
		if _, err := root.Stat(fsPath(m)); err != nil {
			t.Errorf("root: kernel module %s: %v", m, err)
		}
	}
	order := strings.Join(names, " ")
	if !strings.Contains(order, "brcmutil brcmfmac brcmfmac-wcc brcmfmac-cyw") {
		t.Errorf("module order %q: want brcmutil brcmfmac brcmfmac-wcc brcmfmac-cyw", order)
	}
	img, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The passphrase must not be anywhere on the card. "password" is a word the binary may hold,
	// so look for it in JSON form, as a leak through init.json or the summary would appear.
	if bytes.Contains(img, []byte(`"`+pass+`"`)) {
		t.Error("the image holds the WiFi passphrase")
	}

	// Without a network but with firmware: support only (the network comes from wifi.json).
	out2, _, _ := buildTestAppliance(t, "pi3", func(o *ApplianceOptions) { o.WiFiFirmware = fw })
	var ic2 InitConfig
	if err := json.Unmarshal(readFS(t, openImage(t, out2).fs(2, filesystem.TypeSquashfs), RootInitConfig), &ic2); err != nil {
		t.Fatal(err)
	}
	if ic2.WiFi == nil || ic2.WiFi.Network != nil {
		t.Errorf("firmware only: init.json WiFi %+v, want support without a network", ic2.WiFi)
	}
	// Without either: no WiFi at all.
	out3, _, _ := buildTestAppliance(t, "pi3", nil)
	var ic3 InitConfig
	root3 := openImage(t, out3).fs(2, filesystem.TypeSquashfs)
	if err := json.Unmarshal(readFS(t, root3, RootInitConfig), &ic3); err != nil {
		t.Fatal(err)
	}
	if ic3.WiFi != nil || strings.Contains(strings.Join(ic3.Modules, " "), "brcmfmac") {
		t.Errorf("no WiFi asked for: init.json %+v", ic3)
	}
	if _, err := root3.Stat("lib/firmware"); err == nil {
		t.Error("no WiFi asked for, but the root has /lib/firmware")
	}
}

func TestParseWiFiJSON(t *testing.T) {
	good := []struct {
		in   string
		want InitWiFi
	}{
		{`{"ssid": "IEEE", "psk": "password", "country": "gb"}`, InitWiFi{"IEEE", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e", "GB"}},
		{`{"ssid": "IEEE", "passphrase": "password", "country": "GB"}`, InitWiFi{"IEEE", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e", "GB"}},
		// IEEE 802.11i-2004, H.4.3, test vector 2.
		{`{"ssid": "ThisIsASSID", "psk": "ThisIsAPassword", "country": "DE"}`, InitWiFi{"ThisIsASSID", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af", "DE"}},
		{`{"ssid": "x", "psk": "0DC0D6EB90555ED6419756B9A15EC3E3209B63DF707DD508D14581F8982721AF", "country": "US"}`, InitWiFi{"x", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af", "US"}},
	}
	for _, c := range good {
		got, err := ParseWiFiJSON("/data/wifi.json", []byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("ParseWiFiJSON(%s) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{`{"ssid": "", "psk": "password", "country": "GB"}`, "WiFi SSID"},
		{`{"ssid": "a", "psk": "short", "country": "GB"}`, "WiFi passphrase"},
		{`{"ssid": "a", "psk": "pass\u00e9word", "country": "GB"}`, "printable ASCII"},
		{`{"ssid": "a", "psk": "password", "country": "GBR"}`, "WiFi country"},
		{`{"ssid": "a", "psk": "password", "country": "GB", "key": 1}`, "unknown field"},
		{`{"ssid": "a",`, "unexpected EOF"},
	}
	for _, c := range bad {
		_, err := ParseWiFiJSON("/data/wifi.json", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/data/wifi.json") {
			t.Errorf("ParseWiFiJSON(%s): error %v, want one naming the file and containing %q", c.in, err, c.want)
		}
	}
}

// writeDeb writes a Debian package (ar archive: debian-binary, control.tar.xz, data.tar.xz)
// whose data holds files and symbolic links.
func writeDeb(t *testing.T, p string, files map[string]string, links map[string]string) {
	t.Helper()
	var tb bytes.Buffer
	xw, err := xz.NewWriter(&tb)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(xw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	for name, target := range links {
		tw.WriteHeader(&tar.Header{Name: "./" + name, Linkname: target, Typeflag: tar.TypeSymlink})
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	member := func(name string, body []byte) {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, 0, 0, 0, "100644", len(body))
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	member("debian-binary", []byte("2.0\n"))
	member("control.tar.xz", []byte("x"))
	member("data.tar.xz", tb.Bytes())
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnpackFirmware unpacks a package laid out like Debian's firmware-brcm80211 (files under
// usr/lib/firmware/cypress, links from brcm/) and wireless-regdb (renamed files).
func TestUnpackFirmware(t *testing.T) {
	dir := t.TempDir()
	deb := filepath.Join(dir, "fw.deb")
	files := map[string]string{
		"usr/lib/firmware/cypress/cyfmac43455-sdio.bin":                      "43455 firmware",
		"usr/lib/firmware/brcm/brcmfmac43455-sdio.raspberrypi,4-model-b.txt": "pi4 nvram",
		"usr/lib/firmware/regulatory.db-upstream":                            "regdb",
		"usr/share/doc/x/copyright":                                          "not firmware",
	}
	links := map[string]string{
		"usr/lib/firmware/brcm/brcmfmac43455-sdio.bin":                       "../cypress/cyfmac43455-sdio.bin",
		"usr/lib/firmware/brcm/brcmfmac43455-sdio.raspberrypi,5-model-b.txt": "brcmfmac43455-sdio.raspberrypi,4-model-b.txt",
		"usr/lib/firmware/brcm/brcmfmac43430-sdio.bin":                       "/absolute/is/refused",
	}
	writeDeb(t, deb, files, links)
	out := filepath.Join(dir, "out")
	if err := unpackFirmware(deb, out, map[string]string{"regulatory.db-upstream": "regulatory.db"}); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{
		"brcm/brcmfmac43455-sdio.bin":                       "43455 firmware",
		"brcm/brcmfmac43455-sdio.raspberrypi,4-model-b.txt": "pi4 nvram",
		"brcm/brcmfmac43455-sdio.raspberrypi,5-model-b.txt": "pi4 nvram",
		"regulatory.db": "regdb",
	} {
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", f, got, err, want)
		}
		if fi, err := os.Lstat(filepath.Join(out, f)); err == nil && !fi.Mode().IsRegular() {
			t.Errorf("%s is not a regular file", f)
		}
	}
	for _, f := range []string{"brcm/brcmfmac43430-sdio.bin", "cypress/cyfmac43455-sdio.bin", "usr"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s unpacked, want it left out", f)
		}
	}
	// Not a package, truncated package.
	notDeb := filepath.Join(dir, "x.deb")
	os.WriteFile(notDeb, []byte("PK\x03\x04"), 0o644)
	if err := unpackFirmware(notDeb, out, nil); err == nil || !strings.Contains(err.Error(), "not a Debian package") {
		t.Errorf("zip as .deb: %v", err)
	}
	b, _ := os.ReadFile(deb)
	os.WriteFile(notDeb, b[:len(b)-100], 0o644)
	if err := unpackFirmware(notDeb, out, nil); err == nil || !strings.Contains(err.Error(), "firmware: ") {
		t.Errorf("truncated .deb: %v", err)
	}
}

// TestWiFiFirmwarePackages downloads the pinned Debian packages (once, into the cache), checks
// their SHA-256 and that they hold every firmware file the image needs.
func TestWiFiFirmwarePackages(t *testing.T) {
	dir, err := WiFiFirmwareDir(testContext(t, 10*time.Minute), "", testLogger(t))
	if err != nil {
		if os.Getenv("EDGEINFER_CI") == "1" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v (EDGEINFER_CI=1 makes this a failure)", err)
	}
	for _, f := range wifiFirmwareFiles {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Size() < 512 {
			t.Errorf("%s: %v (size %v)", f, err, fi)
		}
	}
	// The firmware is the real one: the 43455's starts with its ARM vector table, not text.
	b, _ := os.ReadFile(filepath.Join(dir, "brcm/brcmfmac43455-sdio.bin"))
	if len(b) < 100_000 || bytes.HasPrefix(b, []byte("<")) {
		t.Errorf("brcmfmac43455-sdio.bin: %d bytes", len(b))
	}
	// A second call uses the cache.
	start := time.Now()
	if dir2, err := WiFiFirmwareDir(testContext(t, time.Minute), "", testLogger(t)); err != nil || dir2 != dir {
		t.Errorf("second call: %q, %v", dir2, err)
	}
	t.Logf("WiFi firmware in %s (cached lookup %v)", dir, time.Since(start).Round(time.Microsecond))
}

// testLogger logs through t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, nil))
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// FuzzParseWiFiJSON: the device reads wifi.json from a partition anyone can write; whatever it
// holds, parsing must not panic, and what it accepts must be usable.
func FuzzParseWiFiJSON(f *testing.F) {
	f.Add([]byte(`{"ssid": "IEEE", "psk": "password", "country": "GB"}`))
	f.Add([]byte(`{"ssid": "x", "psk": "0DC0D6EB90555ED6419756B9A15EC3E3209B63DF707DD508D14581F8982721AF", "country": "us"}`))
	f.Add([]byte(`{"ssid": "", "passphrase": "\u0000", "country": 1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWiFiJSON("wifi.json", b)
		if err != nil {
			if !strings.Contains(err.Error(), "wifi.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(w.SSID) < 1 || len(w.SSID) > 32 || len(w.PSK) != 64 || !countryRE.MatchString(w.Country) {
			t.Fatalf("accepted %q as %+v", b, w)
		}
		if _, err := hex.DecodeString(w.PSK); err != nil {
			t.Fatalf("PSK %q: %v", w.PSK, err)
		}
	})
}

package firmware

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/edgeinfer/edgeinfer/internal/download"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// WiFi is the WPA2-Personal network an appliance joins with the board's on-board radio.
type WiFi struct {
	SSID       string
	Passphrase string // 8 to 63 characters, or the 64 hex digits of the PSK itself
	Country    string // ISO 3166 alpha-2, e.g. GB: the regulatory domain the radio obeys
}

// network checks w and returns what the appliance stores of it: the SSID, the PSK (never the
// passphrase) and the country.
func (w *WiFi) network() (InitWiFi, error) {
	if w.SSID == "" || len(w.SSID) > 32 {
		return InitWiFi{}, fmt.Errorf("firmware: WiFi SSID %q: want 1 to 32 bytes", w.SSID)
	}
	psk, err := wifiPSK(w.SSID, w.Passphrase)
	if err != nil {
		return InitWiFi{}, err
	}
	if !countryRE.MatchString(w.Country) {
		return InitWiFi{}, fmt.Errorf("firmware: WiFi country %q: want a two-letter ISO 3166 code such as GB, DE or US (--wifi-country)", w.Country)
	}
	return InitWiFi{SSID: w.SSID, PSK: psk, Country: w.Country}, nil
}

// wifiPSK returns the 256-bit WPA pre-shared key of passphrase (8 to 63 characters) as hex, or
// passphrase itself when it is already 64 hex digits (as wpa_passphrase prints it).
func wifiPSK(ssid, passphrase string) (string, error) {
	if len(passphrase) == 64 {
		if _, err := hex.DecodeString(passphrase); err == nil {
			return strings.ToLower(passphrase), nil
		}
	}
	if n := len(passphrase); n < 8 || n > 63 {
		return "", fmt.Errorf("firmware: WiFi passphrase: want 8 to 63 characters (or a 64-hex-digit PSK), got %d", n)
	}
	for _, r := range passphrase {
		if r < 0x20 || r > 0x7e {
			return "", errors.New("firmware: WiFi passphrase: only printable ASCII characters are allowed (IEEE 802.11i)")
		}
	}
	return wpaPSK(ssid, passphrase)
}

// InitWiFi is the WiFi part of InitConfig and of /data/wifi.json. The passphrase is never stored:
// only its PSK.
type InitWiFi struct {
	SSID    string `json:"ssid"`
	PSK     string `json:"psk"` // 64 hex digits
	Country string `json:"country"`
}

// DataWiFi is the file on the data partition that, when present, replaces the image's WiFi
// network: {"ssid": "...", "psk": "passphrase or 64 hex digits", "country": "GB"}.
const DataWiFi = DataMount + "/wifi.json"

// ParseWiFiJSON reads a wifi.json (DataWiFi): ssid, psk (a passphrase or 64 hex digits; also
// accepted as "passphrase") and country. name is used in errors.
func ParseWiFiJSON(name string, b []byte) (InitWiFi, error) {
	var raw struct {
		SSID       string `json:"ssid"`
		PSK        string `json:"psk"`
		Passphrase string `json:"passphrase"`
		Country    string `json:"country"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return InitWiFi{}, fmt.Errorf("firmware: %s: %w (want {\"ssid\": ..., \"psk\": ..., \"country\": ...})", name, err)
	}
	pass := raw.PSK
	if pass == "" {
		pass = raw.Passphrase
	}
	w := WiFi{SSID: raw.SSID, Passphrase: pass, Country: strings.ToUpper(raw.Country)}
	n, err := w.network()
	if err != nil {
		return InitWiFi{}, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

// WiFiModules are the kernel modules of the boards' radios (Broadcom/Cypress FullMAC over SDIO),
// loaded at boot in this order when the image has WiFi. cfg80211 is built into the kernel.
var WiFiModules = []string{"brcmfmac", "brcmfmac-wcc", "brcmfmac-cyw"}

// wifiFirmwareFiles are the firmware files the radios of the supported boards need, under
// /lib/firmware: the BCM43430 (Pi 3 B, Zero 2 W) and the BCM43455 (Pi 3 B+/A+, Pi 4, Pi 5),
// with the boards' NVRAM files, and the wireless regulatory database.
var wifiFirmwareFiles = []string{
	"brcm/brcmfmac43430-sdio.bin",
	"brcm/brcmfmac43430-sdio.clm_blob",
	"brcm/brcmfmac43430-sdio.raspberrypi,3-model-b.txt",
	"brcm/brcmfmac43430-sdio.raspberrypi,model-zero-2-w.txt",
	"brcm/brcmfmac43455-sdio.bin",
	"brcm/brcmfmac43455-sdio.clm_blob",
	"brcm/brcmfmac43455-sdio.raspberrypi,3-model-b-plus.txt",
	"brcm/brcmfmac43455-sdio.raspberrypi,3-model-a-plus.txt",
	"brcm/brcmfmac43455-sdio.raspberrypi,4-model-b.txt",
	"brcm/brcmfmac43455-sdio.raspberrypi,5-model-b.txt",
	"regulatory.db",
	"regulatory.db.p7s",
}

// debPackage is a Debian package the WiFi firmware comes from, pinned by its SHA-256.
type debPackage struct {
	Name, Version string
	URLs          []string
	SHA256        string
	// Rename maps names under lib/firmware in the package to the names the kernel loads.
	Rename map[string]string
}

// WiFiFirmwarePackages are the Debian 13 (trixie) packages the WiFi firmware comes from when no
// directory is given: firmware-brcm80211 (non-free-firmware; Broadcom's redistributable licence,
// in the package's copyright file) and wireless-regdb (the database signed by its upstream
// maintainer, whose key the kernel carries).
var WiFiFirmwarePackages = []debPackage{
	{
		Name: "firmware-brcm80211", Version: "20250410-2",
		URLs:   []string{"https://deb.debian.org/debian/pool/non-free-firmware/f/firmware-nonfree/firmware-brcm80211_20250410-2_all.deb"},
		SHA256: "266cc703e2299f5253fd1ff9a1fd625d85a2c8e5a88b1a65fcc190ac384ce3d7",
	},
	{
		Name: "wireless-regdb", Version: "2026.05.30-1~deb13u1",
		URLs:   []string{"https://deb.debian.org/debian/pool/main/w/wireless-regdb/wireless-regdb_2026.05.30-1~deb13u1_all.deb"},
		SHA256: "72048ee2f369a8c2df8b5f99f79489d3812d869282038cfe55e23a4748231399",
		Rename: map[string]string{"regulatory.db-upstream": "regulatory.db", "regulatory.db.p7s-upstream": "regulatory.db.p7s"},
	},
}

// WiFiFirmwareDir returns a directory laid out like /lib/firmware holding wifiFirmwareFiles:
// dir itself when it is given (wifiRootFiles checks it), else the files unpacked from
// WiFiFirmwarePackages, downloaded once into edgeinfer's cache (internal/download) and verified by
// SHA-256.
func WiFiFirmwareDir(ctx context.Context, dir string, log *slog.Logger) (string, error) {
	if dir != "" {
		return dir, nil
	}
	root, err := download.CacheDir("wifi-firmware")
	if err != nil {
		return "", fmt.Errorf("firmware: %w", err)
	}
	var key strings.Builder
	for _, p := range WiFiFirmwarePackages {
		key.WriteString(p.SHA256[:12])
	}
	out := filepath.Join(root, key.String())
	if missingFirmware(out) == "" {
		return out, nil
	}
	tmp := out + ".tmp"
	os.RemoveAll(tmp)
	for _, p := range WiFiFirmwarePackages {
		deb, err := fetchDeb(ctx, filepath.Join(root, "debs"), p, log)
		if err != nil {
			return "", err
		}
		if err := unpackFirmware(deb, tmp, p.Rename); err != nil {
			return "", err
		}
	}
	if f := missingFirmware(tmp); f != "" {
		return "", fmt.Errorf("firmware: WiFi firmware: %s is in none of the packages %s", f, packageNames())
	}
	os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("firmware: %w", err)
	}
	return out, nil
}

func packageNames() string {
	var s []string
	for _, p := range WiFiFirmwarePackages {
		s = append(s, p.Name+"_"+p.Version)
	}
	return strings.Join(s, ", ")
}

// missingFirmware returns the first of wifiFirmwareFiles that is not a regular file in dir, or "".
func missingFirmware(dir string) string {
	for _, f := range wifiFirmwareFiles {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || !fi.Mode().IsRegular() {
			return f
		}
	}
	return ""
}

// findFirmwareFile finds name (e.g. brcm/x.bin) in dir, also as dir/x.bin, or under dir/lib/firmware
// or dir/usr/lib/firmware (an unpacked package or a root file system).
func findFirmwareFile(dir, name string) (string, error) {
	for _, c := range []string{
		filepath.Join(dir, name), filepath.Join(dir, path.Base(name)),
		filepath.Join(dir, "lib", "firmware", name), filepath.Join(dir, "usr", "lib", "firmware", name),
	} {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("firmware: WiFi firmware directory %s has no %s (Debian packages firmware-brcm80211 and wireless-regdb install them in /lib/firmware; pass that directory)", dir, name)
}

// fetchDeb returns the path of package p in dir, downloading it when it is not there.
func fetchDeb(ctx context.Context, dir string, p debPackage, log *slog.Logger) (string, error) {
	dst := filepath.Join(dir, p.Name+"_"+p.Version+"_all.deb")
	if sum, err := download.FileSHA256(dst); err == nil && sum == p.SHA256 {
		return dst, nil
	}
	var errs []string
	for _, u := range p.URLs {
		log.Info("firmware: downloading WiFi firmware package", "package", p.Name, "version", p.Version, "url", u)
		err := download.File(ctx, u, dst, p.SHA256, nil)
		if err == nil {
			return dst, nil
		}
		errs = append(errs, err.Error())
	}
	return "", fmt.Errorf("firmware: WiFi firmware: cannot download %s %s (%s); without network, pass --wifi-firmware DIR with the files of Debian's firmware-brcm80211 and wireless-regdb (their /lib/firmware)",
		p.Name, p.Version, strings.Join(errs, "; "))
}

// unpackFirmware writes the wifiFirmwareFiles found in the .deb file deb into dir (as brcm/...,
// regulatory.db), resolving the package's symbolic links (the root squashfs holds no links) and
// applying rename.
func unpackFirmware(deb, dir string, rename map[string]string) error {
	data, err := debData(deb)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, f := range wifiFirmwareFiles {
		want[f] = true
	}
	files := map[string][]byte{} // path under lib/firmware -> contents
	links := map[string]string{} // path under lib/firmware -> link target (relative to its dir)
	tr := tar.NewReader(data)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("firmware: %s: data archive: %w", deb, err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		rel, ok := strings.CutPrefix(name, "usr/lib/firmware/")
		if !ok {
			rel, ok = strings.CutPrefix(name, "lib/firmware/")
		}
		if !ok {
			continue
		}
		if r, ok := rename[rel]; ok {
			rel = r
		}
		switch h.Typeflag {
		case tar.TypeReg:
			if h.Size > 16<<20 {
				return fmt.Errorf("firmware: %s: %s is %d bytes, too large for a firmware file", deb, h.Name, h.Size)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("firmware: %s: %s: %w", deb, h.Name, err)
			}
			files[rel] = b
		case tar.TypeSymlink:
			links[rel] = h.Linkname
		}
	}
	resolve := func(rel string) ([]byte, bool) {
		for range 8 {
			if b, ok := files[rel]; ok {
				return b, true
			}
			t, ok := links[rel]
			if !ok || path.IsAbs(t) {
				return nil, false
			}
			rel = path.Clean(path.Join(path.Dir(rel), t))
		}
		return nil, false
	}
	for f := range want {
		b, ok := resolve(f)
		if !ok {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("firmware: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return fmt.Errorf("firmware: %w", err)
		}
	}
	return nil
}

// debData opens the data archive (data.tar, .xz, .zst or .gz) of a Debian package: an ar archive.
func debData(deb string) (io.Reader, error) {
	f, err := os.Open(deb)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, 512<<20))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("firmware: %s: %w", deb, err)
	}
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		return nil, fmt.Errorf("firmware: %s is not a Debian package (no ar header)", deb)
	}
	off := 8
	for off+60 <= len(b) {
		hdr := b[off : off+60]
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		var size int
		if _, err := fmt.Sscanf(strings.TrimSpace(string(hdr[48:58])), "%d", &size); err != nil || size < 0 || off+60+size > len(b) {
			return nil, fmt.Errorf("firmware: %s: bad ar member header at byte %d", deb, off)
		}
		body := b[off+60 : off+60+size]
		off += 60 + size + size%2
		if !strings.HasPrefix(name, "data.tar") {
			continue
		}
		r := bytes.NewReader(body)
		switch path.Ext(name) {
		case ".tar":
			return r, nil
		case ".xz":
			x, err := xz.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("firmware: %s: %s: %w", deb, name, err)
			}
			return bufio.NewReader(x), nil
		case ".zst":
			z, err := zstd.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("firmware: %s: %s: %w", deb, name, err)
			}
			return z.IOReadCloser(), nil
		case ".gz":
			g, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("firmware: %s: %s: %w", deb, name, err)
			}
			return g, nil
		default:
			return nil, fmt.Errorf("firmware: %s: unsupported data member %s", deb, name)
		}
	}
	return nil, fmt.Errorf("firmware: %s: no data.tar member", deb)
}

// wifiRootFiles returns the root file system's WiFi firmware files, found in dir.
func wifiRootFiles(dir string) ([]fileSpec, error) {
	var files []fileSpec
	for _, f := range wifiFirmwareFiles {
		src, err := findFirmwareFile(dir, f)
		if err != nil {
			return nil, err
		}
		files = append(files, fileSpec{dst: "/lib/firmware/" + f, src: src, mode: 0o644})
	}
	return files, nil
}

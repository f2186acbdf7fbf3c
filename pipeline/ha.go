package pipeline

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	fetch "github.com/edgeinfer/edgeinfer/internal/download"
)

// machineIDFiles are where the machine id is looked for (machine-id(5)).
var machineIDFiles = []string{"/etc/machine-id", "/var/lib/dbus/machine-id"}

// deviceIDFile is the file, in the cache directory, that keeps a generated device id on a machine
// without a machine id (on the appliance, the cache is on the data partition).
const deviceIDFile = "device-id"

// DeviceID returns this machine's identity for Home Assistant, which does not change when the
// host is renamed: 16 hex digits of an HMAC-SHA256 of the machine id (/etc/machine-id, or
// /var/lib/dbus/machine-id) keyed with "edgeinfer", so that the machine id itself is not
// published (as machine-id(5) asks); without a machine id, a random id generated once and kept in
// edgeinfer's cache directory ($EDGEINFER_CACHE/device-id, or ~/.cache/edgeinfer/device-id).
// It also says where the id came from.
func DeviceID() (id, from string, err error) {
	dir, err := fetch.CacheDir("")
	if err != nil {
		return "", "", fmt.Errorf("pipeline: device id: %w", err)
	}
	return deviceID(machineIDFiles, dir)
}

func deviceID(machineFiles []string, cacheDir string) (id, from string, err error) {
	for _, f := range machineFiles {
		b, err := os.ReadFile(f)
		if mid := strings.TrimSpace(string(b)); err == nil && mid != "" {
			h := hmac.New(sha256.New, []byte("edgeinfer"))
			h.Write([]byte(mid))
			return hex.EncodeToString(h.Sum(nil))[:16], f, nil
		}
	}
	path := filepath.Join(cacheDir, deviceIDFile)
	b, err := os.ReadFile(path)
	if id := strings.TrimSpace(string(b)); err == nil && validID(id) {
		return id, path, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("pipeline: device id: %w", err)
	}
	var r [8]byte
	rand.Read(r[:])
	id = hex.EncodeToString(r[:])
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", "", fmt.Errorf("pipeline: device id: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", "", fmt.Errorf("pipeline: device id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("pipeline: device id: %w", err)
	}
	return id, path, nil
}

// validID reports whether id is usable as an MQTT device id: letters, digits, '_' and '-'.
func validID(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Version is the version of the running binary as Home Assistant shows it: the module version
// ("(devel)" for a build from a checkout, or "devel" without build information), with the first 12
// digits of the commit, and "+modified" for uncommitted changes, when known.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" {
		v = "devel"
	}
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))]
		if modified {
			v += "+modified"
		}
	}
	return v
}

// configurationURL is the status page's URL for Home Assistant's device page, given the address
// its server listens on: none for a loopback address (Home Assistant could not reach it); for an
// unspecified one (0.0.0.0, ::), the first non-loopback IPv4 address of addrs, if any.
func configurationURL(listen net.Addr, addrs []net.Addr) string {
	ta, ok := listen.(*net.TCPAddr)
	if !ok || ta.IP.IsLoopback() {
		return ""
	}
	ip := ta.IP
	if ip.IsUnspecified() {
		ip = nil
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				ip = n.IP
				break
			}
		}
		if ip == nil {
			return ""
		}
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port)) + "/"
}

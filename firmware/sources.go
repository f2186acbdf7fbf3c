package firmware

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The kernel, device trees and Raspberry Pi firmware come from these Go modules, at these versions
// (the same as in go.mod; modules.go imports them so that go.mod pins them).
const (
	KernelModule    = "github.com/gokrazy/kernel.rpi"
	KernelVersion   = "v0.0.0-20251127164438-9778ec0261de" // Linux 6.12 (Raspberry Pi tree), arm64, 4K pages
	FirmwareModule  = "github.com/gokrazy/firmware"
	FirmwareVersion = "v0.0.0-20260522070551-527ce0ed43cf"
)

// ModuleDir returns the directory of module@version in the Go module cache, downloading it with
// 'go mod download' (which needs the go command and, the first time, the network or GOPROXY) when
// it is not there yet.
func ModuleDir(ctx context.Context, module, version string) (string, error) {
	if cache := modCache(ctx); cache != "" {
		dir := filepath.Join(cache, escapeModulePath(module)+"@"+version)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("firmware: %s@%s is not in the Go module cache and there is no go command to download it (pass its directory instead: --kernel-dir/--firmware-dir)", module, version)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir() // outside any module: the download does not touch a go.mod
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &res); jerr == nil && res.Error != "" {
		return "", fmt.Errorf("firmware: go mod download %s@%s: %s", module, version, res.Error)
	}
	if err != nil {
		return "", fmt.Errorf("firmware: go mod download %s@%s: %v: %s", module, version, err, strings.TrimSpace(stderr.String()))
	}
	if res.Dir == "" {
		return "", fmt.Errorf("firmware: go mod download %s@%s printed no directory", module, version)
	}
	return res.Dir, nil
}

func modCache(ctx context.Context) string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if gobin, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, gobin, "env", "GOMODCACHE").Output(); err == nil {
			if d := strings.TrimSpace(string(out)); d != "" {
				return d
			}
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath is the module cache's case encoding: each upper-case letter becomes '!' and
// its lower-case form (golang.org/x/mod/module.EscapePath).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pseudoVersionTime returns the commit time in a pseudo-version (vX.Y.Z-yyyymmddhhmmss-hash).
func pseudoVersionTime(v string) (time.Time, bool) {
	parts := strings.Split(v, "-")
	if len(parts) < 3 {
		return time.Time{}, false
	}
	ts := parts[len(parts)-2]
	if i := strings.LastIndexByte(ts, '.'); i >= 0 {
		ts = ts[i+1:]
	}
	t, err := time.Parse("20060102150405", ts)
	return t, err == nil
}

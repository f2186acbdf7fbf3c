package firmware

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CheckBinary reports whether the file at path is a Linux executable for board: an ELF file for
// the board's architecture (arm64: EM_AARCH64; arm: EM_ARM).
func CheckBinary(path string, board Board) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("firmware: binary %s: not an ELF executable: %v", path, err)
	}
	defer f.Close()
	want := elf.EM_AARCH64
	if board.GOARCH == "arm" {
		want = elf.EM_ARM
	}
	if f.Machine != want || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("firmware: binary %s is a %v %v file; the %s needs a linux/%s executable", path, f.Machine, f.Type, board.Title, board.GOARCH)
	}
	if f.Section(".interp") != nil {
		return fmt.Errorf("firmware: binary %s is dynamically linked (it has an ELF interpreter); build it with CGO_ENABLED=0", path)
	}
	return nil
}

// FindModuleRoot walks up from dir to the directory whose go.mod declares the module
// github.com/edgeinfer/edgeinfer, and returns it ("" when there is none).
func FindModuleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if first, _, _ := strings.Cut(string(b), "\n"); strings.TrimSpace(first) == "module github.com/edgeinfer/edgeinfer" {
				return d
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// BuildBinary cross-compiles ./cmd/edgeinfer of the source tree at root for board into out:
// CGO_ENABLED=0, GOOS=linux, the board's GOARCH (and GOARM), -trimpath and -buildvcs=false so that
// the same source gives the same bytes.
func BuildBinary(ctx context.Context, root string, board Board, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("firmware: no go command to build edgeinfer for %s (pass --binary FILE)", board.Title)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "./cmd/edgeinfer")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+board.GOARCH, "GOFLAGS=-mod=readonly")
	if board.GOARM != "" {
		cmd.Env = append(cmd.Env, "GOARM="+board.GOARM)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("firmware: go build for linux/%s in %s: %v: %s", board.GOARCH, root, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

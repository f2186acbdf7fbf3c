package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
)

func TestVersion(t *testing.T) {
	code, out, errs := cli(t, nil, "version")
	for _, want := range []string{"edgeinfer ", "\nmodule   github.com/edgeinfer/edgeinfer\n", "\ncommit   ",
		"\ngo       " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n", "\nkernels  " + kernels.Path() + "\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, out, errs, want)
		}
	}
	if code, out2, _ := cli(t, nil, "--version"); code != 0 || out2 != out {
		t.Errorf("--version: exit %d, %q; want the same as version", code, out2)
	}
	if code, _, errs := cli(t, nil, "version", "extra"); code != 2 || !strings.Contains(errs, "version takes no arguments") {
		t.Errorf("version extra: exit %d, %q", code, errs)
	}
	b := buildInfo{Module: "m", Version: "v1.2.3", Commit: "abc", Time: "2026-12-06T21:00:00Z", Modified: true, GoVersion: "go1.26", Platform: "linux/arm64", Kernels: "sdot"}
	if got, want := b.String(), "edgeinfer v1.2.3\nmodule   m\ncommit   abc (modified) 2026-12-06T21:00:00Z\ngo       go1.26 linux/arm64\nkernels  sdot\n"; got != want {
		t.Errorf("String:\n%s\nwant\n%s", got, want)
	}
}

// A binary built from a git checkout reports the checkout's commit (runtime/debug.ReadBuildInfo's
// vcs.revision): built here with -buildvcs=true and compared with 'git rev-parse HEAD'.
func TestVersionCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds edgeinfer")
	}
	root, err := shareddata.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout, or no git: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "edgeinfer")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/edgeinfer")
	build.Dir, build.Env = root, append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(root, ".git")); err == nil && !st.IsDir() && strings.Contains(string(out), "commit   (unknown") {
		t.Skipf("%s is a git worktree (.git is a file): this go does not stamp VCS information there", root)
	}
	if !strings.Contains(string(out), "\ncommit   "+strings.TrimSpace(string(head))) {
		t.Errorf("version:\n%s\nwant commit %s", out, head)
	}
}

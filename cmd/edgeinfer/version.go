package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/edgeinfer/edgeinfer/kernels_arm"
)

func init() {
	commands["version"] = command{"print the version, commit, Go version and kernel path", runVersion}
}

// buildInfo is what 'edgeinfer version' prints: from the module and VCS information the Go
// toolchain stamps into the binary (runtime/debug.ReadBuildInfo), and the kernel path chosen on
// this CPU.
type buildInfo struct {
	Module, Version     string
	Commit, Time        string // vcs.revision and vcs.time; empty when not built from a checkout
	Modified            bool   // vcs.modified: built from a checkout with uncommitted changes
	GoVersion, Platform string
	Kernels             string // kernels_arm.Path(): sdot, neon or generic
}

func readBuildInfo() buildInfo {
	b := buildInfo{Module: "github.com/edgeinfer/edgeinfer", Version: "(unknown)", GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, Kernels: kernels.Path()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if bi.Main.Path != "" {
		b.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		b.Version = bi.Main.Version // "(devel)" when built from a checkout, vX.Y.Z by go install
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprint(e.stdout, readBuildInfo().String())
	return nil
}

// String is the text of 'edgeinfer version'.
func (b buildInfo) String() string {
	commit := b.Commit
	switch {
	case commit == "":
		commit = "(unknown: not built from a git checkout, or with -buildvcs=false)"
	case b.Modified:
		commit += " (modified)"
	}
	if b.Time != "" {
		commit += " " + b.Time
	}
	return fmt.Sprintf("edgeinfer %s\nmodule   %s\ncommit   %s\ngo       %s %s\nkernels  %s\n",
		b.Version, b.Module, commit, b.GoVersion, b.Platform, b.Kernels)
}

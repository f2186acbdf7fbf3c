package tfliteref

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

// Runner runs models with real TensorFlow Lite: node executing Script.
type Runner struct {
	Node   string // the node executable
	Script string // run.js of ../shared/tools/tflite-ref
	Home   string // the npm install run.js loads TensorFlow Lite from ($TFLITE_REF_HOME)
}

// Find locates node, run.js and the npm install, or says which is missing and how to get it.
//
// run.js is ../shared/tools/tflite-ref/run.js beside the repository (the directory holding go.mod
// above the working directory), or $EDGEINFER_TFLITE_REF/run.js. The install is $TFLITE_REF_HOME,
// default ~/.cache/tflite-ref, as run.js itself looks for it.
func Find() (*Runner, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("tfliteref: node not found in PATH (Debian package nodejs; .ci/tflite-ref-setup.sh installs it)")
	}
	dir := os.Getenv("EDGEINFER_TFLITE_REF")
	if dir == "" {
		root, err := shareddata.ModuleRoot()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "tools", "tflite-ref")
	}
	script := filepath.Join(dir, "run.js")
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("tfliteref: %s not found (../shared/tools/tflite-ref beside the repository, or set EDGEINFER_TFLITE_REF)", script)
	}
	home := os.Getenv("TFLITE_REF_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("tfliteref: no TFLITE_REF_HOME and no home directory: %w", err)
		}
		home = filepath.Join(h, ".cache", "tflite-ref")
	}
	wasm := filepath.Join(home, "node_modules", "@tensorflow", "tfjs-tflite", "wasm", "tflite_web_api_cc.wasm")
	if _, err := os.Stat(wasm); err != nil {
		return nil, fmt.Errorf("tfliteref: TensorFlow Lite for node is not installed in %s (run %s or .ci/tflite-ref-setup.sh)", home, filepath.Join(dir, "setup"))
	}
	return &Runner{Node: node, Script: script, Home: home}, nil
}

// Require returns a Runner, or skips the test with the reason when real TensorFlow Lite cannot run
// here; it fails the test instead when EDGEINFER_REQUIRE_DATA=1.
func Require(tb testing.TB) *Runner {
	tb.Helper()
	r, err := Find()
	if err == nil {
		return r
	}
	if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
		tb.Fatalf("%v (EDGEINFER_REQUIRE_DATA=1)", err)
	}
	tb.Skipf("skipping: %v; set EDGEINFER_REQUIRE_DATA=1 to make this a failure", err)
	return nil
}

// Run executes model on input (the bytes of input tensor 0) and returns the bytes of output 0.
func (r *Runner) Run(ctx context.Context, model, input []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "tfliteref-")
	if err != nil {
		return nil, fmt.Errorf("tfliteref: %w", err)
	}
	defer os.RemoveAll(dir)
	mp, ip, op := filepath.Join(dir, "model.tflite"), filepath.Join(dir, "input.raw"), filepath.Join(dir, "output.raw")
	if err := os.WriteFile(mp, model, 0o644); err != nil {
		return nil, fmt.Errorf("tfliteref: %w", err)
	}
	if err := os.WriteFile(ip, input, 0o644); err != nil {
		return nil, fmt.Errorf("tfliteref: %w", err)
	}
	cmd := exec.CommandContext(ctx, r.Node, r.Script, mp, ip, op)
	cmd.Env = append(os.Environ(), "TFLITE_REF_HOME="+r.Home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tfliteref: node %s: %w: %s", filepath.Base(r.Script), err, messages(stderr.String()))
	}
	out, err := os.ReadFile(op)
	if err != nil {
		return nil, fmt.Errorf("tfliteref: reading the output: %w", err)
	}
	return out, nil
}

// messages drops TensorFlow Lite's informational lines from node's stderr.
func messages(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if !strings.HasPrefix(l, "INFO: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "; ")
}

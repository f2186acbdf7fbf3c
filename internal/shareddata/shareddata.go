// Package shareddata finds the real test material in ../shared/data (beside the repository): models,
// images and the outputs real TensorFlow Lite produced. Tests skip with a clear message when it is
// absent, and fail instead when EDGEINFER_REQUIRE_DATA=1 (as CI sets it).
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of ../shared/data, or "" when it cannot be found. EDGEINFER_DATA
// overrides it.
func Dir() string {
	if d := os.Getenv("EDGEINFER_DATA"); d != "" {
		return d
	}
	root, err := ModuleRoot()
	if err != nil {
		return ""
	}
	data := filepath.Join(filepath.Dir(root), "shared", "data")
	if _, err := os.Stat(data); err != nil {
		return ""
	}
	return data
}

// ModuleRoot returns the module root: the nearest directory with a go.mod at or above the
// working directory.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", os.ErrNotExist
		}
	}
}

// Required reports whether EDGEINFER_REQUIRE_DATA=1.
func Required() bool { return os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" }

// Path returns the path of rel inside the shared data, or skips the test (fails it when the data is
// required) when it is not there.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir := Dir()
	p := filepath.Join(dir, rel)
	if dir != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if Required() {
		tb.Fatalf("shared data %s not found (looked in %q; set EDGEINFER_DATA or place ../shared/data beside the repository)", rel, dir)
	}
	tb.Skipf("skipping: shared data %s not found beside the repository (../shared/data); set EDGEINFER_REQUIRE_DATA=1 to make this a failure", rel)
	return ""
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/zoo"
)

// resolveModel turns --model into a file: an existing path, the name of a model embedded in the
// binary (written to the cache on first use), or the name of a pulled model; empty means the
// default model, which is embedded.
func resolveModel(name string) (string, error) {
	if name != "" {
		if _, err := os.Stat(name); err == nil {
			return name, nil
		}
	}
	lookup := name
	if lookup == "" {
		lookup = zoo.DefaultModel
	}
	if b, ok := zoo.LookupBuiltin(lookup); ok {
		dir, err := zoo.CacheDir()
		if err == nil {
			var p string
			if p, err = b.Path(dir); err == nil {
				return p, nil
			}
		}
		// A read-only or missing cache: the temporary directory will do.
		return b.Path(filepath.Join(os.TempDir(), "edgeinfer-models"))
	}
	e, known := zoo.Lookup(lookup)
	if !known {
		return "", fmt.Errorf("model %q: no such file, and not a known model name (see 'edgeinfer models list')", name)
	}
	dir, err := zoo.CacheDir()
	if err != nil {
		return "", err
	}
	if p, ok := e.Cached(dir); ok {
		return p, nil
	}
	return "", fmt.Errorf("model %q is not pulled yet: run 'edgeinfer models pull %s'", name, e.Name)
}

// readLabels reads one label per line (trailing blank lines dropped).
func readLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		labels = append(labels, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for len(labels) > 0 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("%s: no labels", path)
	}
	return labels, nil
}

// sidecarLabels finds a labels file stored beside a model: NAME.labels.txt (as pulled models have)
// or labels.txt.
func sidecarLabels(modelPath string) string {
	base := strings.TrimSuffix(modelPath, filepath.Ext(modelPath))
	for _, p := range []string{base + ".labels.txt", filepath.Join(filepath.Dir(modelPath), "labels.txt")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

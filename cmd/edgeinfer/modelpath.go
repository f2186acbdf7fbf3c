package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/models/zoo"
)

// defaultFetchTimeout bounds the whole first fetch of the default model (3.6 MB). Each step of
// reaching the server is bounded by download.ConnectTimeout (5 s), so offline the fallback comes
// within seconds (at once when there is no network at all).
const defaultFetchTimeout = 2 * time.Minute

// modelsBase is where models are fetched from: the --base-url flag, else $EDGEINFER_MODELS_URL,
// else zoo.DefaultBaseURL.
func modelsBase(e *env, flag string) string {
	if flag != "" {
		return flag
	}
	if u := e.getenv("EDGEINFER_MODELS_URL"); u != "" {
		return u
	}
	return zoo.DefaultBaseURL
}

// modelOrDefault resolves --model as resolveModel does; an empty name is the default model,
// zoo.Default: taken from the cache, or fetched into it first (from modelsBase). When it cannot be
// had (offline), the embedded zoo.Fallback is used and warn gets one line saying what was tried and
// how to fix it; info gets a line after a successful fetch.
func modelOrDefault(ctx context.Context, e *env, name string, info, warn func(string)) (string, error) {
	if name != "" {
		return resolveModel(name)
	}
	entry, ok := zoo.Lookup(zoo.Default)
	if !ok {
		return "", fmt.Errorf("zoo: the default model %s is not a known model", zoo.Default)
	}
	base := modelsBase(e, "")
	dir, err := zoo.CacheDir()
	if err == nil {
		if p, ok := entry.Verified(dir); ok {
			return p, nil
		}
		fctx, cancel := context.WithTimeout(ctx, defaultFetchTimeout)
		var p string
		p, err = zoo.Pull(fctx, entry, base, dir, nil)
		cancel()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err == nil {
			info(fmt.Sprintf("fetched the default model %s (%s) from %s into %s, sha256 verified; later runs use the cached copy",
				entry.Name, entry.Description, base, dir))
			return p, nil
		}
	}
	warn(fmt.Sprintf("the default model %s could not be fetched from %s: %s; using the embedded %s (CIFAR-10, 10 classes) instead. "+
		"To fix: 'edgeinfer models pull %s' when online, or from a mirror holding %s and %s "+
		"('models pull --base-url URL|file:///DIR|DIR', or EDGEINFER_MODELS_URL for run and classify too), or --model FILE",
		entry.Name, base, trimPrefixes(err.Error()), zoo.Fallback, entry.Name, entry.File, entry.Labels))
	return resolveModel(zoo.Fallback)
}

// trimPrefixes drops the package prefixes ("zoo: download: ") of an error message.
func trimPrefixes(s string) string {
	for _, p := range []string{"zoo: ", "download: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// oneShotNotes returns info and warn for modelOrDefault in a one-shot command: plain lines on
// stderr, "edgeinfer CMD: ..." and "edgeinfer CMD: WARN: ...".
func oneShotNotes(e *env, cmd string) (info, warn func(string)) {
	return func(s string) { fmt.Fprintf(e.stderr, "edgeinfer %s: %s\n", cmd, s) },
		func(s string) { fmt.Fprintf(e.stderr, "edgeinfer %s: WARN: %s\n", cmd, s) }
}

// resolveModel turns --model into a file: an existing path, the name of a model embedded in the
// binary (written to the cache on first use), or the name of a pulled model; empty means the
// embedded zoo.Fallback (commands with a default model use modelOrDefault).
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

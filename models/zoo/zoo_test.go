package zoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/internal/download"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models"
)

// Pull against a local HTTP server that serves the shared copies of the public files.
func TestPullFromLocalServer(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "imagenet/mobilenet_v1_0.25_128_quant.tflite"))
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.URL.Path)))
	}))
	defer srv.Close()
	e, ok := Lookup("mobilenet_v1_0.25_128_quant")
	if !ok {
		t.Fatal("Lookup failed")
	}
	cache := t.TempDir()
	var log strings.Builder
	path, err := Pull(context.Background(), e, srv.URL+"/", cache, &log)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := download.FileSHA256(path); err != nil || got != e.SHA256 {
		t.Fatalf("pulled model sha %s, %v", got, err)
	}
	if _, labels := e.Paths(cache); !fileExists(labels) {
		t.Fatal("labels not pulled")
	}
	if p, ok := e.Cached(cache); !ok || p != path {
		t.Fatalf("Cached = %q, %v", p, ok)
	}
	// A second pull verifies and downloads nothing.
	before := hits.Load()
	if _, err := Pull(context.Background(), e, srv.URL+"/", cache, &log); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before {
		t.Errorf("second pull downloaded again")
	}
	if !strings.Contains(log.String(), "already present") {
		t.Errorf("progress output %q", log.String())
	}
}

func TestPullRejectsWrongHash(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not the model"))
	}))
	defer srv.Close()
	e, _ := Lookup("mobilenet_v2_1.0_224_quant.tflite")
	cache := t.TempDir()
	_, err := Pull(context.Background(), e, srv.URL+"/", cache, nil)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want checksum mismatch", err)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 0 {
		t.Errorf("cache holds %d files after a failed pull", len(entries))
	}
}

func TestPullHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	e, _ := Lookup("mobilenet_v2_1.0_224_quant")
	_, err := Pull(context.Background(), e, srv.URL+"/", t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v, want 404", err)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestBuiltinDefault(t *testing.T) {
	b, ok := LookupBuiltin(DefaultModel)
	if !ok {
		t.Fatalf("the default model %q is not embedded", DefaultModel)
	}
	dir := t.TempDir()
	p, err := b.Path(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := models.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := f.Model
	if len(m.Labels) != 10 || m.Labels[3] != "cat" || m.Preprocess == nil || m.Preprocess.Raw {
		t.Errorf("labels %q, preprocess %+v: want CIFAR-10's classes and torchvision normalisation", m.Labels, m.Preprocess)
	}
	// A second call finds the same contents and leaves the file alone.
	st, _ := os.Stat(p)
	if p2, err := b.Path(dir); err != nil || p2 != p {
		t.Fatalf("second Path: %q, %v", p2, err)
	}
	if st2, _ := os.Stat(p); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the unchanged file was written again")
	}
}

// A mirror is a directory, or a file:// URL of one, holding copies of the files: Pull copies them
// into the cache and verifies them like a download; a copy with the wrong SHA-256 is refused and
// nothing is left in the cache.
func TestPullFromMirror(t *testing.T) {
	mirror := t.TempDir()
	model, labels := []byte("a model's bytes"), []byte("cat\ndog\n")
	os.WriteFile(filepath.Join(mirror, "m.tflite"), model, 0o644)
	os.WriteFile(filepath.Join(mirror, "l.txt"), labels, 0o644)
	e := Entry{Name: "m", File: "m.tflite", SHA256: sha(model), Labels: "l.txt", LabelsSHA: sha(labels)}
	for _, base := range []string{mirror, mirror + "/", "file://" + mirror, "file://" + mirror + "/"} {
		cache := t.TempDir()
		var log strings.Builder
		path, err := Pull(context.Background(), e, base, cache, &log)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if got, _ := os.ReadFile(path); string(got) != string(model) {
			t.Errorf("%s: cached model %q", base, got)
		}
		if p, ok := e.Verified(cache); !ok || p != path {
			t.Errorf("%s: Verified = %q, %v", base, p, ok)
		}
		if !strings.Contains(log.String(), "verified") {
			t.Errorf("%s: progress %q", base, log.String())
		}
	}
	bad := e
	bad.SHA256 = sha([]byte("another model"))
	cache := t.TempDir()
	if _, err := Pull(context.Background(), bad, "file://"+mirror, cache, nil); !errors.Is(err, ErrChecksum) {
		t.Fatalf("wrong SHA-256: err = %v, want a checksum mismatch", err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("the cache holds %d files after a refused copy", len(entries))
	}
	if _, ok := bad.Verified(cache); ok {
		t.Error("Verified after a refused copy")
	}
	_, err := Pull(context.Background(), e, filepath.Join(mirror, "nosuchdir"), t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(mirror, "nosuchdir", "m.tflite")) {
		t.Errorf("missing mirror: err = %v, want it to name the path", err)
	}
	if _, err := Pull(context.Background(), e, "ftp://host/dir", t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), `unsupported scheme "ftp"`) {
		t.Errorf("ftp: err = %v", err)
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// A server that accepts the connection and never answers (as a captive or broken network does) is
// given up within download.ConnectTimeout, not the whole download's time limit.
func TestPullSilentServer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits download.ConnectTimeout")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	e, _ := Lookup(Default)
	start := time.Now()
	_, err = Pull(context.Background(), e, "http://"+ln.Addr().String()+"/", t.TempDir(), nil)
	if took := time.Since(start); err == nil || took > download.ConnectTimeout+3*time.Second {
		t.Fatalf("Pull from a silent server: %v after %v, want an error within %v", err, took, download.ConnectTimeout)
	}
}

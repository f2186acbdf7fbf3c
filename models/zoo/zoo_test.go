package zoo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

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

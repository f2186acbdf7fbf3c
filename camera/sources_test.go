package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/models"
)

func TestPattern(t *testing.T) {
	for _, format := range testFormats {
		p, err := NewPattern(format, 64, 48, 0)
		if err != nil {
			t.Fatal(err)
		}
		f1, _ := p.Next(context.Background())
		a := append([]byte(nil), f1.Data...)
		f2, _ := p.Next(context.Background())
		if f2.Sequence != 1 || bytes.Equal(a, f2.Data) {
			t.Errorf("%s: second frame has sequence %d and equal data %v", format, f2.Sequence, bytes.Equal(a, f2.Data))
		}
		img, _ := f2.Image()
		// The first bar is white, the last black (away from the moving square).
		r, g, b, _ := img.At(2, 2).RGBA()
		r2, g2, b2, _ := img.At(62, 2).RGBA()
		if r>>8 < 240 || g>>8 < 240 || b>>8 < 240 || r2>>8 > 15 || g2>>8 > 15 || b2>>8 > 15 {
			t.Errorf("%s: corners %d %d %d and %d %d %d, want white and black", format, r>>8, g>>8, b>>8, r2>>8, g2>>8, b2>>8)
		}
		if n := testing.AllocsPerRun(5, func() { p.Next(context.Background()) }); n != 0 {
			t.Errorf("%s: pattern allocates %v per frame", format, n)
		}
	}
	p, _ := NewPattern(YUYV, 32, 32, 50)
	start := time.Now()
	for i := 0; i < 6; i++ {
		p.Next(context.Background())
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("6 frames at 50 fps took %v", d)
	}
}

func writeJPEG(t *testing.T, path string, w, h int) []byte {
	p, _ := NewPattern(RGB24, w, h, 0)
	f, _ := p.Next(context.Background())
	img, _ := f.Image()
	var b bytes.Buffer
	encodeJPEG(&b, img)
	if path != "" {
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	return b.Bytes()
}

func TestFilesAndDir(t *testing.T) {
	dir := t.TempDir()
	writeJPEG(t, filepath.Join(dir, "a.jpg"), 40, 30)
	os.WriteFile(filepath.Join(dir, "b.jpg"), []byte("not a jpeg"), 0o644)
	writeJPEG(t, filepath.Join(dir, "c.JPG"), 20, 10)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	s, err := Open(context.Background(), "dir:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var got []string
	for i := 0; i < 6; i++ {
		f, err := s.Next(ctx)
		switch {
		case IsFrameError(err) && strings.Contains(err.Error(), "b.jpg: cannot decode image"):
			got = append(got, "bad")
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, fmt.Sprintf("%dx%d", f.Width, f.Height))
		}
	}
	if want := "40x30 bad 20x10 40x30 bad 20x10"; strings.Join(got, " ") != want {
		t.Fatalf("dir gave %q, want %q", got, want)
	}
	one, _ := Open(ctx, filepath.Join(dir, "a.jpg"), Options{})
	if _, err := one.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := one.Next(ctx); err != io.EOF {
		t.Fatalf("second Next of a file: %v, want io.EOF", err)
	}
}

// A consumer slower than the camera gets the newest frame each time, and frames it missed are
// counted as dropped.
func TestLatestFrameWins(t *testing.T) {
	p, _ := NewPattern(YUYV, 64, 48, 200)
	l := NewLatest(p)
	defer l.Close()
	ctx := context.Background()
	var last uint64
	for i := 0; i < 5; i++ {
		f, err := l.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// While the reader was "inferring", at least two newer frames replaced the one waiting
		// (below): it must be given the newest, not the next.
		if i > 0 && f.Sequence < last+3 {
			t.Fatalf("sequence %d after %d, with two frames dropped in between: the slow reader was not given the newest frame", f.Sequence, last)
		}
		last = f.Sequence
		// "Inference": until the source has replaced the waiting frame twice. Waiting on the
		// count, not on the clock, keeps this independent of the machine's speed (under -race on
		// a loaded machine the pattern made 11 frames in the 150 ms a sleep allowed).
		d0 := l.Dropped()
		for deadline := time.Now().Add(time.Minute); l.Dropped() < d0+2; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the source dropped %d frames in a minute, want 2", l.Dropped()-d0)
			}
		}
	}
	if l.Dropped() < 8 {
		t.Fatalf("dropped %d frames, want at least 8", l.Dropped())
	}
	pre, _ := NewPreprocessor(models.UInt8, []int{1, 16, 16, 3}, nil, nil, "")
	dst := make([]byte, 16*16*3)
	if n := testing.AllocsPerRun(5, func() {
		f, _ := l.Next(ctx)
		pre.FillFrame(dst, f)
	}); n != 0 {
		t.Errorf("Latest.Next + FillFrame allocate %v times per frame", n)
	}
}

// mjpegServer serves a multipart MJPEG stream: parts[i] in order, then it hangs up.
func mjpegServer(t *testing.T, parts [][]byte, conns *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns.Add(1)
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		for _, p := range parts {
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			pw.Write(p)
			w.(http.Flusher).Flush()
		}
		mw.Close()
	}))
}

func TestMJPEGOverHTTP(t *testing.T) {
	good := writeJPEG(t, "", 64, 48)
	truncated := good[:len(good)-40] // the header is whole, the picture is cut
	var conns atomic.Int32
	srv := mjpegServer(t, [][]byte{good, truncated, []byte("<html>"), good}, &conns)
	defer srv.Close()
	var logs bytes.Buffer
	src, err := Open(context.Background(), srv.URL+"/stream.mjpg", Options{Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Backoff: Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pre, _ := NewPreprocessor(models.UInt8, []int{1, 16, 16, 3}, nil, nil, "")
	dst := make([]byte, 16*16*3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var results []string
	for i := 0; i < 8; i++ { // two connections' worth: the server hangs up after four parts
		f, err := src.Next(ctx)
		if IsFrameError(err) && strings.Contains(err.Error(), "not a JPEG image") {
			results = append(results, "notjpeg")
			continue
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if err := pre.FillFrame(dst, f); err != nil {
			if !strings.Contains(err.Error(), "camera: MJPEG frame") {
				t.Fatalf("truncated frame error %q", err)
			}
			results = append(results, "truncated")
			continue
		}
		results = append(results, fmt.Sprintf("%dx%d#%d", f.Width, f.Height, f.Sequence))
	}
	if want := "64x48#0 truncated notjpeg 64x48#3 64x48#4 truncated notjpeg 64x48#7"; strings.Join(results, " ") != want {
		t.Fatalf("got %q, want %q", results, want)
	}
	if conns.Load() < 2 || !strings.Contains(logs.String(), "reopened") {
		t.Fatalf("%d connections; log:\n%s", conns.Load(), logs.String())
	}
	// Not a camera at all.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>") }))
	defer bad.Close()
	if _, err := Open(context.Background(), bad.URL, Options{}); err == nil || !strings.Contains(err.Error(), "neither an MJPEG stream") {
		t.Fatalf("HTML page: %v", err)
	}
}

func TestParseSpec(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ in, kind, path, err string }{
		{"auto", "auto", "", ""},
		{"", "auto", "", ""},
		{"v4l2:/dev/video2?size=640x480&fps=30&format=yuyv", "v4l2", "/dev/video2", ""},
		{"/dev/video0", "v4l2", "/dev/video0", ""},
		{"rpicam:?size=1280x720&codec=mjpeg", "rpicam", "", ""},
		{"pattern:", "pattern", "", ""},
		{"http://cam.local/mjpg/video.mjpg", "http", "http://cam.local/mjpg/video.mjpg", ""},
		{dir, "dir", dir, ""},
		{"dir:" + dir + "?fps=2", "dir", dir, ""},
		{"v4l2:/dev/video0?colour=red", "", "", `unknown parameter "colour" for v4l2`},
		{"webcam:0", "", "", `unknown kind "webcam"`},
		{"/no/such/file.jpg", "", "", "no such file"},
	} {
		s, err := ParseSpec(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || s.Kind != c.kind || s.Path != c.path {
			t.Errorf("%q: %+v, %v; want %s %q", c.in, s, err, c.kind, c.path)
		}
	}
	for _, c := range []struct{ in, err string }{
		{"pattern:?size=big", "want WIDTHxHEIGHT"},
		{"pattern:?format=h264", "unknown pixel format"},
		{"pattern:?fps=-1", "non-negative"},
		{"rpicam:?codec=h264&cmd=/bin/true", "want yuv420 or mjpeg"},
	} {
		if _, err := Open(context.Background(), c.in, Options{}); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Open(%q): %v, want %q", c.in, err, c.err)
		}
	}
	s, err := Open(context.Background(), "pattern:?size=320x240&format=nv12", Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.Next(context.Background())
	if f.Format != NV12 || f.Width != 320 || f.Height != 240 {
		t.Fatalf("pattern gave %s %dx%d", f.Format, f.Width, f.Height)
	}
	_ = errors.New
	_ = image.Rect
}

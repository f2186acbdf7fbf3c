package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testJPEG encodes a w x h gradient as a JPEG.
func testJPEG(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// waitFor polls cond every 20 ms until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, done <-chan error, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		select {
		case err := <-done:
			t.Fatalf("%s: Run ended: %v", what, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// When the images of a dir: source are removed the daemon neither floods its log (it once wrote
// thousands of bad frame warnings a second) nor stops: it reports the source lost, and carries on
// when an image is back.
func TestSourceFilesVanish(t *testing.T) {
	mp, labels := modelAndLabels(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jpg"), testJPEG(t, 96, 96), 0o644)
	var out, logs lockedBuffer
	httpAddr := freeAddr(t)
	cfg := Config{Model: mp, Labels: labels, Source: "dir:" + dir, Listen: httpAddr, Out: &out, MQTT: MQTT{Listen: freeAddr(t)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()
	waitFor(t, slowdown*60*time.Second, "a label", done, func() bool { return strings.Contains(out.String(), "frame ") })
	os.Remove(filepath.Join(dir, "a.jpg"))
	waitFor(t, 30*time.Second, "source lost", done, func() bool { return strings.Contains(logs.String(), "pipeline: source lost") })
	time.Sleep(3 * time.Second) // a window to count warnings in; a loaded machine only writes fewer
	if n := strings.Count(logs.String(), "pipeline: bad frame"); n > 3 {
		t.Fatalf("%d bad frame warnings within 3 s of the images' removal, want the first and a summary at most", n)
	}
	os.WriteFile(filepath.Join(dir, "b.jpg"), testJPEG(t, 64, 64), 0o644)
	waitFor(t, 30*time.Second, "source back", done, func() bool { return strings.Contains(logs.String(), "pipeline: source back") })
	// Whether the removal shows as bad frames (a file listed, then gone when read) or only as the
	// source lost (the directory listed empty) depends on when it falls; bad frames not written
	// one by one must be summarised (suppressed=N) by the end.
	bad := -1
	for _, line := range strings.Split(tryGet("http://"+httpAddr+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, "edgeinfer_bad_frames_total "); ok {
			bad, _ = strconv.Atoi(v)
		}
	}
	if bad < 0 {
		t.Fatal("no edgeinfer_bad_frames_total in /metrics")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l := logs.String()
	warned := strings.Count(l, "pipeline: bad frame")
	t.Logf("%d bad frames counted, %d warnings", bad, warned)
	if bad > warned && !strings.Contains(l, "suppressed=") {
		t.Fatalf("%d bad frames counted, %d written, the others not summarised:\n%s", bad, warned, l)
	}
}

// An HTTP camera unreachable when the daemon starts is waited for, as one lost later is.
func TestSourceHTTPUnreachableAtStart(t *testing.T) {
	mp, labels := modelAndLabels(t)
	addr := freeAddr(t)
	var out, logs lockedBuffer
	cfg := Config{Model: mp, Labels: labels, Source: "http://" + addr + "/video.mjpg", Listen: "off", Out: &out, MQTT: MQTT{Listen: freeAddr(t)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()
	waitFor(t, 30*time.Second, "source lost", done, func() bool { return strings.Contains(logs.String(), "pipeline: source lost") })
	var l net.Listener
	var err error
	for i := 0; ; i++ {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if i == 50 {
			t.Skipf("cannot listen on %s again: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	frame := testJPEG(t, 96, 96)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		for r.Context().Err() == nil {
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			pw.Write(frame)
			time.Sleep(20 * time.Millisecond)
		}
	})}
	go srv.Serve(l)
	defer srv.Close()
	waitFor(t, 60*time.Second, "a label from the camera once up", done, func() bool { return strings.Contains(out.String(), "frame ") })
	if !strings.Contains(logs.String(), "pipeline: source back") {
		t.Fatalf("log:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

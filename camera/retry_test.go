package camera

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/models"
)

// states records what a source reports through Options.OnState.
type states struct {
	mu  sync.Mutex
	got []string
}

func (s *states) on(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Lost {
		s.got = append(s.got, "lost")
	} else {
		s.got = append(s.got, "live")
	}
}

func (s *states) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.got, " ")
}

// When a directory's images are removed, the attempts to read them back off instead of spinning
// (thousands of bad frames a second); images added later are found, and the source's state goes
// lost, then live again.
func TestDirFilesVanishAndReturn(t *testing.T) {
	dir := t.TempDir()
	writeJPEG(t, filepath.Join(dir, "a.jpg"), 40, 30)
	writeJPEG(t, filepath.Join(dir, "b.jpg"), 40, 30)
	var st states
	src, err := Open(context.Background(), "dir:"+dir, Options{OnState: st.on, Backoff: Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := 0; i < 3; i++ {
		if _, err := src.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, "a.jpg"))
	os.Remove(filepath.Join(dir, "b.jpg"))
	// For two seconds, count the bad frames. With the backoff (20 ms doubling to 200 ms) there are
	// about 15; a slower machine only makes fewer.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	bad := 0
	for ctx.Err() == nil {
		_, err := src.Next(ctx)
		if IsFrameError(err) {
			bad++
		} else if err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
	}
	cancel()
	if bad == 0 || bad > 100 {
		t.Fatalf("%d bad frames in 2 s after the images were removed, want a few (backoff)", bad)
	}
	if got := st.String(); got != "lost" {
		t.Fatalf("states %q, want lost", got)
	}
	// A new image is picked up.
	writeJPEG(t, filepath.Join(dir, "new.jpg"), 20, 10)
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		f, err := src.Next(ctx)
		if ctx.Err() != nil {
			t.Fatalf("an image added to the directory was not seen in 20 s (last error %v)", err)
		}
		if err == nil {
			if f.Width != 20 || f.Height != 10 {
				t.Fatalf("frame of %dx%d, want the new 20x10 image", f.Width, f.Height)
			}
			break
		}
	}
	if got := st.String(); got != "lost live" {
		t.Fatalf("states %q, want lost live", got)
	}
}

// Images added to a directory that still has some are seen within a pass or two.
func TestDirSeesNewFiles(t *testing.T) {
	dir := t.TempDir()
	writeJPEG(t, filepath.Join(dir, "a.jpg"), 40, 30)
	src, err := Open(context.Background(), "dir:"+dir+"?fps=20", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	writeJPEG(t, filepath.Join(dir, "b.jpg"), 20, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("b.jpg, added after the start, never came: %v", err)
		}
		if f.Width == 20 {
			return
		}
	}
}

// A single file that vanishes backs off as well.
func TestFileVanishes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jpg")
	writeJPEG(t, path, 40, 30)
	src, err := Open(context.Background(), "file:"+path+"?loop=1", Options{Backoff: Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	os.Remove(path)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	bad := 0
	for ctx.Err() == nil {
		if _, err := src.Next(ctx); IsFrameError(err) {
			if !strings.Contains(err.Error(), "a.jpg") {
				t.Fatalf("error %q does not name the file", err)
			}
			bad++
		}
	}
	if bad == 0 || bad > 50 {
		t.Fatalf("%d bad frames in 1 s from a removed file, want a few (backoff)", bad)
	}
}

// freeAddr is a local TCP address nothing listens on (for now).
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// An HTTP camera that is unreachable at start is retried, like one lost later, when start_timeout
// asks for it, and gives frames once it is up; its state goes lost, then live.
func TestHTTPUnreachableAtStart(t *testing.T) {
	good := writeJPEG(t, "", 64, 48)
	addr := freeAddr(t)
	var st states
	var logs bytes.Buffer
	o := Options{OnState: st.on, Log: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}}
	// Without start_timeout (a command-line tool): the error at once.
	if _, err := Open(context.Background(), "http://"+addr+"/video.mjpg", o); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("unreachable camera without start_timeout: %v", err)
	}
	src, err := Open(context.Background(), "http://"+addr+"/video.mjpg#start_timeout=forever", o)
	if err != nil {
		t.Fatalf("unreachable camera with start_timeout=forever: %v", err)
	}
	defer src.Close()
	if got := st.String(); got != "lost" {
		t.Fatalf("states %q, want lost", got)
	}
	// The camera comes up a little later.
	var l net.Listener
	for i := 0; ; i++ {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if i == 50 {
			t.Skipf("cannot listen on %s again: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		for i := 0; i < 100; i++ {
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			pw.Write(good)
		}
		mw.Close()
	})}
	go srv.Serve(l)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := src.Next(ctx)
	if err != nil {
		t.Fatalf("no frame once the camera is up: %v\n%s", err, logs.String())
	}
	if f.Width != 64 {
		t.Fatalf("frame %dx%d", f.Width, f.Height)
	}
	if got := st.String(); got != "lost live" {
		t.Fatalf("states %q, want lost live", got)
	}
	if l := logs.String(); !strings.Contains(l, "cannot open; retrying") || !strings.Contains(l, "start_timeout=forever") {
		t.Fatalf("log:\n%s", l)
	}
}

// start_timeout bounds the retrying: then the error comes from Next, naming the source.
func TestStartTimeoutBound(t *testing.T) {
	addr := freeAddr(t)
	o := Options{Log: slog.New(slog.DiscardHandler), Backoff: Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}}
	for _, source := range []string{
		"http://" + addr + "/video.mjpg#start_timeout=300ms",
		"v4l2:/dev/video-edgeinfer-none?start_timeout=300ms",
	} {
		src, err := Open(context.Background(), source, o)
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = src.Next(ctx)
		cancel()
		src.Close()
		if err == nil || IsFrameError(err) || !strings.Contains(err.Error(), "no frame within start_timeout 300ms") {
			t.Fatalf("%s: %v", source, err)
		}
	}
	// The same through Options (what 'edgeinfer run' sets), and bad values.
	src, err := Open(context.Background(), "http://"+addr+"/", Options{StartTimeout: 100 * time.Millisecond, Log: o.Log, Backoff: o.Backoff})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "start_timeout 100ms") {
		t.Fatalf("Options.StartTimeout: %v", err)
	}
	src.Close()
	for _, bad := range []string{"http://" + addr + "/#start_timeout=soon", "v4l2:/dev/video0?start_timeout=-1s", "http://" + addr + "/#colour=red"} {
		if _, err := Open(context.Background(), bad, o); err == nil || !strings.Contains(err.Error(), fmt.Sprint("camera: ")) {
			t.Fatalf("%s: %v", bad, err)
		}
	}
}

// JPEG files are passed on compressed (MJPEG frames, decoded into the tensor where they are used),
// other images as RGB24; max_pixels applies to both, from the header.
func TestFilesFormatsAndPixelLimit(t *testing.T) {
	dir := t.TempDir()
	writeJPEG(t, filepath.Join(dir, "a.jpg"), 40, 30)
	p, _ := NewPattern(RGB24, 20, 10, 0)
	f, _ := p.Next(context.Background())
	img, _ := f.Image()
	pf, _ := os.Create(filepath.Join(dir, "b.png"))
	if err := png.Encode(pf, img); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	src, err := Open(context.Background(), "dir:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pre, _ := NewPreprocessor(models.UInt8, []int{1, 8, 8, 3}, nil, nil, "")
	dst := make([]byte, 8*8*3)
	var got []string
	for i := 0; i < 2; i++ {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := pre.FillFrame(dst, f); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %dx%d", f.Format, f.Width, f.Height))
	}
	if want := "MJPEG 40x30,RGB24 20x10"; strings.Join(got, ",") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	small, err := Open(context.Background(), "dir:"+dir+"?max_pixels=500", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"40x30 pixels is larger than the 500 allowed", ""} {
		f, err := small.Next(context.Background())
		if want == "" && (err != nil || f.Width != 20) || want != "" && (!IsFrameError(err) || !strings.Contains(err.Error(), want)) {
			t.Fatalf("max_pixels=500: %v, want %q", err, want)
		}
	}
}

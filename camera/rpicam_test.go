package camera

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ffmpegFrames makes n frames of ffmpeg's testsrc, w x h: yuv420p padded to a stride (ffmpeg's pad
// filter widens the planes, as the Pi's ISP does) and the same frames as packed rgb24.
func ffmpegFrames(t *testing.T, w, h, stride, n int) (yuv, rgb []byte) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
			t.Fatal("ffmpeg is needed (apt-get install ffmpeg)")
		}
		t.Skip("ffmpeg not installed (apt-get install ffmpeg): skipping the rpicam-vid stand-in tests")
	}
	dir := t.TempDir()
	ff := func(args ...string) {
		cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error"}, args...)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %q: %v: %s", args, err, msg)
		}
	}
	raw := filepath.Join(dir, "raw.yuv")
	size := fmt.Sprintf("%dx%d", w, h)
	ff("-f", "lavfi", "-i", "testsrc=size="+size+":rate=30", "-frames:v", fmt.Sprint(n), "-pix_fmt", "yuv420p", "-f", "rawvideo", raw)
	in := []string{"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-i", raw}
	ff(append(in, "-vf", fmt.Sprintf("pad=%d:%d:0:0", stride, h), "-pix_fmt", "yuv420p", "-f", "rawvideo", filepath.Join(dir, "padded.yuv"))...)
	ff(append(in, "-pix_fmt", "rgb24", "-f", "rawvideo", filepath.Join(dir, "frames.rgb"))...)
	var err error
	if yuv, err = os.ReadFile(filepath.Join(dir, "padded.yuv")); err != nil {
		t.Fatal(err)
	}
	if rgb, err = os.ReadFile(filepath.Join(dir, "frames.rgb")); err != nil {
		t.Fatal(err)
	}
	if len(yuv) != n*FrameSize(YU12, w, h, stride) || len(rgb) != n*w*h*3 {
		t.Fatalf("ffmpeg gave %d and %d bytes", len(yuv), len(rgb))
	}
	return yuv, rgb
}

// standIn writes a script that behaves like rpicam-vid for the test: it records its arguments, and on
// its first run writes crashAfter frames then dies with a libcamera-like error; later runs write all
// the frames and then wait, as rpicam-vid -t 0 does.
func standIn(t *testing.T, frames []byte, frameSize, crashAfter int) (script, argsLog string) {
	dir := t.TempDir()
	data := filepath.Join(dir, "frames.yuv")
	os.WriteFile(data, frames, 0o644)
	argsLog = filepath.Join(dir, "args")
	script = filepath.Join(dir, "rpicam-vid")
	body := fmt.Sprintf(`#!/bin/sh
echo "$@" >> %[1]s
runs=$(wc -l < %[1]s)
echo "[0:00:00.1] INFO Camera camera_manager.cpp: libcamera stand-in" >&2
if [ "$runs" = 1 ] && [ %[3]d -gt 0 ]; then
	head -c %[4]d %[2]s
	echo "ERROR: Device timeout detected, attempting a restart!!!" >&2
	exit 1
fi
cat %[2]s
exec sleep 60
`, argsLog, data, crashAfter, crashAfter*frameSize)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, argsLog
}

func TestRPiCamStandIn(t *testing.T) {
	const w, h, stride, n = 100, 60, 128, 12
	yuv, rgb := ffmpegFrames(t, w, h, stride, n)
	size := FrameSize(YU12, w, h, stride)
	script, argsLog := standIn(t, yuv, size, 4)
	var logs bytes.Buffer
	src, err := OpenRPiCam(context.Background(), RPiCamOptions{Command: script, Width: w, Height: h, FPS: 30,
		Backoff: Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// 4 frames from the first run, then the restarted command's 12.
	var lastSeq uint64
	for i := 0; i < 4+n; i++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v\nlog: %s", i, err, logs.String())
		}
		if f.Format != YU12 || f.Width != w || f.Height != h || f.Stride != stride {
			t.Fatalf("frame %d: %s %dx%d stride %d", i, f.Format, f.Width, f.Height, f.Stride)
		}
		if i > 0 && f.Sequence != lastSeq+1 {
			t.Errorf("frame %d: sequence %d after %d", i, f.Sequence, lastSeq)
		}
		lastSeq = f.Sequence
		k := i
		if i >= 4 {
			k = i - 4
		}
		img, err := f.Image()
		if err != nil {
			t.Fatal(err)
		}
		// Our conversion of ffmpeg's yuv420p against ffmpeg's own rgb24 of the same frame: equal
		// but for chroma subsampling at colour edges and rounding.
		want := rgb[k*w*h*3 : (k+1)*w*h*3]
		var sum int
		rgba := rgbaOf(img)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for c := 0; c < 3; c++ {
					sum += absd(rgba.Pix[y*rgba.Stride+4*x+c], want[(y*w+x)*3+c])
				}
			}
		}
		if mean := float64(sum) / float64(w*h*3); mean > 2 || i == 0 && testing.Verbose() {
			t.Logf("frame %d: mean difference %.2f from ffmpeg's rgb24", i, mean)
		}
		if mean := float64(sum) / float64(w*h*3); mean > 2 {
			t.Fatalf("frame %d: mean difference %.2f from ffmpeg's rgb24 (the padding or stride was misread?)", i, mean)
		}
	}
	args, _ := os.ReadFile(argsLog)
	lines := strings.Split(strings.TrimSpace(string(args)), "\n")
	wantArgs := "-t 0 -n --codec yuv420 --width 100 --height 60 --framerate 30 -o -"
	if len(lines) != 2 || lines[0] != wantArgs || lines[1] != wantArgs {
		t.Fatalf("the command ran with %q, want twice %q", lines, wantArgs)
	}
	l := logs.String()
	if !strings.Contains(l, "Device timeout detected") || !strings.Contains(l, "exit status 1") || !strings.Contains(l, "reopened") {
		t.Fatalf("the crash, its stderr and the restart are not in the log:\n%s", l)
	}
}

// A command that dies before giving a frame is reported at once with its stderr.
func TestRPiCamFailsAtStart(t *testing.T) {
	script := filepath.Join(t.TempDir(), "rpicam-vid")
	os.WriteFile(script, []byte("#!/bin/sh\necho 'ERROR: *** no cameras available ***' >&2\nexit 255\n"), 0o755)
	src, err := OpenRPiCam(context.Background(), RPiCamOptions{Command: script})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = src.Next(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no cameras available") || !strings.Contains(err.Error(), "exit status 255") {
		t.Fatalf("error %v, want the command's stderr and exit status", err)
	}
	if _, err := OpenRPiCam(context.Background(), RPiCamOptions{Command: "/nonexistent/rpicam-vid"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing command: %v", err)
	}
}

// MJPEG output is split into frames at the JPEG markers, across read boundaries.
func TestRPiCamMJPEG(t *testing.T) {
	var stream bytes.Buffer
	var frames [][]byte
	for i := 0; i < 5; i++ {
		f, _ := NewPattern(RGB24, 64+8*i, 48, 0)
		fr, _ := f.Next(context.Background())
		img, _ := fr.Image()
		var b bytes.Buffer
		if err := encodeJPEG(&b, img); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b.Bytes())
		stream.Write(b.Bytes())
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.mjpeg"), stream.Bytes(), 0o644)
	script := filepath.Join(dir, "rpicam-vid")
	os.WriteFile(script, []byte("#!/bin/sh\ncat "+filepath.Join(dir, "s.mjpeg")+"\nexec sleep 60\n"), 0o755)
	src, err := OpenRPiCam(context.Background(), RPiCamOptions{Command: script, Codec: "mjpeg"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i, want := range frames {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != MJPEG || !bytes.Equal(f.Data, want) {
			t.Fatalf("frame %d: %s, %d bytes, want the %d bytes of JPEG %d", i, f.Format, len(f.Data), len(want), i)
		}
	}
}

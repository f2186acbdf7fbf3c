package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/internal/racemode"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// goTypeName matches what a Go type name or a slog line looks like in a message.
var goTypeName = regexp.MustCompile(`\*[a-z]+\.[A-Z]|level=|msg=|err=|&\{|%!`)

// cutFile writes the first half of data to dir/name and returns its path.
func cutFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// One error style for one-shot commands: "edgeinfer CMD: FILE: what went wrong", the path as
// given, "truncated" for a file cut short, and no slog key=value lines, package prefixes or Go
// type names.
func TestErrorStyle(t *testing.T) {
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(3, 3, color.RGBA{1, 2, 3, 255})
	var jb, pb, bb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bb, img); err != nil {
		t.Fatal(err)
	}
	cutJPEG := cutFile(t, dir, "cut.jpg", jb.Bytes())
	cutPNG := cutFile(t, dir, "cut.png", pb.Bytes())
	cutBMP := cutFile(t, dir, "cut.bmp", bb.Bytes())
	notImage := filepath.Join(dir, "notes.jpg")
	os.WriteFile(notImage, []byte("shopping list"), 0o644)
	missing := filepath.Join(dir, "missing.jpg")

	// A model cut short, in each format the commands read.
	eim, err := resolveModel(zoo.DefaultModel) // the embedded model, written to the cache
	if err != nil {
		t.Fatal(err)
	}
	eimData, err := os.ReadFile(eim)
	if err != nil {
		t.Fatal(err)
	}
	cutEIM := cutFile(t, dir, "cut.eim", eimData)
	onnxData, err := onnxtest.MobileNetV2Net(3).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	cutONNX := cutFile(t, dir, "cut.onnx", onnxData)
	cutBin := cutFile(t, dir, "cut.bin", make([]byte, 3*3073))
	labelsMissing := filepath.Join(dir, "labels.txt")

	for _, c := range []struct {
		args []string
		want []string // stderr lines, in order
	}{
		{[]string{"classify", "--model", eim, cutJPEG, cutPNG, cutBMP, notImage, missing}, []string{
			"edgeinfer classify: " + cutJPEG + ": cannot decode image: truncated",
			"edgeinfer classify: " + cutPNG + ": cannot decode image: truncated",
			"edgeinfer classify: " + cutBMP + ": cannot decode image: truncated",
			"edgeinfer classify: " + notImage + ": cannot decode image: not a JPEG, PNG or BMP file",
			"edgeinfer classify: " + missing + ": no such file or directory",
			"edgeinfer classify: 5 of 5 images failed",
		}},
		{[]string{"classify", "--model", cutEIM, missing}, []string{"edgeinfer classify: " + cutEIM + ": header at offset 16: truncated"}},
		{[]string{"inspect", cutEIM}, []string{"edgeinfer inspect: " + cutEIM + ": header at offset 16: truncated"}},
		{[]string{"classify", "--model", eim, "--labels", labelsMissing, missing}, []string{"edgeinfer classify: " + labelsMissing + ": no such file or directory"}},
		{[]string{"quantize", "--in", cutONNX, "--calib", dir, "--out", filepath.Join(dir, "q.eim")}, []string{"edgeinfer quantize: " + cutONNX + ": truncated"}},
		{[]string{"eval", "--model", eim, "--data", cutBin}, []string{"edgeinfer eval: " + cutBin + ": truncated"}},
	} {
		code, _, errs := cli(t, nil, c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 1 || len(lines) != len(c.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 1 and %d lines", c.args, code, errs, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("%q: line %d is %q, want it to start with %q", c.args, i+1, lines[i], w)
			}
			if goTypeName.MatchString(lines[i]) {
				t.Errorf("%q: line %q has a Go type name or a slog field", c.args, lines[i])
			}
		}
	}
}

// classify --source pattern: runs at the test pattern's advertised rate (camera list's line);
// fps= still sets another, fps=0 none.
func TestClassifyPatternRate(t *testing.T) {
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	code, out, _ := cli(t, nil, "camera", "list")
	if advert := "pattern:?size=640x480&fps=" + strconv.Itoa(camera.PatternRate); code != 0 || !strings.Contains(out, advert) {
		t.Fatalf("camera list: exit %d, %q lacks %q", code, out, advert)
	}
	line := regexp.MustCompile(`(?m)^frame ([0-9]+) .*\[[0-9.]+ ms, ([0-9.]+) fps, ([0-9]+) dropped\]$`)
	type result struct {
		seq     []uint64  // the classified frames' sequence numbers, as the source numbered them
		at      []float64 // when each was classified, in seconds since the stream started (n / fps)
		fps     float64   // the rate classify reports after the last frame
		dropped int
		took    time.Duration
	}
	classify := func(source string, frames int) result {
		t.Helper()
		start := time.Now()
		code, out, errs := cli(t, nil, "classify", "--model", zoo.DefaultModel, "--source", source, "--frames", strconv.Itoa(frames), "--top", "1")
		r := result{took: time.Since(start)}
		ms := line.FindAllStringSubmatch(out, -1)
		if code != 0 || len(ms) != frames {
			t.Fatalf("classify --source %s: exit %d, %d frame lines, want %d\n%s%s", source, code, len(ms), frames, out, errs)
		}
		if errs != "" {
			t.Errorf("classify --source %s: stderr %q", source, errs)
		}
		for i, m := range ms {
			seq, _ := strconv.ParseUint(m[1], 10, 64)
			fps, _ := strconv.ParseFloat(m[2], 64)
			r.seq, r.at, r.fps = append(r.seq, seq), append(r.at, float64(i+1)/fps), fps
			r.dropped, _ = strconv.Atoi(m[3])
		}
		return r
	}
	// The source's own rate: the frames it numbered between the first and the last frame classified,
	// over the time between them. The pattern keeps its pace however slowly the machine classifies
	// (Latest drops the frames inference has no time for), so this needs no fast machine, only the
	// pattern's goroutine running now and then: a third of the rate is the bound. A source slower
	// than its rate, or one that stalls for a while, fails it.
	sourceRate := func(r result) float64 {
		n := len(r.seq) - 1
		rate := float64(r.seq[n]-r.seq[0]) / (r.at[n] - r.at[0])
		t.Logf("frames %d to %d in %.3f s: source %.1f fps; classify %.1f fps, %d dropped", r.seq[0], r.seq[n], r.at[n]-r.at[0], rate, r.fps, r.dropped)
		return rate
	}
	// 16 frames at 30 fps: 15 intervals of 33 ms. classify's own rate is only checked from above (no
	// faster than the source): a loaded machine (CI, -race) may classify far slower than 30 fps.
	r := classify("pattern:?size=160x120", 16)
	if r.fps > 36 || r.took < 450*time.Millisecond {
		t.Errorf("pattern: %.1f fps, %d dropped, 16 frames in %v; want at most %d fps", r.fps, r.dropped, r.took, camera.PatternRate)
	}
	if sr := sourceRate(r); sr < camera.PatternRate/3 {
		t.Errorf("pattern: the source numbered frames %d to %d in %.2f s (%.1f fps), want at least %d fps (a third of %d)",
			r.seq[0], r.seq[len(r.seq)-1], r.at[len(r.at)-1]-r.at[0], sr, camera.PatternRate/3, camera.PatternRate)
	}
	r = classify("pattern:?size=160x120&fps=10", 8) // 7 intervals: a stall of the whole process under 1 s is caught up by the pattern
	if r.fps > 14 {
		t.Errorf("pattern:?fps=10: %.1f fps, want at most 10", r.fps)
	}
	if sr := sourceRate(r); sr < 10./3 {
		t.Errorf("pattern:?fps=10: the source numbered frames %d to %d in %.2f s (%.1f fps), want at least 3.3 fps (a third of 10)",
			r.seq[0], r.seq[len(r.seq)-1], r.at[len(r.at)-1]-r.at[0], sr)
	}
	// Unthrottled, the pattern outruns inference: frames are dropped. Not under the race detector,
	// which slows the pattern's pixel loops more than inference's kernels.
	if r := classify("pattern:?size=160x120&fps=0", 16); r.dropped == 0 && !racemode.Enabled {
		t.Error("pattern:?fps=0: no frame dropped, want the pattern unthrottled")
	} else if r.dropped == 0 {
		t.Log("pattern:?fps=0: no frame dropped under the race detector (not checked there)")
	}
}

// A typo in edgeinfer.yaml names the file and line and suggests the nearest key.
func TestConfigTypo(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "edgeinfer.yaml")
	os.WriteFile(conf, []byte("source: \"pattern:\"\nwacth:\n  - class: cat\nmqtt:\n  brokr: tcp://x:1883\n"), 0o644)
	code, _, errs := cli(t, nil, "run", "--config", conf)
	want := "edgeinfer run: " + conf + `:2: unknown key "wacth" (did you mean "watch"?); ` + conf + `:5: unknown key "brokr" (did you mean "broker"?)` + "\n"
	if code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
	}
}

// The status page's port taken: the error names the address and --listen.
func TestRunListenInUse(t *testing.T) {
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	code, _, errs := cli(t, nil, "run", "--model", zoo.DefaultModel, "--source", "pattern:", "--mqtt-listen", "127.0.0.1:0",
		"--listen", addr, "--frames", "1")
	want := "edgeinfer run: status page and /metrics: " + addr + " is in use (another edgeinfer run?): set --listen"
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
	}
}

// The libraries' log lines in one-shot commands read like their errors: no key=value fields, no
// package prefixes.
func TestOneShotLog(t *testing.T) {
	var b strings.Builder
	log := oneShotLog(&env{stderr: &b}, "classify").With("source", "v4l2:/dev/video0")
	log.Info("camera: no V4L2 camera found; using the test pattern")
	log.Warn("camera: reopening", "err", &os.PathError{Op: "open", Path: "/dev/video0", Err: os.ErrNotExist}, "in", 2*time.Second)
	log.Debug("not shown")
	want := "edgeinfer classify: no V4L2 camera found; using the test pattern (source v4l2:/dev/video0)\n" +
		"edgeinfer classify: WARN: reopening (source v4l2:/dev/video0, err /dev/video0: file does not exist, in 2s)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

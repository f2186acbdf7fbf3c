package main

import (
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func TestCameraList(t *testing.T) {
	code, out, errs := cli(t, nil, "camera", "list")
	if code != 0 || !strings.Contains(out, "test pattern: --source pattern:") || !strings.Contains(out, "Raspberry Pi camera:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestCameraSnap(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "f.png")
	code, out, errs := cli(t, nil, "camera", "snap", "--source", "pattern:?size=320x240&format=yu12", "--skip", "2", "-o", png)
	if code != 0 || !strings.Contains(out, "320x240 YU12 frame 2") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	f, err := os.Open(png)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil || format != "png" || img.Bounds().Dx() != 320 || img.Bounds().Dy() != 240 {
		t.Fatalf("snap wrote %s %v: %v", format, img.Bounds(), err)
	}
	if r, g, b, _ := img.At(5, 5).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 { // the white bar
		t.Fatalf("pixel (5,5) = %d %d %d, want white", r>>8, g>>8, b>>8)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"camera"}, 2, "want a subcommand"},
		{[]string{"camera", "zoom"}, 2, `unknown subcommand "zoom"`},
		{[]string{"camera", "snap", "-o", "x.gif"}, 2, "want a .jpg or .png"},
		{[]string{"camera", "snap", "--source", "webcam:1", "-o", png}, 2, `unknown kind "webcam"`},
		{[]string{"camera", "snap", "--source", "dir:" + dir + "/none", "-o", png}, 1, "no such file"},
		{[]string{"camera", "snap", "--source", "rpicam:?cmd=/nonexistent/rpicam-vid", "-o", png}, 1, "not found"},
	} {
		code, _, errs := cli(t, nil, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// streamClassify on a looping file source gives the same label as classifying the file.
func TestStreamClassify(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v2_1.0_224_quant.tflite")
	labels, err := readLabels(shareddata.Path(t, "imagenet/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	img := shareddata.Path(t, "imagenet/grace_hopper.bmp")
	m, closer, err := load.Model(model)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	it, err := runtime.New(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	in := it.Input(0)
	pre, err := camera.NewPreprocessor(in.Type, in.Shape, in.Quant, m.Preprocess, "")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	e := &env{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(&errb, nil)), getenv: func(string) string { return "" }}
	err = streamClassify(context.Background(), e, streamOptions{Source: "file:" + img + "?loop=1", Top: 2, Frames: 3}, it, pre, labels)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "military uniform") || !strings.Contains(l, "fps") {
			t.Fatalf("line %q lacks the label or the rate", l)
		}
	}
	// A source that fails before its first frame is an error, not a hang.
	err = streamClassify(context.Background(), e, streamOptions{Source: "rpicam:?cmd=/bin/false", Top: 1}, it, pre, labels)
	if err == nil || !strings.Contains(err.Error(), "/bin/false") {
		t.Fatalf("dead rpicam command: %v", err)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/camera/v4l2"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func init() {
	commands["camera"] = command{"list cameras, or save one frame from a camera (list, snap)", runCamera}
}

const sourceHelp = "frame source: auto, /dev/video0, v4l2:/dev/video0?size=640x480&fps=30&format=yuyv, rpicam:?size=1280x720, " +
	"file:IMAGE, dir:DIR, http://camera/stream.mjpg, pattern: (see the camera package documentation)"

func runCamera(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("want a subcommand: list or snap")
	}
	switch args[0] {
	case "list":
		return runCameraList(ctx, e, args[1:])
	case "snap":
		return runCameraSnap(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stderr, "usage: edgeinfer camera list\n       edgeinfer camera snap --source S -o frame.jpg")
		return nil
	}
	return usagef("unknown subcommand %q: want list or snap", args[0])
}

func runCameraList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "camera list", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("camera list takes no arguments")
	}
	devs, err := v4l2.List()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		fmt.Fprintln(e.stdout, "no V4L2 capture devices (/dev/video*)")
	}
	for _, d := range devs {
		fmt.Fprintf(e.stdout, "%s: %s (%s)   --source v4l2:%s\n", d.Path, d.Card, d.Driver, d.Path)
		for _, f := range d.Formats {
			fmt.Fprintf(e.stdout, "  %s  %s\n", v4l2.FourCC(f.FourCC), f.Description)
			for _, s := range f.Sizes {
				if s.Step > 0 {
					fmt.Fprintf(e.stdout, "    %dx%d to %dx%d, step %d\n", s.Width, s.Height, s.MaxWidth, s.MaxHeight, s.Step)
					continue
				}
				rates := make([]string, len(s.FPS))
				for i, r := range s.FPS {
					rates[i] = fmt.Sprintf("%g", r)
				}
				fmt.Fprintf(e.stdout, "    %dx%d  fps %s\n", s.Width, s.Height, strings.Join(rates, " "))
			}
		}
	}
	found := false
	for _, c := range []string{"rpicam-vid", "libcamera-vid"} {
		if p, err := exec.LookPath(c); err == nil {
			fmt.Fprintf(e.stdout, "Raspberry Pi camera: %s   --source rpicam:?cmd=%s\n", p, c)
			found = true
			break
		}
	}
	if !found {
		fmt.Fprintln(e.stdout, "Raspberry Pi camera: rpicam-vid not installed")
	}
	fmt.Fprintf(e.stdout, "test pattern: --source pattern:?size=640x480&fps=%d\n", camera.PatternRate)
	return nil
}

func runCameraSnap(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "camera snap", "")
	source := fs.String("source", "auto", sourceHelp)
	out := fs.String("o", "frame.jpg", "output image (.jpg or .png)")
	skip := fs.Int("skip", 0, "frames to discard first (live cameras settle their exposure in the first frames)")
	timeout := fs.Duration("timeout", 20*time.Second, "longest wait for the frame")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("camera snap takes no arguments (use --source and -o)")
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if ext != ".jpg" && ext != ".jpeg" && ext != ".png" {
		return usagef("-o %s: want a .jpg or .png file", *out)
	}
	if *skip < 0 {
		return usagef("--skip must not be negative")
	}
	if _, err := camera.ParseSpec(*source); err != nil {
		return usageError{err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	src, err := camera.Open(ctx, *source, camera.Options{Log: oneShotLog(e, "camera snap"), PatternFPS: camera.PatternRate})
	if err != nil {
		return err
	}
	defer src.Close()
	var f *camera.Frame
	for n := 0; n <= *skip; {
		f, err = src.Next(ctx)
		if camera.IsFrameError(err) {
			fmt.Fprintf(e.stderr, "edgeinfer camera snap: WARN: bad frame: %s\n", errorText(err))
			continue
		}
		if err != nil {
			return err
		}
		n++
	}
	img, err := f.Image()
	if err != nil {
		return err
	}
	w, err := os.Create(*out)
	if err != nil {
		return err
	}
	if ext == ".png" {
		err = png.Encode(w, img)
	} else {
		err = jpeg.Encode(w, img, &jpeg.Options{Quality: 92})
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %dx%d %s frame %d\n", *out, f.Width, f.Height, f.Format, f.Sequence)
	return nil
}

// streamOptions are classify's streaming flags.
type streamOptions struct {
	Source string
	Top    int
	Frames int // stop after this many classified frames; 0: until interrupted or the source ends
}

// streamClassify classifies frames from a source as they come, newest frame first (frames that
// arrive while one is classified are dropped), and prints one line per frame: sequence number, the
// top labels, latency and frame rate. Bad frames are logged and skipped.
func streamClassify(ctx context.Context, e *env, o streamOptions, it *runtime.Interpreter, pre *camera.Preprocessor, labels []string) error {
	src, err := camera.Open(ctx, o.Source, camera.Options{Log: oneShotLog(e, "classify"), PatternFPS: camera.PatternRate})
	if err != nil {
		return err
	}
	latest := camera.NewLatest(src)
	defer latest.Close()
	in, out := it.Input(0), it.Output(0)
	scores := make([]float64, out.NumElements())
	start := time.Now()
	done, bad := 0, 0
	for o.Frames == 0 || done < o.Frames {
		f, err := latest.Next(ctx)
		if err == nil {
			err = pre.FillFrame(in.Bytes(), f)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if f != nil || camera.IsFrameError(err) {
				bad++
				fmt.Fprintf(e.stderr, "edgeinfer classify: WARN: bad frame: %s\n", errorText(err))
				continue
			}
			return err
		}
		t0 := time.Now()
		if err := it.Run(ctx); err != nil {
			return err
		}
		lat := time.Since(t0)
		if err := out.Dequantize(scores); err != nil {
			return err
		}
		done++
		var b strings.Builder
		for i, k := range topK(scores, o.Top) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%.2f %s", scores[k], labelOf(labels, k, len(scores)))
		}
		fps := float64(done) / time.Since(start).Seconds()
		fmt.Fprintf(e.stdout, "frame %-6d %s  [%.1f ms, %.1f fps, %d dropped]\n", f.Sequence, b.String(),
			float64(lat.Microseconds())/1000, fps, latest.Dropped())
	}
	if done == 0 && bad > 0 {
		return fmt.Errorf("no frame of %s could be classified (%d bad)", o.Source, bad)
	}
	return nil
}

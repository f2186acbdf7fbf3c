package camera

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/camera/v4l2"
)

// Options are what Open passes to every source. The source string's parameters (start_timeout,
// max_pixels, max_frame_bytes) override them.
type Options struct {
	Log     *slog.Logger
	Backoff Backoff
	// StartTimeout is how long a live source (V4L2, rpicam, HTTP) that cannot be opened, or fails
	// before its first frame, is retried, with Backoff, as it is when lost later: 0 returns the
	// first error (what a command-line tool wants), Forever never gives up (what a daemon wants).
	StartTimeout time.Duration
	// OnState, if set, is called when a source is lost (a camera being reopened, unreadable files)
	// and when it gives frames again; not for each frame. It is called from the goroutine reading
	// the source and must not block.
	OnState func(State)
	// MaxPixels bounds an image's width*height, checked from its header before it is decoded: MJPEG
	// over HTTP (default DefaultStreamPixels) and files (default MaxImagePixels).
	MaxPixels int
	// MaxFrameBytes bounds one JPEG of an MJPEG stream over HTTP (default DefaultMaxFrameBytes).
	MaxFrameBytes int
	// PatternFPS is the frame rate of a pattern: source without fps= (0: as fast as asked). The
	// command-line tools set PatternRate, the rate 'edgeinfer camera list' advertises.
	PatternFPS float64
}

// PatternRate is the test pattern's advertised frame rate: 'auto' without a camera runs the pattern
// at it, and so do the command-line tools' pattern: sources without fps= (Options.PatternFPS).
const PatternRate = 30

// Spec is a parsed source string (see the package documentation for the syntax).
type Spec struct {
	Kind   string // auto, v4l2, rpicam, file, dir, http, pattern
	Path   string // device, file or directory path, or URL
	Params url.Values
}

// ParseSpec reads a source string without opening anything.
func ParseSpec(s string) (Spec, error) {
	if s == "" || s == "auto" {
		return Spec{Kind: "auto"}, nil
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		// The URL's query is the camera's; edgeinfer's parameters go in the fragment, which is
		// never sent: http://cam/video.mjpg#max_pixels=2000000&start_timeout=forever.
		u, frag, _ := strings.Cut(s, "#")
		params, err := url.ParseQuery(frag)
		if err != nil {
			return Spec{}, fmt.Errorf("camera: source %q: bad parameters after #: %w", s, err)
		}
		keys := []string{"max_pixels", "max_frame_bytes", "start_timeout", "timeout"}
		for k := range params {
			if !slices.Contains(keys, k) {
				return Spec{}, fmt.Errorf("camera: source %q: unknown parameter %q for http (%s, after #)", s, k, strings.Join(keys, ", "))
			}
		}
		return Spec{Kind: "http", Path: u, Params: params}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || strings.ContainsRune(kind, '/') {
		// A bare path: a device, a directory or an image file.
		kind, rest = "", s
	}
	path, query, _ := strings.Cut(rest, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return Spec{}, fmt.Errorf("camera: source %q: bad parameters: %w", s, err)
	}
	if kind == "" {
		switch st, err := os.Stat(path); {
		case strings.HasPrefix(path, "/dev/video"):
			kind = "v4l2"
		case err == nil && st.IsDir():
			kind = "dir"
		case err == nil:
			kind = "file"
		default:
			return Spec{}, fmt.Errorf("camera: source %q: no such file, and not a known kind (v4l2:, rpicam:, file:, dir:, http://, pattern:, auto)", s)
		}
	}
	allowed := map[string][]string{
		"v4l2":    {"size", "fps", "format", "buffers", "timeout", "start_timeout"},
		"rpicam":  {"size", "fps", "codec", "cmd", "stride", "timeout", "args", "start_timeout"},
		"file":    {"loop", "fps", "max_pixels"},
		"dir":     {"fps", "max_pixels"},
		"pattern": {"size", "fps", "format"},
	}
	keys, known := allowed[kind]
	if !known {
		return Spec{}, fmt.Errorf("camera: source %q: unknown kind %q (v4l2, rpicam, file, dir, http, pattern, auto)", s, kind)
	}
	for k := range params {
		if !slices.Contains(keys, k) {
			return Spec{}, fmt.Errorf("camera: source %q: unknown parameter %q for %s (%s)", s, k, kind, strings.Join(keys, ", "))
		}
	}
	if (kind == "file" || kind == "dir") && path == "" {
		return Spec{}, fmt.Errorf("camera: source %q: %s needs a path", s, kind)
	}
	return Spec{Kind: kind, Path: path, Params: params}, nil
}

func (s Spec) size() (w, h int, err error) {
	v := s.Params.Get("size")
	if v == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(v, "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return 0, 0, fmt.Errorf("camera: size %q: want WIDTHxHEIGHT, e.g. 640x480", v)
	}
	return w, h, nil
}

func (s Spec) float(key string) (float64, error) {
	v := s.Params.Get(key)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("camera: %s %q: want a non-negative number", key, v)
	}
	return f, nil
}

func (s Spec) duration(key string) (time.Duration, error) {
	v := s.Params.Get(key)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("camera: %s %q: want a duration such as 5s", key, v)
	}
	return d, nil
}

// startTimeout reads start_timeout: a duration, 0 (no retrying) or "forever".
func (s Spec) startTimeout(def time.Duration) (time.Duration, error) {
	v := s.Params.Get("start_timeout")
	switch v {
	case "":
		return def, nil
	case "forever":
		return Forever, nil
	case "0":
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("camera: start_timeout %q: want a duration such as 30s, 0 (fail at once) or forever", v)
	}
	return d, nil
}

// count reads a positive integer parameter, in bytes when binary is set (with an optional KiB or
// MiB suffix), returning def when it is absent.
func (s Spec) count(key string, def int, bytes bool) (int, error) {
	v := s.Params.Get(key)
	if v == "" {
		return def, nil
	}
	num, mult := v, 1
	if bytes {
		for suffix, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20} {
			if n, ok := strings.CutSuffix(v, suffix); ok {
				num, mult = n, m
			}
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > math.MaxInt32/mult {
		if bytes {
			return 0, fmt.Errorf("camera: %s %q: want a number of bytes, e.g. 4194304 or 4MiB", key, v)
		}
		return 0, fmt.Errorf("camera: %s %q: want a positive number", key, v)
	}
	return n * mult, nil
}

// Open opens a source from its string: "auto", "v4l2:/dev/video0?size=640x480&fps=30&format=yuyv",
// "rpicam:?size=1280x720&codec=yuv420", "file:cat.jpg", "dir:images/", "http://cam/stream.mjpg",
// "pattern:?size=640x480&fps=30&format=yu12". See the package documentation.
func Open(ctx context.Context, source string, o Options) (Source, error) {
	spec, err := ParseSpec(source)
	if err != nil {
		return nil, err
	}
	w, h, err := spec.size()
	if err != nil {
		return nil, err
	}
	fps, err := spec.float("fps")
	if err != nil {
		return nil, err
	}
	timeout, err := spec.duration("timeout")
	if err != nil {
		return nil, err
	}
	start, err := spec.startTimeout(o.StartTimeout)
	if err != nil {
		return nil, err
	}
	maxPixels, err := spec.count("max_pixels", o.MaxPixels, false)
	if err != nil {
		return nil, err
	}
	maxFrameBytes, err := spec.count("max_frame_bytes", o.MaxFrameBytes, true)
	if err != nil {
		return nil, err
	}
	var format PixelFormat
	if v := spec.Params.Get("format"); v != "" {
		if format, err = ParsePixelFormat(v); err != nil {
			return nil, err
		}
	}
	switch spec.Kind {
	case "auto":
		devs, _ := v4l2.List()
		if len(devs) > 0 {
			return OpenV4L2(ctx, devs[0].Path, V4L2Options{Log: o.Log, Backoff: o.Backoff, StartTimeout: start, OnState: o.OnState})
		}
		if o.Log != nil {
			o.Log.Info("camera: no V4L2 camera found; using the test pattern")
		}
		return NewPattern(YUYV, 640, 480, PatternRate)
	case "v4l2":
		n := 0
		if v := spec.Params.Get("buffers"); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n < 2 || n > 32 {
				return nil, fmt.Errorf("camera: buffers %q: want 2 to 32", v)
			}
		}
		return OpenV4L2(ctx, spec.Path, V4L2Options{Format: format, Width: w, Height: h, FPS: fps, Buffers: n, Timeout: timeout, Log: o.Log, Backoff: o.Backoff,
			StartTimeout: start, OnState: o.OnState})
	case "rpicam":
		ro := RPiCamOptions{Command: spec.Params.Get("cmd"), Codec: spec.Params.Get("codec"), Width: w, Height: h, FPS: fps,
			Timeout: timeout, Log: o.Log, Backoff: o.Backoff, StartTimeout: start, OnState: o.OnState}
		if v := spec.Params.Get("stride"); v != "" {
			if ro.Stride, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("camera: stride %q: want a number of bytes", v)
			}
		}
		if v := spec.Params.Get("args"); v != "" {
			ro.Args = strings.Fields(v)
		}
		return OpenRPiCam(ctx, ro)
	case "file":
		return NewFiles(spec.Path, FilesOptions{Loop: spec.Params.Get("loop") == "1" || spec.Params.Get("loop") == "true",
			FPS: fps, MaxPixels: maxPixels, Backoff: o.Backoff, OnState: o.OnState})
	case "dir":
		return NewFiles(spec.Path, FilesOptions{Dir: true, Loop: true, FPS: fps, MaxPixels: maxPixels,
			Backoff: o.Backoff, OnState: o.OnState})
	case "http":
		return OpenHTTP(ctx, spec.Path, HTTPOptions{Log: o.Log, Backoff: o.Backoff, Timeout: timeout, MaxFrameBytes: maxFrameBytes,
			MaxPixels: maxPixels, StartTimeout: start, OnState: o.OnState})
	case "pattern":
		if format == 0 {
			format = YUYV
		}
		if w == 0 {
			w, h = 640, 480
		}
		if !spec.Params.Has("fps") {
			fps = o.PatternFPS
		}
		return NewPattern(format, w, h, fps)
	}
	return nil, fmt.Errorf("camera: source %q: unknown kind", source)
}

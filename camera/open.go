package camera

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/camera/v4l2"
)

// Options are what Open passes to every source.
type Options struct {
	Log     *slog.Logger
	Backoff Backoff
}

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
		return Spec{Kind: "http", Path: s}, nil
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
		"v4l2":    {"size", "fps", "format", "buffers", "timeout"},
		"rpicam":  {"size", "fps", "codec", "cmd", "stride", "timeout", "args"},
		"file":    {"loop", "fps"},
		"dir":     {"fps"},
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
			return OpenV4L2(ctx, devs[0].Path, V4L2Options{Log: o.Log, Backoff: o.Backoff})
		}
		if o.Log != nil {
			o.Log.Info("camera: no V4L2 camera found; using the test pattern")
		}
		return NewPattern(YUYV, 640, 480, 30)
	case "v4l2":
		n := 0
		if v := spec.Params.Get("buffers"); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n < 2 || n > 32 {
				return nil, fmt.Errorf("camera: buffers %q: want 2 to 32", v)
			}
		}
		return OpenV4L2(ctx, spec.Path, V4L2Options{Format: format, Width: w, Height: h, FPS: fps, Buffers: n, Timeout: timeout, Log: o.Log, Backoff: o.Backoff})
	case "rpicam":
		ro := RPiCamOptions{Command: spec.Params.Get("cmd"), Codec: spec.Params.Get("codec"), Width: w, Height: h, FPS: fps,
			Timeout: timeout, Log: o.Log, Backoff: o.Backoff}
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
		return NewFile(spec.Path, spec.Params.Get("loop") == "1" || spec.Params.Get("loop") == "true", fps)
	case "dir":
		return NewDir(spec.Path, fps)
	case "http":
		return OpenHTTP(ctx, spec.Path, HTTPOptions{Log: o.Log, Backoff: o.Backoff})
	case "pattern":
		if format == 0 {
			format = YUYV
		}
		if w == 0 {
			w, h = 640, 480
		}
		return NewPattern(format, w, h, fps)
	}
	return nil, fmt.Errorf("camera: source %q: unknown kind", source)
}

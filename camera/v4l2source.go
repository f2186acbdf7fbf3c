package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeinfer/edgeinfer/camera/v4l2"
)

// V4L2Options configure a V4L2 camera. Zero values take the device's current format and rate.
type V4L2Options struct {
	Format        PixelFormat
	Width, Height int
	FPS           float64
	Buffers       int           // mmap buffers; default 4
	Timeout       time.Duration // longest wait for a frame before the device counts as lost; default 5 s
	Backoff       Backoff
	Log           *slog.Logger
	StartTimeout  time.Duration // see Options
	OnState       func(State)   // see Options
}

// OpenV4L2 opens a V4L2 capture device (a USB webcam, vivid) for streaming. The source takes the
// newest frame available at each Next, requeuing older ones, and reopens the device with backoff
// when it vanishes (USB unplugged) or stops sending frames.
func OpenV4L2(ctx context.Context, path string, o V4L2Options) (Source, error) {
	if o.Buffers == 0 {
		o.Buffers = 4
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	r := newReopener(path, o.Backoff, o.Log, func(ctx context.Context) (Source, error) { return openV4L2Once(path, o) })
	r.startTimeout, r.onState = o.StartTimeout, o.OnState
	// Open now, so that a wrong path or format is reported at once (or retried, with StartTimeout).
	return r.start(ctx)
}

// V4L2Stream is one open streaming session of a device (no reopening).
type v4l2Stream struct {
	mu      sync.Mutex
	dev     *v4l2.Device
	timeout time.Duration
	frame   Frame
	held    int // buffer index the caller holds, -1 if none
	clock   time.Time
	mono    time.Duration
	dropped uint64
}

func openV4L2Once(path string, o V4L2Options) (*v4l2Stream, error) {
	d, err := v4l2.Open(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*v4l2Stream, error) { d.Close(); return nil, err }
	pf, err := d.Format()
	if err != nil {
		return fail(err)
	}
	if o.Format != 0 || o.Width != 0 || o.Height != 0 {
		want := uint32(o.Format)
		if want == 0 {
			want = pf.PixelFormat
		}
		w, h := uint32(o.Width), uint32(o.Height)
		if w == 0 || h == 0 {
			w, h = pf.Width, pf.Height
		}
		if pf, err = d.SetFormat(want, w, h); err != nil {
			return fail(err)
		}
	}
	if gatherer(PixelFormat(pf.PixelFormat)) == nil && PixelFormat(pf.PixelFormat) != MJPEG {
		return fail(fmt.Errorf("camera: %s gives %s frames, which are not supported (yuyv, mjpeg, nv12, yu12, rgb24)", path, PixelFormat(pf.PixelFormat)))
	}
	if o.FPS > 0 {
		if _, err := d.SetFrameRate(o.FPS); err != nil {
			return fail(err)
		}
	}
	if err := d.Start(o.Buffers); err != nil {
		return fail(err)
	}
	s := &v4l2Stream{dev: d, timeout: o.Timeout, held: -1, clock: time.Now(), mono: v4l2.Monotonic()}
	s.frame = Frame{Format: PixelFormat(pf.PixelFormat), Width: int(pf.Width), Height: int(pf.Height),
		Stride: int(pf.BytesPerLine), ColorSpace: colorSpaceOf(pf)}
	return s, nil
}

// colorSpaceOf maps V4L2's colour description to the YUV matrix to use.
func colorSpaceOf(pf v4l2.PixFormat) ColorSpace {
	switch {
	case pf.Quantization == v4l2.QuantFullRange || pf.Colorspace == v4l2.ColorspaceJPEG:
		return JPEG
	case pf.YCbCrEnc == v4l2.YCbCrEnc709 || (pf.YCbCrEnc == 0 && pf.Colorspace == v4l2.ColorspaceRec709):
		return BT709
	}
	return BT601
}

func (s *v4l2Stream) Next(ctx context.Context) (*Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dev == nil {
		return nil, ErrClosed
	}
	if s.held >= 0 {
		if err := s.dev.Queue(s.held); err != nil {
			return nil, fmt.Errorf("camera: %w", err)
		}
		s.held = -1
	}
	// Wait in slices, so that a cancelled context is noticed.
	deadline := time.Now().Add(s.timeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait := min(time.Until(deadline), 250*time.Millisecond)
		b, dropped, err := s.dev.Dequeue(max(wait, time.Millisecond), true)
		if errors.Is(err, v4l2.ErrTimeout) && time.Now().Before(deadline) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("camera: %w", err)
		}
		s.held = b.Index
		s.dropped += uint64(dropped)
		f := &s.frame
		f.Data = b.Data
		f.Sequence = uint64(b.Sequence)
		f.Timestamp = s.clock.Add(b.Timestamp - s.mono)
		if b.Error {
			return nil, &FrameError{Sequence: f.Sequence, Err: errors.New("the driver marked the buffer as corrupt")}
		}
		if f.Format != MJPEG && len(f.Data) < FrameSize(f.Format, f.Width, f.Height, f.Stride) {
			return nil, &FrameError{Sequence: f.Sequence, Err: fmt.Errorf("short frame: %d bytes, want %d", len(f.Data), FrameSize(f.Format, f.Width, f.Height, f.Stride))}
		}
		return f, nil
	}
}

func (s *v4l2Stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dev == nil {
		return nil
	}
	err := s.dev.Close()
	s.dev = nil
	return err
}

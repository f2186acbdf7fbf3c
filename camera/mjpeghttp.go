package camera

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"
)

// HTTPOptions configure an MJPEG-over-HTTP camera.
type HTTPOptions struct {
	Client  *http.Client  // default: http.DefaultClient
	Timeout time.Duration // longest wait for a frame; default 10 s
	Backoff Backoff
	Log     *slog.Logger
	// MaxFrameBytes bounds a part of the stream (one JPEG); default DefaultMaxFrameBytes. A longer
	// part is a *FrameError, kept no further than the limit and skipped; one that goes on past 8
	// times the limit without its closing boundary drops the connection, which is opened again.
	MaxFrameBytes int
	// MaxPixels bounds a frame's width*height, read from its JPEG header before anything decodes
	// it; default DefaultStreamPixels. A larger frame is a *FrameError.
	MaxPixels int
	// StartTimeout, OnState: see Options.
	StartTimeout time.Duration
	OnState      func(State)
}

// DefaultMaxFrameBytes bounds one JPEG of an MJPEG stream: 1 MiB (a 1080p frame is 100 to 500 KiB).
const DefaultMaxFrameBytes = 1 << 20

// DefaultStreamPixels bounds the frames of an MJPEG stream: 2 Mpx (1<<21), 1920x1080 included.
// Decoding a frame takes 1.5 (4:2:0) to 3 (4:4:4) bytes a pixel; at this size, with frames of at
// most DefaultMaxFrameBytes, 'edgeinfer run' stays under 64 MB of RSS whatever the camera sends
// (measured VmHWM with the status page on: 38 MiB for 1080p 4:2:0, 43 MiB for 4:4:4, 53 MiB for
// 4:4:4 frames padded to 1 MiB). 4K 4:2:0 frames (max_pixels=8388608) measured 62 MiB.
const DefaultStreamPixels = 1 << 21

// skipFactor: an oversized part is skipped (the stream goes on) if it ends within skipFactor times
// the limit; otherwise the connection is dropped and opened again.
const skipFactor = 8

// OpenHTTP reads an MJPEG stream over HTTP, as IP cameras serve it (multipart/x-mixed-replace, one
// JPEG per part), or a single JPEG (a snapshot URL, fetched again for each frame). A dropped
// connection is reopened with backoff.
func OpenHTTP(ctx context.Context, url string, o HTTPOptions) (Source, error) {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultStreamPixels
	}
	open := func(ctx context.Context) (Source, error) { return openHTTPOnce(ctx, url, o) }
	r := newReopener(url, o.Backoff, o.Log, open)
	r.startTimeout, r.onState = o.StartTimeout, o.OnState
	return r.start(ctx)
}

type httpStream struct {
	mu     sync.Mutex
	url    string
	o      HTTPOptions
	cancel context.CancelFunc
	body   io.ReadCloser
	parts  *multipart.Reader // nil: a single JPEG per request
	timer  *time.Timer
	frame  Frame
	buf    []byte // the current part; its capacity never exceeds MaxFrameBytes+1
	seq    uint64
	closed bool
	broken error // set after a part too long to skip: Next gives it, and the reopener reconnects
}

func openHTTPOnce(ctx context.Context, url string, o HTTPOptions) (*httpStream, error) {
	rctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("camera: %w", err)
	}
	// The connection must not outlive a silent camera: cancel the request if no frame comes.
	timer := time.AfterFunc(o.Timeout, cancel)
	stop := context.AfterFunc(ctx, cancel) // the caller gave up while connecting
	resp, err := o.Client.Do(req)
	stop()
	if err != nil {
		timer.Stop()
		cancel()
		return nil, fmt.Errorf("camera: %s: %w", url, err)
	}
	fail := func(err error) (*httpStream, error) { timer.Stop(); resp.Body.Close(); cancel(); return nil, err }
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("camera: %s: %s", url, resp.Status))
	}
	s := &httpStream{url: url, o: o, cancel: cancel, body: resp.Body, timer: timer,
		frame: Frame{Format: MJPEG, ColorSpace: JPEG}}
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		b := strings.TrimPrefix(params["boundary"], "--") // some cameras repeat the dashes
		if b == "" {
			return fail(fmt.Errorf("camera: %s: multipart stream without a boundary", url))
		}
		s.parts = multipart.NewReader(bufio.NewReaderSize(resp.Body, 1<<16), b)
	case mt == "image/jpeg":
	default:
		return fail(fmt.Errorf("camera: %s: content type %q is neither an MJPEG stream (multipart/x-mixed-replace) nor image/jpeg", url, mt))
	}
	return s, nil
}

func (s *httpStream) Next(ctx context.Context) (*Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.timer.Reset(s.o.Timeout)
	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()
	if s.broken != nil {
		return nil, s.broken
	}
	var part io.Reader = s.body
	if s.parts == nil {
		if s.seq > 0 { // a snapshot URL: one image per request
			return nil, errSnapshotDone
		}
	} else {
		p, err := s.parts.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("camera: %s: the stream ended", s.url) // not io.EOF: reconnect
		}
		if err != nil {
			return nil, fmt.Errorf("camera: %s: %w", s.url, err)
		}
		part = p
	}
	// Read one byte more than allowed, never more: a part without its closing boundary must not
	// fill the memory.
	limit := int64(s.o.MaxFrameBytes)
	if err := s.readPart(part); err != nil {
		return nil, fmt.Errorf("camera: %s: %w", s.url, err)
	}
	seq := s.seq
	s.seq++
	if int64(len(s.buf)) > limit {
		ferr := &FrameError{Sequence: seq, Err: fmt.Errorf("%s: frame larger than the %d bytes allowed (max_frame_bytes)", s.url, limit)}
		if s.parts == nil {
			return nil, ferr // a snapshot: the next Next fetches it again
		}
		// Skip the rest of the part, if it ends within reason; else drop the connection.
		n, err := io.CopyN(io.Discard, part, (skipFactor-1)*limit)
		if err == nil && n == (skipFactor-1)*limit {
			s.broken = fmt.Errorf("camera: %s: a part went on for more than %d bytes without its boundary; reconnecting", s.url, skipFactor*limit)
		} else if err != nil && !errors.Is(err, io.EOF) {
			s.broken = fmt.Errorf("camera: %s: %w", s.url, err)
		}
		return nil, ferr
	}
	f := &s.frame
	f.Data, f.Sequence, f.Timestamp = s.buf, seq, time.Now()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil {
		return nil, &FrameError{Sequence: f.Sequence, Err: fmt.Errorf("%s: not a JPEG image: %w", s.url, err)}
	}
	// MJPEG is baseline JPEG. Decoding a progressive one keeps all its coefficients (4 bytes a
	// pixel and component) on top of the image: too much to allow from a camera.
	if progressiveJPEG(f.Data) {
		return nil, &FrameError{Sequence: f.Sequence, Err: fmt.Errorf("%s: a progressive JPEG of %dx%d pixels; MJPEG streams are baseline JPEG", s.url, cfg.Width, cfg.Height)}
	}
	// Refuse absurd dimensions before anything decodes the frame and allocates for them.
	if int64(cfg.Width)*int64(cfg.Height) > int64(s.o.MaxPixels) {
		return nil, &FrameError{Sequence: f.Sequence, Err: fmt.Errorf("%s: frame of %dx%d pixels is larger than the %d allowed (max_pixels)", s.url, cfg.Width, cfg.Height, s.o.MaxPixels)}
	}
	f.Width, f.Height = cfg.Width, cfg.Height
	return f, nil
}

// readPart reads r into s.buf, at most MaxFrameBytes+1 bytes: the buffer grows (doubling) up to
// that and no further, and is reused for the next part.
func (s *httpStream) readPart(r io.Reader) error {
	limit := s.o.MaxFrameBytes + 1
	b := s.buf[:0]
	for len(b) < limit {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(max(2*cap(b), 64<<10), limit))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			s.buf = b
			return err
		}
	}
	s.buf = b
	return nil
}

// progressiveJPEG reports whether the JPEG's frame header is a progressive one (SOF2, SOF6, SOF10,
// SOF14), walking the marker segments that come before it.
func progressiveJPEG(b []byte) bool {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return false
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return false
		}
		m := b[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0x01 || m >= 0xd0 && m <= 0xd7: // standalone markers
			i += 2
			continue
		case m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce:
			return true
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc, m == 0xda:
			return false // another frame header, or the scan: baseline or sequential
		}
		i += 2 + (int(b[i+2])<<8 | int(b[i+3]))
	}
	return false
}

// errSnapshotDone ends a snapshot URL's single-image response; the reopener fetches it again.
var errSnapshotDone = errors.New("camera: snapshot read; fetching again")

func (s *httpStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.timer.Stop()
		s.cancel()
		s.body.Close()
	}
	return nil
}

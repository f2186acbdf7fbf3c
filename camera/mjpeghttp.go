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
}

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
	open := func(ctx context.Context) (Source, error) { return openHTTPOnce(ctx, url, o) }
	s, err := openHTTPOnce(ctx, url, o)
	if err != nil {
		return nil, err
	}
	r := newReopener(url, o.Backoff, o.Log, open)
	r.cur = s
	return r, nil
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
	buf    bytes.Buffer
	seq    uint64
	closed bool
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
	s.buf.Reset()
	if s.parts == nil {
		if s.seq > 0 { // a snapshot URL: one image per request
			return nil, errSnapshotDone
		}
		if _, err := s.buf.ReadFrom(s.body); err != nil {
			return nil, fmt.Errorf("camera: %s: %w", s.url, err)
		}
	} else {
		part, err := s.parts.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("camera: %s: the stream ended", s.url) // not io.EOF: reconnect
		}
		if err != nil {
			return nil, fmt.Errorf("camera: %s: %w", s.url, err)
		}
		_, err = s.buf.ReadFrom(part)
		if err != nil {
			return nil, fmt.Errorf("camera: %s: %w", s.url, err)
		}
	}
	f := &s.frame
	f.Data, f.Sequence, f.Timestamp = s.buf.Bytes(), s.seq, time.Now()
	s.seq++
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil {
		return nil, &FrameError{Sequence: f.Sequence, Err: fmt.Errorf("%s: not a JPEG image: %w", s.url, err)}
	}
	f.Width, f.Height = cfg.Width, cfg.Height
	return f, nil
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

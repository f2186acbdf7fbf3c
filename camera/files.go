package camera

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// FilesOptions configure a Files source.
type FilesOptions struct {
	// Dir says the path is a directory: its images, in name order, listed again at each pass (at
	// most once a second while they can be read) so that files added later are seen.
	Dir bool
	// Loop gives the images over and over; else io.EOF follows the last one. A directory loops.
	Loop bool
	// FPS paces the frames when set; else they come as fast as they decode.
	FPS float64
	// MaxPixels bounds an image's width*height (default MaxImagePixels).
	MaxPixels int
	// Backoff is the wait before each new attempt once every image of a pass has failed to load
	// (the files removed, a directory emptied): it starts at Min and doubles up to Max, and an image
	// read resets it. Default DefaultBackoff.
	Backoff Backoff
	// OnState: see Options. A source is lost when a whole pass failed, back with the next image.
	OnState func(State)
}

// relistEvery is the longest a directory source goes, while its images can be read, without
// listing the directory again.
const relistEvery = time.Second

// Files is a source that gives images from files: one image (once, or looping), or every image of
// a directory in name order, looping. JPEG files are MJPEG frames, decoded where they are used
// (straight into the input tensor: no decoded copies to keep); PNG and BMP files are RGB24 frames.
// A file that cannot be decoded is a *FrameError and the next file follows; when none of them can
// be read, each further attempt waits longer (FilesOptions.Backoff). It paces itself to FPS when
// set.
type Files struct {
	mu     sync.Mutex
	path   string // the file or directory
	o      FilesOptions
	paths  []string
	listed time.Time
	next   time.Time
	i      int
	seq    uint64
	failed int           // images that failed to load since the last one read
	wait   time.Duration // backoff before the next attempt, once a whole pass failed
	state  stateReporter
	frame  Frame
	raw    []byte // the last JPEG file read
	rgb    []byte // the last other image, converted
	closed bool
}

// maxFileBytes bounds a JPEG file read whole.
const maxFileBytes = 64 << 20

// imageExts are the file names a directory source picks up.
var imageExts = []string{".jpg", ".jpeg", ".png", ".bmp"}

// NewFile gives the image at path, once (then io.EOF), or over and over when loop is set.
func NewFile(path string, loop bool, fps float64) (*Files, error) {
	return NewFiles(path, FilesOptions{Loop: loop, FPS: fps})
}

// NewDir gives the images of a directory (.jpg, .jpeg, .png, .bmp) in name order, looping.
func NewDir(dir string, fps float64) (*Files, error) {
	return NewFiles(dir, FilesOptions{Dir: true, Loop: true, FPS: fps})
}

// NewFiles opens a file or directory source. The file must exist, and the directory must hold
// images, now: a missing path at start is a mistake to report, not a camera to wait for.
func NewFiles(path string, o FilesOptions) (*Files, error) {
	if o.Backoff.Min <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = MaxImagePixels
	}
	s := &Files{path: path, o: o, state: stateReporter{name: path, onState: o.OnState}}
	if !o.Dir {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("camera: %w", err)
		}
		s.paths = []string{path}
		return s, nil
	}
	o.Loop = true
	s.o.Loop = true
	if err := s.list(); err != nil {
		return nil, err
	}
	if len(s.paths) == 0 {
		return nil, fmt.Errorf("camera: %s: no images (%s)", path, strings.Join(imageExts, ", "))
	}
	return s, nil
}

// list reads the directory's image names into s.paths.
func (s *Files) list() error {
	s.listed = time.Now()
	ents, err := os.ReadDir(s.path)
	if err != nil {
		return fmt.Errorf("camera: %w", err)
	}
	s.paths = s.paths[:0]
	for _, e := range ents {
		if !e.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
			s.paths = append(s.paths, filepath.Join(s.path, e.Name()))
		}
	}
	return nil
}

// Next decodes the next image.
func (s *Files) Next(ctx context.Context) (*Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.i >= len(s.paths) {
		if !s.o.Loop {
			return nil, io.EOF
		}
		s.i = 0
		if s.o.Dir && (s.failed > 0 || time.Since(s.listed) >= relistEvery) {
			if err := s.list(); err != nil {
				s.paths = s.paths[:0]
			}
		}
	}
	// Once every image of a pass has failed, wait before each new attempt.
	if s.failed > 0 && s.failed >= len(s.paths) {
		if s.wait == 0 {
			s.wait = s.o.Backoff.Min
		}
		if err := sleep(ctx, s.wait); err != nil {
			return nil, err
		}
		s.wait = min(2*s.wait, s.o.Backoff.Max)
	}
	if len(s.paths) == 0 { // a directory emptied (or gone): list it again after the wait
		err := s.list()
		s.i = 0
		if len(s.paths) == 0 {
			if err == nil {
				err = fmt.Errorf("%s: no images (%s)", s.path, strings.Join(imageExts, ", "))
			}
			seq := s.seq
			s.seq++
			s.failed++
			s.state.set(true, err)
			return nil, &FrameError{Sequence: seq, Err: err}
		}
	}
	if s.o.FPS > 0 {
		now := time.Now()
		if d := s.next.Sub(now); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return nil, err
			}
		}
		if s.next.Before(now) {
			s.next = now
		}
		s.next = s.next.Add(time.Duration(float64(time.Second) / s.o.FPS))
	}
	path := s.paths[s.i]
	s.i++
	seq := s.seq
	s.seq++
	if f, err := s.readJPEG(path, seq); f != nil || err != nil {
		return s.result(f, err, seq)
	}
	img, err := loadImage(path, s.o.MaxPixels)
	if err != nil {
		return s.result(nil, err, seq)
	}
	rgba := rgbaOf(img)
	w, h := rgba.Rect.Dx(), rgba.Rect.Dy()
	need := 3 * w * h
	if cap(s.rgb) < need {
		s.rgb = make([]byte, need)
	}
	s.frame = Frame{Format: RGB24, Width: w, Height: h, Stride: 3 * w, Data: s.rgb[:need],
		Sequence: seq, Timestamp: time.Now(), ColorSpace: JPEG}
	for y := 0; y < h; y++ {
		src := rgba.Pix[y*rgba.Stride:]
		dst := s.frame.Data[y*3*w:]
		for x := 0; x < w; x++ {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
		}
	}
	return s.result(&s.frame, nil, seq)
}

// result accounts for a file's frame or error.
func (s *Files) result(f *Frame, err error, seq uint64) (*Frame, error) {
	if err != nil {
		s.failed++
		if s.failed >= len(s.paths) {
			s.state.set(true, err)
		}
		return nil, &FrameError{Sequence: seq, Err: err}
	}
	s.failed, s.wait = 0, 0
	if s.state.lost {
		s.state.set(false, nil)
	}
	return f, nil
}

// readJPEG reads the file at path and, if it is a JPEG, returns it as an MJPEG frame after checking
// its header (its size in pixels, before anything decodes it). It returns nil, nil for other files.
func (s *Files) readJPEG(path string, seq uint64) (*Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != [2]byte{0xff, 0xd8} {
		return nil, nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("camera: %s: a JPEG file of %d bytes, more than the %d allowed", path, st.Size(), maxFileBytes)
	}
	n := int(st.Size())
	if cap(s.raw) < n {
		s.raw = make([]byte, n)
	}
	s.raw = s.raw[:n]
	copy(s.raw, magic[:])
	if _, err := io.ReadFull(f, s.raw[2:]); err != nil {
		return nil, fmt.Errorf("camera: %s: %w", path, err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(s.raw))
	if err != nil {
		return nil, decodeError(path, f, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(s.o.MaxPixels) {
		return nil, fmt.Errorf("camera: %s: image of %dx%d pixels is larger than the %d allowed (max_pixels)", path, cfg.Width, cfg.Height, s.o.MaxPixels)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("camera: %s: empty JPEG image", path)
	}
	s.frame = Frame{Format: MJPEG, Width: cfg.Width, Height: cfg.Height, Data: s.raw, Sequence: seq,
		Timestamp: time.Now(), ColorSpace: JPEG}
	return &s.frame, nil
}

// Close ends the source.
func (s *Files) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

var _ Source = (*Files)(nil)

package camera

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Files is a source that gives images from files as RGB24 frames: one image (once, or looping), or
// every image of a directory in name order, looping. A file that cannot be decoded is a *FrameError
// and the next file follows. It paces itself to FPS when set.
type Files struct {
	mu     sync.Mutex
	paths  []string
	loop   bool
	fps    float64
	next   time.Time
	i      int
	seq    uint64
	frame  Frame
	closed bool
}

// imageExts are the file names a directory source picks up.
var imageExts = []string{".jpg", ".jpeg", ".png", ".bmp"}

// NewFile gives the image at path, once (then io.EOF), or over and over when loop is set.
func NewFile(path string, loop bool, fps float64) (*Files, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	return &Files{paths: []string{path}, loop: loop, fps: fps}, nil
}

// NewDir gives the images of a directory (.jpg, .jpeg, .png, .bmp) in name order, looping.
func NewDir(dir string, fps float64) (*Files, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	var paths []string
	for _, e := range ents {
		if !e.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("camera: %s: no images (%s)", dir, strings.Join(imageExts, ", "))
	}
	return &Files{paths: paths, loop: true, fps: fps}, nil
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
		if !s.loop {
			return nil, io.EOF
		}
		s.i = 0
	}
	if s.fps > 0 {
		now := time.Now()
		if d := s.next.Sub(now); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return nil, err
			}
		}
		if s.next.Before(now) {
			s.next = now
		}
		s.next = s.next.Add(time.Duration(float64(time.Second) / s.fps))
	}
	path := s.paths[s.i]
	s.i++
	seq := s.seq
	s.seq++
	img, err := LoadImage(path)
	if err != nil {
		return nil, &FrameError{Sequence: seq, Err: err}
	}
	rgba := rgbaOf(img)
	w, h := rgba.Rect.Dx(), rgba.Rect.Dy()
	need := 3 * w * h
	if cap(s.frame.Data) < need {
		s.frame.Data = make([]byte, need)
	}
	s.frame = Frame{Format: RGB24, Width: w, Height: h, Stride: 3 * w, Data: s.frame.Data[:need],
		Sequence: seq, Timestamp: time.Now(), ColorSpace: JPEG}
	for y := 0; y < h; y++ {
		src := rgba.Pix[y*rgba.Stride:]
		dst := s.frame.Data[y*3*w:]
		for x := 0; x < w; x++ {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
		}
	}
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

// Package cameratest provides a fake camera.Source for tests of code that consumes frames (the
// classify loop, pipelines): frames are given in order from a list, with errors injected where the
// test says, and calls are counted.
package cameratest

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/edgeinfer/edgeinfer/camera"
)

// Source gives Frames in order, then io.EOF (or loops when Loop is set). Errs[i], when set, is
// returned instead of frame i. Set the exported fields before the first Next.
type Source struct {
	Frames []*camera.Frame
	Errs   map[int]error
	Loop   bool

	mu     sync.Mutex
	i      int
	Calls  int
	Closed bool
}

// New returns a source of the given frames.
func New(frames ...*camera.Frame) *Source { return &Source{Frames: frames} }

// Pattern makes n frames of the camera's test pattern in the given format and size.
func Pattern(format camera.PixelFormat, w, h, n int) ([]*camera.Frame, error) {
	p, err := camera.NewPattern(format, w, h, 0)
	if err != nil {
		return nil, err
	}
	out := make([]*camera.Frame, n)
	for i := range out {
		f, err := p.Next(context.Background())
		if err != nil {
			return nil, err
		}
		c := *f
		c.Data = append([]byte(nil), f.Data...)
		out[i] = &c
	}
	return out, nil
}

// Next returns the next frame or the injected error.
func (s *Source) Next(ctx context.Context) (*camera.Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls++
	if s.Closed {
		return nil, camera.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.i >= len(s.Frames) {
		if !s.Loop || len(s.Frames) == 0 {
			return nil, io.EOF
		}
		s.i = 0
	}
	i := s.i
	s.i++
	if err := s.Errs[i]; err != nil {
		return nil, err
	}
	f := s.Frames[i]
	if f == nil {
		return nil, fmt.Errorf("cameratest: frame %d is nil", i)
	}
	return f, nil
}

// Close marks the source closed.
func (s *Source) Close() error {
	s.mu.Lock()
	s.Closed = true
	s.mu.Unlock()
	return nil
}

var _ camera.Source = (*Source)(nil)

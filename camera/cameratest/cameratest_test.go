package cameratest

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/edgeinfer/edgeinfer/camera"
)

func TestSource(t *testing.T) {
	frames, err := Pattern(camera.YUYV, 32, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	bad := &camera.FrameError{Sequence: 1, Err: errors.New("glitch")}
	s := &Source{Frames: frames, Errs: map[int]error{1: bad}}
	ctx := context.Background()
	if f, err := s.Next(ctx); err != nil || f.Sequence != 0 {
		t.Fatalf("frame 0: %v %v", f, err)
	}
	if _, err := s.Next(ctx); !camera.IsFrameError(err) {
		t.Fatalf("frame 1: %v, want the injected frame error", err)
	}
	if f, err := s.Next(ctx); err != nil || f.Sequence != 2 {
		t.Fatalf("frame 2: %v", err)
	}
	if _, err := s.Next(ctx); err != io.EOF {
		t.Fatalf("after the frames: %v", err)
	}
	s.Close()
	if _, err := s.Next(ctx); err != camera.ErrClosed || s.Calls != 5 {
		t.Fatalf("after Close: %v, %d calls", err, s.Calls)
	}
}

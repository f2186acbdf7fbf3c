package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"sync"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
)

// frameCopy keeps a copy of a recent frame, for the status page's image and the snapshots, in a
// buffer reused from one copy to the next: copying allocates only when a frame is bigger than any
// before it.
type frameCopy struct {
	mu    sync.Mutex
	f     camera.Frame
	label string
	taken time.Time
}

// take copies f unless the copy is busy being encoded (it never waits). It reports whether it
// copied.
func (c *frameCopy) take(f *camera.Frame, label string, now time.Time) bool {
	if !c.mu.TryLock() {
		return false
	}
	data := c.f.Data
	if cap(data) < len(f.Data) {
		data = make([]byte, len(f.Data), len(f.Data)+len(f.Data)/4) // room for bigger MJPEG frames
	}
	c.f = *f
	c.f.Data = data[:len(f.Data)]
	copy(c.f.Data, f.Data)
	c.label, c.taken = label, now
	c.mu.Unlock()
	return true
}

var errNoFrame = errors.New("pipeline: no frame yet")

// jpeg encodes the copy as a JPEG of at most maxBytes (0: no limit), starting at quality and
// lowering it down to 30 until the image fits. It returns the frame's sequence number and label.
func (c *frameCopy) jpeg(quality, maxBytes int) ([]byte, uint64, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.Data == nil {
		return nil, 0, "", errNoFrame
	}
	img, err := c.f.Image()
	if err != nil {
		return nil, 0, "", err
	}
	var b bytes.Buffer
	for q := quality; ; q -= 15 {
		b.Reset()
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: max(q, 1)}); err != nil {
			return nil, 0, "", fmt.Errorf("pipeline: JPEG of frame %d: %w", c.f.Sequence, err)
		}
		if maxBytes == 0 || b.Len() <= maxBytes {
			return b.Bytes(), c.f.Sequence, c.label, nil
		}
		if q <= 30 {
			return nil, 0, "", fmt.Errorf("pipeline: JPEG of frame %d (%dx%d): %d bytes at quality %d, over snapshot.max_bytes %d",
				c.f.Sequence, c.f.Width, c.f.Height, b.Len(), q, maxBytes)
		}
	}
}

package camera

import (
	"context"
	"image"
	"sync"
	"time"
)

// Pattern is a generated test pattern: eight colour bars with a white square that moves a little
// every frame, so consecutive frames differ. It paces itself to FPS (0: as fast as asked).
type Pattern struct {
	mu    sync.Mutex
	img   *image.RGBA
	frame *Frame
	fps   float64
	next  time.Time
	seq   uint64
	done  bool
	timer *time.Timer
}

// Colour bars of the test pattern, left to right.
var patternBars = [8][3]byte{{255, 255, 255}, {255, 255, 0}, {0, 255, 255}, {0, 255, 0}, {255, 0, 255}, {255, 0, 0}, {0, 0, 255}, {0, 0, 0}}

// NewPattern makes a test-pattern source of the given format (YUYV, YU12, NV12 or RGB24) and size.
func NewPattern(format PixelFormat, width, height int, fps float64) (*Pattern, error) {
	f, err := NewFrame(format, width, height, 0)
	if err != nil {
		return nil, err
	}
	return &Pattern{img: image.NewRGBA(image.Rect(0, 0, width, height)), frame: f, fps: fps}, nil
}

// Next draws the next frame, after waiting for its time when FPS is set.
func (p *Pattern) Next(ctx context.Context) (*Frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return nil, ErrClosed
	}
	if p.fps > 0 {
		now := time.Now()
		if p.next.IsZero() {
			p.next = now
		}
		if d := p.next.Sub(now); d > 0 {
			if p.timer == nil {
				p.timer = time.NewTimer(d)
			} else {
				p.timer.Reset(d)
			}
			select {
			case <-ctx.Done():
				p.timer.Stop()
				return nil, ctx.Err()
			case <-p.timer.C:
			}
		} else if d < -time.Second {
			p.next = now // far behind: do not burst
		}
		p.next = p.next.Add(time.Duration(float64(time.Second) / p.fps))
	} else if err := ctx.Err(); err != nil {
		return nil, err
	}
	drawPattern(p.img, p.seq)
	if err := p.frame.Encode(p.img); err != nil {
		return nil, err
	}
	p.frame.Sequence = p.seq
	p.frame.Timestamp = time.Now()
	p.seq++
	return p.frame, nil
}

func drawPattern(img *image.RGBA, seq uint64) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	side := max(min(w, h)/6, 1)
	travel := max(w-side, 1)
	sx := int(seq*4) % travel
	sy := (h - side) / 2
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := 0; x < w; x++ {
			c := patternBars[x*8/w]
			if x >= sx && x < sx+side && y >= sy && y < sy+side {
				c = [3]byte{255, 255, 255}
				if (x-sx)*2 < side { // half grey, so the square shows on the white bar
					c = [3]byte{128, 128, 128}
				}
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c[0], c[1], c[2], 255
		}
	}
}

// Close ends the source.
func (p *Pattern) Close() error {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
	return nil
}

var _ Source = (*Pattern)(nil)

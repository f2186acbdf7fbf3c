//go:build !linux

package v4l2

import (
	"errors"
	"time"
)

// ErrUnsupported is returned on systems without V4L2.
var ErrUnsupported = errors.New("v4l2: Video4Linux2 exists only on Linux")

// ErrTimeout is returned by Dequeue when no frame came in time.
var ErrTimeout = errors.New("v4l2: timeout")

type PixFormat struct {
	Width, Height, PixelFormat, Field, BytesPerLine, SizeImage, Colorspace, Priv, Flags, YCbCrEnc, Quantization, XferFunc uint32
}

type Device struct{ Path, Driver, Card string }

type FormatDesc struct {
	FourCC      uint32
	Description string
	Compressed  bool
	Sizes       []FrameSize
}

type FrameSize struct {
	Width, Height, MaxWidth, MaxHeight, Step uint32
	FPS                                      []float64
}

type Buffer struct {
	Index     int
	Data      []byte
	Sequence  uint32
	Timestamp time.Duration
	Error     bool
}

type Info struct {
	Path, Driver, Card string
	Formats            []FormatDesc
}

func Open(path string) (*Device, error)                       { return nil, ErrUnsupported }
func List() ([]Info, error)                                   { return nil, nil }
func Monotonic() time.Duration                                { return 0 }
func (d *Device) Formats() ([]FormatDesc, error)              { return nil, ErrUnsupported }
func (d *Device) SetFormat(f, w, h uint32) (PixFormat, error) { return PixFormat{}, ErrUnsupported }
func (d *Device) Format() (PixFormat, error)                  { return PixFormat{}, ErrUnsupported }
func (d *Device) SetFrameRate(fps float64) (float64, error)   { return 0, ErrUnsupported }
func (d *Device) FrameRate() (float64, error)                 { return 0, ErrUnsupported }
func (d *Device) Start(n int) error                           { return ErrUnsupported }
func (d *Device) Queue(i int) error                           { return ErrUnsupported }
func (d *Device) Close() error                                { return nil }
func (d *Device) Dequeue(t time.Duration, l bool) (Buffer, int, error) {
	return Buffer{}, 0, ErrUnsupported
}

package camera

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"
)

// PixelFormat is a frame's pixel layout, as a V4L2 fourcc code.
type PixelFormat uint32

func fourcc(a, b, c, d byte) PixelFormat {
	return PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// The pixel formats frames come in (V4L2's names and codes).
var (
	// YUYV is packed 4:2:2: Y0 U Y1 V for each pair of pixels.
	YUYV = fourcc('Y', 'U', 'Y', 'V')
	// YU12 (I420, yuv420p) is planar 4:2:0: the Y plane, then U and V planes of half the width and
	// height, each of whose lines is Stride/2 bytes.
	YU12 = fourcc('Y', 'U', '1', '2')
	// NV12 is semi-planar 4:2:0: the Y plane, then one plane of interleaved U V pairs, Stride bytes a line.
	NV12 = fourcc('N', 'V', '1', '2')
	// RGB24 is packed R G B bytes (V4L2's RGB3).
	RGB24 = fourcc('R', 'G', 'B', '3')
	// MJPEG frames are each a complete JPEG image; Stride is not used.
	MJPEG = fourcc('M', 'J', 'P', 'G')
	// rgba32 is image.RGBA's layout, used internally for decoded images.
	rgba32 = fourcc('A', 'B', '2', '4')
	// ycbcr is a decoded JPEG (Frame.ycc, any chroma subsampling), used internally.
	ycbcr = fourcc('Y', 'C', 'C', 'g')
)

// String gives the format's name (YUYV, MJPEG, ...) or its fourcc.
func (f PixelFormat) String() string {
	switch f {
	case MJPEG:
		return "MJPEG"
	case RGB24:
		return "RGB24"
	case rgba32:
		return "RGBA"
	}
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("fourcc(%#08x)", uint32(f))
		}
	}
	return string(b)
}

// ParsePixelFormat reads a format name as users write it: yuyv, mjpeg (or mjpg), nv12, yu12 (or
// i420, yuv420), rgb24 (or rgb3).
func ParsePixelFormat(s string) (PixelFormat, error) {
	switch s {
	case "yuyv", "YUYV":
		return YUYV, nil
	case "mjpeg", "mjpg", "MJPEG", "MJPG":
		return MJPEG, nil
	case "nv12", "NV12":
		return NV12, nil
	case "yu12", "i420", "yuv420", "YU12", "I420":
		return YU12, nil
	case "rgb24", "rgb3", "RGB24", "RGB3":
		return RGB24, nil
	}
	return 0, fmt.Errorf("camera: unknown pixel format %q (yuyv, mjpeg, nv12, yu12, rgb24)", s)
}

// ColorSpace says how a YUV frame's bytes map to RGB. The zero value is BT.601 limited range, what
// most USB webcams send.
type ColorSpace uint8

const (
	BT601 ColorSpace = iota // BT.601 (SMPTE 170M), Y in [16, 235]
	BT709                   // BT.709 (Rec. 709), Y in [16, 235]
	JPEG                    // BT.601 full range (JFIF, sYCC): Y in [0, 255]
)

// Frame is one picture from a Source. Data holds the pixels: Height lines of Stride bytes for the
// first plane, then the chroma planes of planar formats (see the PixelFormat constants), or one JPEG
// image for MJPEG. Frames a Source returns are borrowed: Data stays valid until the next call to
// Next or Close.
type Frame struct {
	Format        PixelFormat
	Width, Height int
	Stride        int // bytes from one line of the first plane to the next
	ColorSpace    ColorSpace
	Data          []byte
	Timestamp     time.Time
	Sequence      uint64 // counts frames from the camera; a gap means frames were dropped

	ycc *image.YCbCr // the pixels of an internal ycbcr frame (Data is not used)
}

// Source is a camera, or anything that gives frames like one.
type Source interface {
	// Next waits for the next frame. Errors that affect only this frame (a truncated JPEG, a short
	// read) are *FrameError and the stream goes on; other errors end it.
	Next(ctx context.Context) (*Frame, error)
	Close() error
}

// FrameError is a bad frame: the caller may skip it and call Next again.
type FrameError struct {
	Sequence uint64
	Err      error
}

func (e *FrameError) Error() string { return fmt.Sprintf("camera: frame %d: %v", e.Sequence, e.Err) }
func (e *FrameError) Unwrap() error { return e.Err }

// IsFrameError reports whether err spoils only one frame.
func IsFrameError(err error) bool {
	var fe *FrameError
	return errors.As(err, &fe)
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("camera: source closed")

// check validates the frame's geometry against its format and data length.
func (f *Frame) check() error {
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("camera: %s frame of %dx%d pixels", f.Format, f.Width, f.Height)
	}
	var minStride, size int
	switch f.Format {
	case YUYV:
		minStride = 2 * (f.Width + f.Width%2)
		size = f.Stride * f.Height
	case YU12:
		minStride = f.Width
		ch := (f.Height + 1) / 2
		size = f.Stride*f.Height + 2*(f.Stride/2)*ch
		if f.Stride%2 != 0 {
			return fmt.Errorf("camera: YU12 frame stride %d is odd", f.Stride)
		}
	case NV12:
		minStride = f.Width + f.Width%2
		size = f.Stride*f.Height + f.Stride*((f.Height+1)/2)
	case RGB24:
		minStride = 3 * f.Width
		size = f.Stride*(f.Height-1) + 3*f.Width
	case rgba32:
		minStride = 4 * f.Width
		size = f.Stride*(f.Height-1) + 4*f.Width
	case MJPEG:
		if len(f.Data) == 0 {
			return errors.New("camera: empty MJPEG frame")
		}
		return nil
	case ycbcr:
		if f.ycc == nil || f.ycc.Rect.Dx() != f.Width || f.ycc.Rect.Dy() != f.Height {
			return errors.New("camera: decoded JPEG frame without its image")
		}
		return nil
	default:
		return fmt.Errorf("camera: unsupported pixel format %s", f.Format)
	}
	if f.Stride < minStride {
		return fmt.Errorf("camera: %s frame %dx%d: stride %d is less than the %d bytes a line needs", f.Format, f.Width, f.Height, f.Stride, minStride)
	}
	if len(f.Data) < size {
		return fmt.Errorf("camera: %s frame %dx%d stride %d: %d bytes of data, want %d", f.Format, f.Width, f.Height, f.Stride, len(f.Data), size)
	}
	return nil
}

// FrameSize is the number of bytes a frame of this format, size and stride occupies (0 for MJPEG).
func FrameSize(format PixelFormat, width, height, stride int) int {
	switch format {
	case YUYV:
		return stride * height
	case YU12:
		return stride*height + 2*(stride/2)*((height+1)/2)
	case NV12:
		return stride*height + stride*((height+1)/2)
	case RGB24:
		return stride * height
	}
	return 0
}

// MinStride is the tightly packed stride of a line of the first plane.
func MinStride(format PixelFormat, width int) int {
	switch format {
	case YUYV:
		return 2 * (width + width%2)
	case YU12, NV12:
		return width + width%2
	case RGB24:
		return 3 * width
	}
	return 0
}

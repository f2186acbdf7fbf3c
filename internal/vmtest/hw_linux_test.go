//go:build linux

package vmtest_test

// Minimal raw V4L2 and GPIO character-device (uAPI v2) access for the rig's sample test. The struct
// layouts are those of a 64-bit guest (LP64, little-endian): the guest is arm64.

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func ioc(dir, typ, nr, size uintptr) uintptr { return dir<<30 | size<<16 | typ<<8 | nr }

const (
	iocW = 1
	iocR = 2
)

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		default:
			return errno
		}
	}
}

// waitReadable polls fd for input; unix.Poll returns EINTR under Go's preemption signals.
func waitReadable(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no input on fd %d within %v", fd, timeout)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// ---- GPIO character device, uAPI v2 (<linux/gpio.h>) ----

type gpioChipInfo struct {
	Name  [32]byte
	Label [32]byte
	Lines uint32
}

type gpioV2LineAttribute struct {
	ID      uint32
	Padding uint32
	Value   uint64
}

type gpioV2LineConfigAttribute struct {
	Attr gpioV2LineAttribute
	Mask uint64
}

type gpioV2LineConfig struct {
	Flags    uint64
	NumAttrs uint32
	Padding  [5]uint32
	Attrs    [10]gpioV2LineConfigAttribute
}

type gpioV2LineRequest struct {
	Offsets         [64]uint32
	Consumer        [32]byte
	Config          gpioV2LineConfig
	NumLines        uint32
	EventBufferSize uint32
	Padding         [5]uint32
	Fd              int32
}

type gpioV2LineValues struct {
	Bits uint64
	Mask uint64
}

type gpioV2LineEvent struct {
	TimestampNs uint64
	ID          uint32
	Offset      uint32
	Seqno       uint32
	LineSeqno   uint32
	Padding     [6]uint32
}

const (
	gpioV2LineFlagInput       = 1 << 2
	gpioV2LineFlagOutput      = 1 << 3
	gpioV2LineFlagEdgeRising  = 1 << 4
	gpioV2LineFlagEdgeFalling = 1 << 5

	gpioV2LineEventRisingEdge  = 1
	gpioV2LineEventFallingEdge = 2
)

var (
	gpioGetChipInfo     = ioc(iocR, 0xB4, 0x01, unsafe.Sizeof(gpioChipInfo{}))
	gpioV2GetLine       = ioc(iocR|iocW, 0xB4, 0x07, unsafe.Sizeof(gpioV2LineRequest{}))
	gpioV2LineGetValues = ioc(iocR|iocW, 0xB4, 0x0E, unsafe.Sizeof(gpioV2LineValues{}))
	gpioV2LineSetValues = ioc(iocR|iocW, 0xB4, 0x0F, unsafe.Sizeof(gpioV2LineValues{}))
)

func chipInfo(path string) (gpioChipInfo, error) {
	var info gpioChipInfo
	f, err := os.Open(path)
	if err != nil {
		return info, err
	}
	defer f.Close()
	err = ioctl(int(f.Fd()), gpioGetChipInfo, unsafe.Pointer(&info))
	return info, err
}

// requestLine requests one line of the chip at path with the given v2 flags and returns the line fd.
func requestLine(path string, offset uint32, flags uint64, consumer string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	var req gpioV2LineRequest
	req.Offsets[0] = offset
	req.NumLines = 1
	req.Config.Flags = flags
	copy(req.Consumer[:len(req.Consumer)-1], consumer)
	if err := ioctl(int(f.Fd()), gpioV2GetLine, unsafe.Pointer(&req)); err != nil {
		return -1, fmt.Errorf("GPIO_V2_GET_LINE_IOCTL line %d: %w", offset, err)
	}
	return int(req.Fd), nil
}

func setLine(fd int, v bool) error {
	vals := gpioV2LineValues{Mask: 1}
	if v {
		vals.Bits = 1
	}
	return ioctl(fd, gpioV2LineSetValues, unsafe.Pointer(&vals))
}

func getLine(fd int) (bool, error) {
	vals := gpioV2LineValues{Mask: 1}
	err := ioctl(fd, gpioV2LineGetValues, unsafe.Pointer(&vals))
	return vals.Bits&1 != 0, err
}

func readLineEvent(fd int, timeout time.Duration) (gpioV2LineEvent, error) {
	var ev gpioV2LineEvent
	if err := waitReadable(fd, timeout); err != nil {
		return ev, err
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&ev)), unsafe.Sizeof(ev))
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return ev, err
		}
		if n != len(buf) {
			return ev, fmt.Errorf("short GPIO event read: %d of %d bytes", n, len(buf))
		}
		return ev, nil
	}
}

// ---- V4L2 (<linux/videodev2.h>) ----

type v4l2Capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

type v4l2PixFormat struct {
	Width, Height, PixelFormat, Field, BytesPerLine, SizeImage uint32
	Colorspace, Priv, Flags, YcbcrEnc, Quantization, XferFunc  uint32
}

type v4l2Format struct {
	Type uint32
	_    uint32 // the union holds pointers: 8-byte aligned
	Pix  v4l2PixFormat
	_    [200 - unsafe.Sizeof(v4l2PixFormat{})]byte
}

type v4l2RequestBuffers struct {
	Count, Type, Memory, Capabilities uint32
	Flags                             uint8
	Reserved                          [3]uint8
}

type v4l2Buffer struct {
	Index, Type, BytesUsed, Flags, Field uint32
	_                                    uint32
	TimestampSec, TimestampUsec          int64
	Timecode                             [16]byte
	Sequence, Memory                     uint32
	M                                    uint64 // union: the mmap offset is its low 32 bits
	Length, Reserved2, RequestFD         uint32
}

type v4l2CaptureParm struct {
	Capability, CaptureMode uint32
	Numerator, Denominator  uint32
	ExtendedMode            uint32
	ReadBuffers             uint32
	Reserved                [4]uint32
}

type v4l2StreamParm struct {
	Type    uint32
	Capture v4l2CaptureParm
	_       [200 - unsafe.Sizeof(v4l2CaptureParm{})]byte
}

const (
	v4l2BufTypeVideoCapture = 1
	v4l2MemoryMmap          = 1
	v4l2FieldNone           = 1
	v4l2CapVideoCapture     = 0x00000001
	v4l2CapStreaming        = 0x04000000
	v4l2PixFmtYUYV          = 'Y' | 'U'<<8 | 'Y'<<16 | 'V'<<24
)

var (
	vidiocQueryCap  = ioc(iocR, 'V', 0, unsafe.Sizeof(v4l2Capability{}))
	vidiocSFmt      = ioc(iocR|iocW, 'V', 5, unsafe.Sizeof(v4l2Format{}))
	vidiocReqBufs   = ioc(iocR|iocW, 'V', 8, unsafe.Sizeof(v4l2RequestBuffers{}))
	vidiocQueryBuf  = ioc(iocR|iocW, 'V', 9, unsafe.Sizeof(v4l2Buffer{}))
	vidiocQBuf      = ioc(iocR|iocW, 'V', 15, unsafe.Sizeof(v4l2Buffer{}))
	vidiocDQBuf     = ioc(iocR|iocW, 'V', 17, unsafe.Sizeof(v4l2Buffer{}))
	vidiocStreamOn  = ioc(iocW, 'V', 18, 4)
	vidiocStreamOff = ioc(iocW, 'V', 19, 4)
	vidiocSParm     = ioc(iocR|iocW, 'V', 22, unsafe.Sizeof(v4l2StreamParm{}))
)

// TestUAPILayouts pins the sizes of the kernel structs above to those of <linux/gpio.h> and
// <linux/videodev2.h> on a 64-bit kernel; a wrong size changes the ioctl number and the guest gets ENOTTY.
func TestUAPILayouts(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layouts are those of a 64-bit guest")
	}
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"gpiochip_info", unsafe.Sizeof(gpioChipInfo{}), 68},
		{"gpio_v2_line_config", unsafe.Sizeof(gpioV2LineConfig{}), 272},
		{"gpio_v2_line_request", unsafe.Sizeof(gpioV2LineRequest{}), 592},
		{"gpio_v2_line_values", unsafe.Sizeof(gpioV2LineValues{}), 16},
		{"gpio_v2_line_event", unsafe.Sizeof(gpioV2LineEvent{}), 48},
		{"v4l2_capability", unsafe.Sizeof(v4l2Capability{}), 104},
		{"v4l2_format", unsafe.Sizeof(v4l2Format{}), 208},
		{"v4l2_requestbuffers", unsafe.Sizeof(v4l2RequestBuffers{}), 20},
		{"v4l2_buffer", unsafe.Sizeof(v4l2Buffer{}), 88},
		{"v4l2_streamparm", unsafe.Sizeof(v4l2StreamParm{}), 204},
	} {
		if c.got != c.want {
			t.Errorf("struct %s: %d bytes, want %d", c.name, c.got, c.want)
		}
	}
	// Two ioctl numbers as the kernel headers expand them.
	if gpioV2GetLine != 0xc250b407 {
		t.Errorf("GPIO_V2_GET_LINE_IOCTL = %#x, want 0xc250b407", gpioV2GetLine)
	}
	if vidiocDQBuf != 0xc0585611 {
		t.Errorf("VIDIOC_DQBUF = %#x, want 0xc0585611", vidiocDQBuf)
	}
}

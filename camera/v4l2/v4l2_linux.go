package v4l2

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func ioc(dir, typ, nr, size uintptr) uintptr { return dir<<30 | size<<16 | typ<<8 | nr }

const (
	iocW  = 1
	iocR  = 2
	iocRW = iocR | iocW
)

// <linux/videodev2.h> structures.

type capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

type fmtdesc struct {
	Index       uint32
	Type        uint32
	Flags       uint32
	Description [32]byte
	PixelFormat uint32
	MbusCode    uint32
	Reserved    [3]uint32
}

// PixFormat is struct v4l2_pix_format.
type PixFormat struct {
	Width, Height uint32
	PixelFormat   uint32
	Field         uint32
	BytesPerLine  uint32
	SizeImage     uint32
	Colorspace    uint32
	Priv          uint32
	Flags         uint32
	YCbCrEnc      uint32
	Quantization  uint32
	XferFunc      uint32
}

type format struct {
	Type uint32
	_    [0]uintptr // the union holds pointers (struct v4l2_window): pointer-aligned
	Fmt  [200]byte
}

type requestBuffers struct {
	Count        uint32
	Type         uint32
	Memory       uint32
	Capabilities uint32
	Flags        uint8
	Reserved     [3]uint8
}

type timecode struct {
	Type, Flags                     uint32
	Frames, Seconds, Minutes, Hours uint8
	Userbits                        [4]uint8
}

type buffer struct {
	Index     uint32
	Type      uint32
	BytesUsed uint32
	Flags     uint32
	Field     uint32
	Timestamp unix.Timeval
	Timecode  timecode
	Sequence  uint32
	Memory    uint32
	M         uintptr // union { __u32 offset; unsigned long userptr; ...; __s32 fd; }
	Length    uint32
	Reserved2 uint32
	RequestFD int32
}

type fract struct{ Numerator, Denominator uint32 }

type streamParm struct {
	Type uint32
	Parm [200]byte // struct v4l2_captureparm at the start
}

type captureParm struct {
	Capability   uint32
	CaptureMode  uint32
	TimePerFrame fract
	ExtendedMode uint32
	ReadBuffers  uint32
	Reserved     [4]uint32
}

type frmSizeEnum struct {
	Index       uint32
	PixelFormat uint32
	Type        uint32
	U           [6]uint32 // discrete {w, h} or stepwise {min_w, max_w, step_w, min_h, max_h, step_h}
	Reserved    [2]uint32
}

type frmIvalEnum struct {
	Index       uint32
	PixelFormat uint32
	Width       uint32
	Height      uint32
	Type        uint32
	U           [6]uint32 // discrete fract or stepwise {min, max, step}
	Reserved    [2]uint32
}

const (
	bufTypeVideoCapture = 1
	memoryMmap          = 1
	fieldNone           = 1

	capVideoCapture = 0x00000001
	capStreaming    = 0x04000000
	capDeviceCaps   = 0x80000000
	capTimePerFrame = 0x1000

	frmSizeDiscrete   = 1
	frmIvalDiscrete   = 1
	fmtFlagCompressed = 1
)

var (
	vidiocQueryCap           = ioc(iocR, 'V', 0, unsafe.Sizeof(capability{}))
	vidiocEnumFmt            = ioc(iocRW, 'V', 2, unsafe.Sizeof(fmtdesc{}))
	vidiocGFmt               = ioc(iocRW, 'V', 4, unsafe.Sizeof(format{}))
	vidiocSFmt               = ioc(iocRW, 'V', 5, unsafe.Sizeof(format{}))
	vidiocReqBufs            = ioc(iocRW, 'V', 8, unsafe.Sizeof(requestBuffers{}))
	vidiocQueryBuf           = ioc(iocRW, 'V', 9, unsafe.Sizeof(buffer{}))
	vidiocQBuf               = ioc(iocRW, 'V', 15, unsafe.Sizeof(buffer{}))
	vidiocDQBuf              = ioc(iocRW, 'V', 17, unsafe.Sizeof(buffer{}))
	vidiocStreamOn           = ioc(iocW, 'V', 18, unsafe.Sizeof(int32(0)))
	vidiocStreamOff          = ioc(iocW, 'V', 19, unsafe.Sizeof(int32(0)))
	vidiocGParm              = ioc(iocRW, 'V', 21, unsafe.Sizeof(streamParm{}))
	vidiocSParm              = ioc(iocRW, 'V', 22, unsafe.Sizeof(streamParm{}))
	vidiocEnumFrameSizes     = ioc(iocRW, 'V', 74, unsafe.Sizeof(frmSizeEnum{}))
	vidiocEnumFrameIntervals = ioc(iocRW, 'V', 75, unsafe.Sizeof(frmIvalEnum{}))
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

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// Device is an open V4L2 capture device.
type Device struct {
	Path   string
	Driver string
	Card   string
	fd     int
	bufs   [][]byte
	format PixFormat
	on     bool
	queued []bool
}

// Open opens a capture device and checks that it can stream.
func Open(path string) (*Device, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("v4l2: open %s: %w", path, err)
	}
	d := &Device{Path: path, fd: fd}
	var c capability
	if err := ioctl(fd, vidiocQueryCap, unsafe.Pointer(&c)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("v4l2: %s: VIDIOC_QUERYCAP: %w (not a V4L2 device?)", path, err)
	}
	caps := c.Capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.DeviceCaps
	}
	d.Driver, d.Card = cstr(c.Driver[:]), cstr(c.Card[:])
	if caps&capVideoCapture == 0 || caps&capStreaming == 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("v4l2: %s (%s) is not a streaming video capture device (capabilities %#x)", path, d.Card, caps)
	}
	return d, nil
}

// FormatDesc is one pixel format a device offers, with its frame sizes and rates.
type FormatDesc struct {
	FourCC      uint32
	Description string
	Compressed  bool
	Sizes       []FrameSize
}

// FrameSize is a discrete size, or a range (Step > 0) for stepwise devices.
type FrameSize struct {
	Width, Height       uint32
	MaxWidth, MaxHeight uint32 // stepwise only
	Step                uint32
	FPS                 []float64 // discrete rates for this size, when the device lists them
}

// Formats lists the device's capture formats, sizes and frame rates.
func (d *Device) Formats() ([]FormatDesc, error) {
	var out []FormatDesc
	for i := uint32(0); ; i++ {
		fd := fmtdesc{Index: i, Type: bufTypeVideoCapture}
		if err := ioctl(d.fd, vidiocEnumFmt, unsafe.Pointer(&fd)); err != nil {
			if errors.Is(err, unix.EINVAL) {
				break
			}
			return out, fmt.Errorf("v4l2: %s: VIDIOC_ENUM_FMT %d: %w", d.Path, i, err)
		}
		desc := FormatDesc{FourCC: fd.PixelFormat, Description: cstr(fd.Description[:]), Compressed: fd.Flags&fmtFlagCompressed != 0}
		for j := uint32(0); j < 64; j++ {
			fs := frmSizeEnum{Index: j, PixelFormat: fd.PixelFormat}
			if ioctl(d.fd, vidiocEnumFrameSizes, unsafe.Pointer(&fs)) != nil {
				break
			}
			if fs.Type == frmSizeDiscrete {
				s := FrameSize{Width: fs.U[0], Height: fs.U[1]}
				s.FPS = d.rates(fd.PixelFormat, s.Width, s.Height)
				desc.Sizes = append(desc.Sizes, s)
				continue
			}
			desc.Sizes = append(desc.Sizes, FrameSize{Width: fs.U[0], MaxWidth: fs.U[1], Step: max(fs.U[2], 1), Height: fs.U[3], MaxHeight: fs.U[4]})
			break
		}
		out = append(out, desc)
	}
	return out, nil
}

func (d *Device) rates(pf, w, h uint32) []float64 {
	var fps []float64
	for k := uint32(0); k < 32; k++ {
		iv := frmIvalEnum{Index: k, PixelFormat: pf, Width: w, Height: h}
		if ioctl(d.fd, vidiocEnumFrameIntervals, unsafe.Pointer(&iv)) != nil || iv.Type != frmIvalDiscrete {
			break
		}
		if iv.U[0] > 0 {
			fps = append(fps, float64(iv.U[1])/float64(iv.U[0]))
		}
	}
	return fps
}

// SetFormat asks for a pixel format and size; the driver may adjust the size, and the format it
// chose is returned. A driver that substitutes another pixel format is an error.
func (d *Device) SetFormat(fourcc, width, height uint32) (PixFormat, error) {
	f := format{Type: bufTypeVideoCapture}
	pix := (*PixFormat)(unsafe.Pointer(&f.Fmt[0]))
	*pix = PixFormat{Width: width, Height: height, PixelFormat: fourcc, Field: fieldNone}
	if err := ioctl(d.fd, vidiocSFmt, unsafe.Pointer(&f)); err != nil {
		return PixFormat{}, fmt.Errorf("v4l2: %s: VIDIOC_S_FMT %s %dx%d: %w", d.Path, FourCC(fourcc), width, height, err)
	}
	if pix.PixelFormat != fourcc {
		return *pix, fmt.Errorf("v4l2: %s does not support %s (it offered %s)", d.Path, FourCC(fourcc), FourCC(pix.PixelFormat))
	}
	d.format = *pix
	return *pix, nil
}

// Format returns the current format.
func (d *Device) Format() (PixFormat, error) {
	f := format{Type: bufTypeVideoCapture}
	if err := ioctl(d.fd, vidiocGFmt, unsafe.Pointer(&f)); err != nil {
		return PixFormat{}, fmt.Errorf("v4l2: %s: VIDIOC_G_FMT: %w", d.Path, err)
	}
	d.format = *(*PixFormat)(unsafe.Pointer(&f.Fmt[0]))
	return d.format, nil
}

// SetFrameRate asks for fps frames per second and returns the rate the driver chose.
func (d *Device) SetFrameRate(fps float64) (float64, error) {
	p := streamParm{Type: bufTypeVideoCapture}
	cp := (*captureParm)(unsafe.Pointer(&p.Parm[0]))
	if err := ioctl(d.fd, vidiocGParm, unsafe.Pointer(&p)); err != nil {
		return 0, fmt.Errorf("v4l2: %s: VIDIOC_G_PARM: %w", d.Path, err)
	}
	if cp.Capability&capTimePerFrame == 0 {
		return 0, fmt.Errorf("v4l2: %s cannot set its frame rate", d.Path)
	}
	cp.TimePerFrame = fract{1000, uint32(fps*1000 + 0.5)}
	if err := ioctl(d.fd, vidiocSParm, unsafe.Pointer(&p)); err != nil {
		return 0, fmt.Errorf("v4l2: %s: VIDIOC_S_PARM %g fps: %w", d.Path, fps, err)
	}
	return d.FrameRate()
}

// FrameRate returns the current frame rate.
func (d *Device) FrameRate() (float64, error) {
	p := streamParm{Type: bufTypeVideoCapture}
	cp := (*captureParm)(unsafe.Pointer(&p.Parm[0]))
	if err := ioctl(d.fd, vidiocGParm, unsafe.Pointer(&p)); err != nil {
		return 0, fmt.Errorf("v4l2: %s: VIDIOC_G_PARM: %w", d.Path, err)
	}
	if cp.TimePerFrame.Numerator == 0 {
		return 0, nil
	}
	return float64(cp.TimePerFrame.Denominator) / float64(cp.TimePerFrame.Numerator), nil
}

// Start maps n buffers, queues them and starts streaming.
func (d *Device) Start(n int) error {
	rb := requestBuffers{Count: uint32(n), Type: bufTypeVideoCapture, Memory: memoryMmap}
	if err := ioctl(d.fd, vidiocReqBufs, unsafe.Pointer(&rb)); err != nil {
		return fmt.Errorf("v4l2: %s: VIDIOC_REQBUFS %d: %w", d.Path, n, err)
	}
	if rb.Count < 2 {
		return fmt.Errorf("v4l2: %s: only %d buffers granted", d.Path, rb.Count)
	}
	d.bufs = make([][]byte, rb.Count)
	d.queued = make([]bool, rb.Count)
	for i := range d.bufs {
		b := buffer{Index: uint32(i), Type: bufTypeVideoCapture, Memory: memoryMmap}
		if err := ioctl(d.fd, vidiocQueryBuf, unsafe.Pointer(&b)); err != nil {
			return fmt.Errorf("v4l2: %s: VIDIOC_QUERYBUF %d: %w", d.Path, i, err)
		}
		mem, err := unix.Mmap(d.fd, int64(uint32(b.M)), int(b.Length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("v4l2: %s: mmap buffer %d: %w", d.Path, i, err)
		}
		d.bufs[i] = mem
		if err := d.Queue(i); err != nil {
			return err
		}
	}
	typ := int32(bufTypeVideoCapture)
	if err := ioctl(d.fd, vidiocStreamOn, unsafe.Pointer(&typ)); err != nil {
		return fmt.Errorf("v4l2: %s: VIDIOC_STREAMON: %w", d.Path, err)
	}
	d.on = true
	return nil
}

// Queue gives buffer i back to the driver.
func (d *Device) Queue(i int) error {
	b := buffer{Index: uint32(i), Type: bufTypeVideoCapture, Memory: memoryMmap}
	if err := ioctl(d.fd, vidiocQBuf, unsafe.Pointer(&b)); err != nil {
		return fmt.Errorf("v4l2: %s: VIDIOC_QBUF %d: %w", d.Path, i, err)
	}
	d.queued[i] = true
	return nil
}

// Buffer is a dequeued frame: Data aliases the mapped buffer until it is queued again.
type Buffer struct {
	Index     int
	Data      []byte
	Sequence  uint32
	Timestamp time.Duration // CLOCK_MONOTONIC, as the driver stamped it
	Error     bool          // V4L2_BUF_FLAG_ERROR: the data may be corrupt
}

// ErrTimeout is returned by Dequeue when no frame came in time.
var ErrTimeout = errors.New("v4l2: timeout")

// Dequeue waits up to timeout for a filled buffer. With latest set it takes every filled buffer
// there is, requeues all but the newest, and returns that one (dropped counts the others).
func (d *Device) Dequeue(timeout time.Duration, latest bool) (b Buffer, dropped int, err error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return b, 0, fmt.Errorf("v4l2: %s: no frame within %v: %w", d.Path, timeout, ErrTimeout)
		}
		fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return b, 0, fmt.Errorf("v4l2: %s: poll: %w", d.Path, err)
		}
		if n == 0 {
			continue
		}
		if fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 && fds[0].Revents&unix.POLLIN == 0 {
			return b, 0, fmt.Errorf("v4l2: %s: device error or gone (poll events %#x): %w", d.Path, fds[0].Revents, unix.ENODEV)
		}
		got := false
		for {
			var vb buffer
			vb.Type, vb.Memory = bufTypeVideoCapture, memoryMmap
			err := ioctl(d.fd, vidiocDQBuf, unsafe.Pointer(&vb))
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			if err != nil {
				if got { // return what we have; the error comes back on the next call
					return b, dropped, nil
				}
				return b, 0, fmt.Errorf("v4l2: %s: VIDIOC_DQBUF: %w", d.Path, err)
			}
			if got {
				if err := d.Queue(b.Index); err != nil {
					return b, dropped, err
				}
				dropped++
			}
			got = true
			d.queued[vb.Index] = false
			b = Buffer{Index: int(vb.Index), Data: d.bufs[vb.Index][:min(int(vb.BytesUsed), len(d.bufs[vb.Index]))],
				Sequence: vb.Sequence, Error: vb.Flags&0x40 != 0,
				Timestamp: time.Duration(vb.Timestamp.Sec)*time.Second + time.Duration(vb.Timestamp.Usec)*time.Microsecond}
			if !latest {
				break
			}
		}
		if got {
			return b, dropped, nil
		}
	}
}

// Close stops streaming, unmaps the buffers and closes the device.
func (d *Device) Close() error {
	if d.fd < 0 {
		return nil
	}
	if d.on {
		typ := int32(bufTypeVideoCapture)
		ioctl(d.fd, vidiocStreamOff, unsafe.Pointer(&typ))
	}
	for _, b := range d.bufs {
		unix.Munmap(b)
	}
	d.bufs = nil
	err := unix.Close(d.fd)
	d.fd = -1
	if err != nil {
		return fmt.Errorf("v4l2: close %s: %w", d.Path, err)
	}
	return nil
}

// Info describes a capture device for listing.
type Info struct {
	Path, Driver, Card string
	Formats            []FormatDesc
}

// List finds the capture devices among /dev/video*, in number order. Devices that are not capture
// devices (metadata nodes, encoders) are left out.
func List() ([]Info, error) {
	paths, _ := filepath.Glob("/dev/video*")
	sort.Slice(paths, func(i, j int) bool {
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) < len(paths[j])
		}
		return paths[i] < paths[j]
	})
	var out []Info
	for _, p := range paths {
		d, err := Open(p)
		if err != nil {
			continue
		}
		fs, err := d.Formats()
		d.Close()
		if err != nil {
			return out, err
		}
		out = append(out, Info{Path: p, Driver: d.Driver, Card: d.Card, Formats: fs})
	}
	return out, nil
}

// Monotonic is the current CLOCK_MONOTONIC time, to relate buffer timestamps to the wall clock.
func Monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// Package v4l2 is a small binding of the Linux Video4Linux2 capture API without cgo: query a device,
// enumerate its formats, frame sizes and intervals, set the format and frame rate, and stream
// through memory-mapped buffers (VIDIOC_REQBUFS, QBUF, DQBUF, STREAMON).
//
// Struct layouts follow <linux/videodev2.h> for both 64-bit and 32-bit ARM (the buffer's timeval and
// pointer-sized union change size between them; the ioctl numbers are computed from Go's sizes).
// Only single-planar capture (V4L2_BUF_TYPE_VIDEO_CAPTURE) is supported, which is what USB (UVC)
// webcams and vivid offer. Package camera turns a Device into a camera.Source.
//
// On systems other than Linux every function returns ErrUnsupported.
package v4l2

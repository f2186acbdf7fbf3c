package v4l2

import (
	"testing"
	"unsafe"
)

// The structs must have the sizes <linux/videodev2.h> gives them (pahole on arm64 and armhf), since
// the ioctl numbers encode them and the kernel copies that many bytes.
func TestStructSizes(t *testing.T) {
	is64 := unsafe.Sizeof(uintptr(0)) == 8
	pick := func(a64, a32 uintptr) uintptr {
		if is64 {
			return a64
		}
		return a32
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"v4l2_capability", unsafe.Sizeof(capability{}), 104},
		{"v4l2_fmtdesc", unsafe.Sizeof(fmtdesc{}), 64},
		{"v4l2_pix_format", unsafe.Sizeof(PixFormat{}), 48},
		{"v4l2_format", unsafe.Sizeof(format{}), pick(208, 204)},
		{"v4l2_requestbuffers", unsafe.Sizeof(requestBuffers{}), 20},
		{"v4l2_buffer", unsafe.Sizeof(buffer{}), pick(88, 68)},
		{"v4l2_streamparm", unsafe.Sizeof(streamParm{}), 204},
		{"v4l2_captureparm", unsafe.Sizeof(captureParm{}), 40},
		{"v4l2_frmsizeenum", unsafe.Sizeof(frmSizeEnum{}), 44},
		{"v4l2_frmivalenum", unsafe.Sizeof(frmIvalEnum{}), 52},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, c.got, c.want)
		}
	}
	if vidiocDQBuf != pick(0xc0585611, 0xc0445611) {
		t.Errorf("VIDIOC_DQBUF = %#x", vidiocDQBuf)
	}
}

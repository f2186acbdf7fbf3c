//go:build linux

package vmtest_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
	"unsafe"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sys/unix"

	"github.com/edgeinfer/edgeinfer/internal/vmtest"
)

const gpioChip = "/dev/gpiochip0"

// TestRigSample is the rig's end-to-end check: in the arm64 guest it captures frames from vivid,
// drives a PL061 GPIO line and reads it back, receives the edges QEMU's power button makes on line 3,
// and publishes an MQTT message that a mosquitto broker on the host's loopback delivers to the host.
func TestRigSample(t *testing.T) {
	const topic = "edgeinfer/vmtest/sample"
	var env map[string]string
	var received <-chan string
	if !vmtest.InGuest() {
		vmtest.RequireVM(t)
		b := vmtest.StartMosquitto(t)
		received = subscribe(t, b.HostURL(), topic)
		env = map[string]string{
			"SAMPLE_BROKER":  b.GuestURL(),
			"SAMPLE_TOPIC":   topic,
			"SAMPLE_PAYLOAD": fmt.Sprintf("hello from the arm64 guest, %d", time.Now().UnixNano()),
		}
	}
	vmtest.Run(t, vmtest.Options{
		Modules: []string{"vivid node_types=0x1"},
		WaitFor: []string{"/dev/video0", gpioChip},
		Env:     env,
		Host: func(ctx context.Context, vm *vmtest.VM) error {
			if err := vm.WaitEvent(ctx, "button-armed"); err != nil {
				return err
			}
			return vm.PowerButton(ctx)
		},
	}, func(t *testing.T) {
		t.Run("camera", guestCamera)
		t.Run("gpio-output", guestGPIOOutput)
		t.Run("button", guestButton)
		t.Run("mqtt", guestMQTT)
	})
	if vmtest.InGuest() {
		return
	}
	select {
	case got := <-received:
		if want := env["SAMPLE_PAYLOAD"]; got != want {
			t.Fatalf("host received %q on %s, want %q", got, topic, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("host received nothing on %s", topic)
	}
}

// subscribe subscribes a host-side client to topic and returns the payloads it receives.
func subscribe(t *testing.T, url, topic string) <-chan string {
	t.Helper()
	ch := make(chan string, 8)
	opts := mqtt.NewClientOptions().AddBroker(url).
		SetClientID("edgeinfer-vmtest-host-" + strconv.Itoa(os.Getpid())).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("host MQTT connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(250) })
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case ch <- string(m.Payload()):
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("host MQTT subscribe %s: %v", topic, tok.Error())
	}
	return ch
}

func guestCamera(t *testing.T) {
	fd, err := unix.Open("/dev/video0", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/video0: %v", err)
	}
	defer unix.Close(fd)

	var capab v4l2Capability
	if err := ioctl(fd, vidiocQueryCap, unsafe.Pointer(&capab)); err != nil {
		t.Fatalf("VIDIOC_QUERYCAP: %v", err)
	}
	if d := cstr(capab.Driver[:]); d != "vivid" {
		t.Fatalf("driver %q, want vivid", d)
	}
	if want := uint32(v4l2CapVideoCapture | v4l2CapStreaming); capab.DeviceCaps&want != want {
		t.Fatalf("device caps %#x lack capture+streaming %#x", capab.DeviceCaps, want)
	}

	f := v4l2Format{Type: v4l2BufTypeVideoCapture}
	f.Pix = v4l2PixFormat{Width: 640, Height: 480, PixelFormat: v4l2PixFmtYUYV, Field: v4l2FieldNone}
	if err := ioctl(fd, vidiocSFmt, unsafe.Pointer(&f)); err != nil {
		t.Fatalf("VIDIOC_S_FMT: %v", err)
	}
	if f.Pix.Width != 640 || f.Pix.Height != 480 || f.Pix.PixelFormat != v4l2PixFmtYUYV || f.Pix.SizeImage < 640*480*2 {
		t.Fatalf("VIDIOC_S_FMT gave %dx%d fourcc %#x, %d bytes", f.Pix.Width, f.Pix.Height, f.Pix.PixelFormat, f.Pix.SizeImage)
	}
	parm := v4l2StreamParm{Type: v4l2BufTypeVideoCapture}
	parm.Capture.Numerator, parm.Capture.Denominator = 1, 25
	if err := ioctl(fd, vidiocSParm, unsafe.Pointer(&parm)); err != nil {
		t.Fatalf("VIDIOC_S_PARM: %v", err)
	}

	rb := v4l2RequestBuffers{Count: 4, Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
	if err := ioctl(fd, vidiocReqBufs, unsafe.Pointer(&rb)); err != nil {
		t.Fatalf("VIDIOC_REQBUFS: %v", err)
	}
	if rb.Count < 2 {
		t.Fatalf("VIDIOC_REQBUFS gave %d buffers", rb.Count)
	}
	bufs := make([][]byte, rb.Count)
	for i := range bufs {
		b := v4l2Buffer{Index: uint32(i), Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
		if err := ioctl(fd, vidiocQueryBuf, unsafe.Pointer(&b)); err != nil {
			t.Fatalf("VIDIOC_QUERYBUF %d: %v", i, err)
		}
		mem, err := unix.Mmap(fd, int64(uint32(b.M)), int(b.Length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatalf("mmap buffer %d: %v", i, err)
		}
		defer unix.Munmap(mem)
		bufs[i] = mem
		if err := ioctl(fd, vidiocQBuf, unsafe.Pointer(&b)); err != nil {
			t.Fatalf("VIDIOC_QBUF %d: %v", i, err)
		}
	}
	typ := int32(v4l2BufTypeVideoCapture)
	if err := ioctl(fd, vidiocStreamOn, unsafe.Pointer(&typ)); err != nil {
		t.Fatalf("VIDIOC_STREAMON: %v", err)
	}
	defer ioctl(fd, vidiocStreamOff, unsafe.Pointer(&typ))

	const frames = 25
	var first time.Time
	var lastSeq uint32
	for n := 0; n < frames; n++ {
		if err := waitReadable(fd, 5*time.Second); err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		b := v4l2Buffer{Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
		if err := ioctl(fd, vidiocDQBuf, unsafe.Pointer(&b)); err != nil {
			t.Fatalf("VIDIOC_DQBUF frame %d: %v", n, err)
		}
		if n == 0 {
			first = time.Now()
		} else if b.Sequence <= lastSeq {
			t.Errorf("frame %d: sequence %d after %d", n, b.Sequence, lastSeq)
		}
		lastSeq = b.Sequence
		if b.BytesUsed != f.Pix.SizeImage {
			t.Errorf("frame %d: %d bytes, want %d", n, b.BytesUsed, f.Pix.SizeImage)
		}
		var seen [256]bool
		distinct := 0
		for _, v := range bufs[b.Index][:b.BytesUsed] {
			if !seen[v] {
				seen[v] = true
				distinct++
			}
		}
		if distinct < 16 { // vivid's default pattern is colour bars
			t.Errorf("frame %d has only %d distinct byte values", n, distinct)
		}
		if err := ioctl(fd, vidiocQBuf, unsafe.Pointer(&b)); err != nil {
			t.Fatalf("VIDIOC_QBUF frame %d: %v", n, err)
		}
	}
	fps := float64(frames-1) / time.Since(first).Seconds()
	t.Logf("captured %d frames of 640x480 YUYV from %s (%s), %.1f fps, last sequence %d",
		frames, cstr(capab.Card[:]), cstr(capab.Driver[:]), fps, lastSeq)
}

func guestGPIOOutput(t *testing.T) {
	info, err := chipInfo(gpioChip)
	if err != nil {
		t.Fatalf("GPIO_GET_CHIPINFO_IOCTL: %v", err)
	}
	t.Logf("%s: %s (%s), %d lines", gpioChip, cstr(info.Name[:]), cstr(info.Label[:]), info.Lines)
	if info.Lines != 8 {
		t.Fatalf("%s has %d lines, want 8 (PL061)", gpioChip, info.Lines)
	}
	for _, line := range []uint32{0, 5} {
		fd, err := requestLine(gpioChip, line, gpioV2LineFlagOutput, "vmtest-out")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []bool{true, false, true, false} {
			if err := setLine(fd, v); err != nil {
				t.Fatalf("line %d: set %v: %v", line, v, err)
			}
			got, err := getLine(fd)
			if err != nil {
				t.Fatalf("line %d: get: %v", line, err)
			}
			if got != v {
				t.Errorf("line %d: set %v, read back %v", line, v, got)
			}
		}
		unix.Close(fd)
	}
}

func guestButton(t *testing.T) {
	const line = 3 // QEMU virt wires its power button to PL061 line 3
	fd, err := requestLine(gpioChip, line, gpioV2LineFlagInput|gpioV2LineFlagEdgeRising|gpioV2LineFlagEdgeFalling, "vmtest-button")
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	vmtest.Event("button-armed")
	rise, err := readLineEvent(fd, 30*time.Second)
	if err != nil {
		t.Fatalf("waiting for the rising edge: %v", err)
	}
	fall, err := readLineEvent(fd, 5*time.Second)
	if err != nil {
		t.Fatalf("waiting for the falling edge: %v", err)
	}
	if rise.ID != gpioV2LineEventRisingEdge || fall.ID != gpioV2LineEventFallingEdge {
		t.Fatalf("edge events %d then %d, want rising (%d) then falling (%d)", rise.ID, fall.ID, gpioV2LineEventRisingEdge, gpioV2LineEventFallingEdge)
	}
	if rise.Offset != line || fall.Offset != line {
		t.Fatalf("edges on lines %d and %d, want %d", rise.Offset, fall.Offset, line)
	}
	if fall.TimestampNs <= rise.TimestampNs {
		t.Fatalf("falling edge at %d ns is not after the rising edge at %d ns", fall.TimestampNs, rise.TimestampNs)
	}
	t.Logf("power button: rising then falling edge on line %d, %v apart", line, time.Duration(fall.TimestampNs-rise.TimestampNs))
}

func guestMQTT(t *testing.T) {
	broker, topic, payload := os.Getenv("SAMPLE_BROKER"), os.Getenv("SAMPLE_TOPIC"), os.Getenv("SAMPLE_PAYLOAD")
	if broker == "" || topic == "" || payload == "" {
		t.Fatal("SAMPLE_BROKER, SAMPLE_TOPIC and SAMPLE_PAYLOAD must be set by the host")
	}
	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID("edgeinfer-vmtest-guest").
		SetConnectTimeout(10 * time.Second).SetAutoReconnect(false)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", broker, tok.Error())
	}
	defer c.Disconnect(250)
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish to %s on %s: %v", topic, broker, tok.Error())
	}
	t.Logf("published %q to %s on %s", payload, topic, broker)
}

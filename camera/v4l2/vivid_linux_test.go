package v4l2_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/camera/v4l2"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
	"github.com/edgeinfer/edgeinfer/models"
)

func TestMain(m *testing.M) { vmtest.Main(m) }

// TestVivid runs in the arm64 VM against the kernel's vivid driver: listing, capture in every
// supported format with the colours of vivid's bars checked after conversion, frame-rate setting,
// and the device unbound mid-stream then bound again.
func TestVivid(t *testing.T) {
	if !vmtest.InGuest() {
		vmtest.RequireVM(t)
	}
	vmtest.Run(t, vmtest.Options{
		Modules:   []string{"vivid node_types=0x1"},
		WaitFor:   []string{"/dev/video0"},
		NoNetwork: true,
		Timeout:   6 * time.Minute,
	}, func(t *testing.T) {
		t.Run("list", guestList)
		t.Run("formats", guestFormats)
		t.Run("framerate", guestFrameRate)
		t.Run("unplug", guestUnplug)
	})
}

func guestList(t *testing.T) {
	devs, err := v4l2.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Path != "/dev/video0" || devs[0].Driver != "vivid" {
		t.Fatalf("List gave %+v, want /dev/video0 from vivid", devs)
	}
	have := map[string]bool{}
	for _, f := range devs[0].Formats {
		have[v4l2.FourCC(f.FourCC)] = true
		if len(f.Sizes) == 0 {
			t.Errorf("format %s lists no sizes", v4l2.FourCC(f.FourCC))
		}
	}
	for _, want := range []string{"YUYV", "YU12", "NV12", "RGB3"} {
		if !have[want] {
			t.Errorf("vivid does not list %s; it lists %v", want, have)
		}
	}
	t.Logf("%s (%s): %d formats, first %s with sizes %+v", devs[0].Card, devs[0].Driver, len(devs[0].Formats),
		v4l2.FourCC(devs[0].Formats[0].FourCC), devs[0].Formats[0].Sizes)
}

// vivid's default pattern is 75% colour bars: white, yellow, cyan, green, magenta, red, blue, black.
var bars = [8][3]int{{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0}, {191, 0, 191}, {191, 0, 0}, {0, 0, 191}, {0, 0, 0}}

func guestFormats(t *testing.T) {
	for _, format := range []camera.PixelFormat{camera.YUYV, camera.YU12, camera.NV12, camera.RGB24} {
		t.Run(format.String(), func(t *testing.T) {
			ctx := context.Background()
			src, err := camera.OpenV4L2(ctx, "/dev/video0", camera.V4L2Options{Format: format, Width: 640, Height: 480, FPS: 30})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pre, err := camera.NewPreprocessor(models.UInt8, []int{1, 8, 8, 3}, nil, nil, camera.Bilinear)
			if err != nil {
				t.Fatal(err)
			}
			px := make([]byte, 8*8*3)
			var last uint64
			for n := 0; n < 5; n++ {
				f, err := src.Next(ctx)
				if err != nil {
					t.Fatalf("frame %d: %v", n, err)
				}
				if f.Format != format || f.Width != 640 || f.Height != 480 || f.Stride < camera.MinStride(format, 640) {
					t.Fatalf("frame %d: %s %dx%d stride %d", n, f.Format, f.Width, f.Height, f.Stride)
				}
				if n > 0 && f.Sequence <= last {
					t.Errorf("frame %d: sequence %d after %d", n, f.Sequence, last)
				}
				last = f.Sequence
				if err := pre.FillFrame(px, f); err != nil {
					t.Fatal(err)
				}
			}
			// One output column per bar; the middle row is clear of vivid's text overlay.
			for b, want := range bars {
				o := (4*8 + b) * 3
				for c := 0; c < 3; c++ {
					if d := int(px[o+c]) - want[c]; d < -16 || d > 16 {
						t.Errorf("bar %d: RGB %v, want about %v", b, px[o:o+3], want)
						break
					}
				}
			}
		})
	}
}

func guestFrameRate(t *testing.T) {
	ctx := context.Background()
	for _, fps := range []float64{5, 15} {
		d, err := v4l2.Open("/dev/video0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SetFormat(uint32(camera.YUYV), 320, 240); err != nil {
			t.Fatal(err)
		}
		got, err := d.SetFrameRate(fps)
		d.Close()
		if err != nil || got != fps {
			t.Fatalf("SetFrameRate(%g) = %g, %v", fps, got, err)
		}
		src, err := camera.OpenV4L2(ctx, "/dev/video0", camera.V4L2Options{Format: camera.YUYV, Width: 320, Height: 240, FPS: fps})
		if err != nil {
			t.Fatal(err)
		}
		const frames = 10
		var first, lastT time.Time
		var firstSeq, lastSeq uint64
		for n := 0; n < frames; n++ {
			f, err := src.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				first, firstSeq = f.Timestamp, f.Sequence
			}
			lastT, lastSeq = f.Timestamp, f.Sequence
		}
		src.Close()
		measured := float64(lastSeq-firstSeq) / lastT.Sub(first).Seconds()
		t.Logf("asked %g fps, driver timestamps say %.2f fps", fps, measured)
		if measured < fps*0.8 || measured > fps*1.2 {
			t.Errorf("asked %g fps, frames came at %.2f fps", fps, measured)
		}
	}
}

// guestUnplug unbinds vivid from its platform device while a source streams (as unplugging a USB
// camera does), binds it again a second later, and expects frames to resume with sequence numbers
// going on.
func guestUnplug(t *testing.T) {
	const drv = "/sys/bus/platform/drivers/vivid"
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src, err := camera.OpenV4L2(ctx, "/dev/video0", camera.V4L2Options{Format: camera.YUYV, Width: 320, Height: 240, FPS: 15,
		Timeout: 2 * time.Second, Backoff: camera.Backoff{Min: 50 * time.Millisecond, Max: 400 * time.Millisecond}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var before uint64
	for n := 0; n < 3; n++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		before = f.Sequence
	}
	devs, _ := filepath.Glob(drv + "/vivid.*")
	if len(devs) != 1 {
		t.Fatalf("vivid devices bound: %v", devs)
	}
	name := filepath.Base(devs[0])
	if err := os.WriteFile(drv+"/unbind", []byte(name), 0); err != nil {
		t.Fatalf("unbind %s: %v", name, err)
	}
	unbound := time.Now()
	go func() {
		time.Sleep(time.Second)
		if err := os.WriteFile(drv+"/bind", []byte(name), 0); err != nil {
			t.Errorf("bind %s: %v", name, err)
		}
	}()
	var after uint64
	for n := 0; n < 3; n++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("after unbinding: %v\nlog:\n%s", err, logs.String())
		}
		after = f.Sequence
	}
	mu.Lock()
	l := logs.String()
	mu.Unlock()
	if !strings.Contains(l, "source lost") || !strings.Contains(l, "reopened") {
		t.Fatalf("no loss and reopening logged:\n%s", l)
	}
	if after <= before {
		t.Fatalf("sequence %d after the reopening, %d before", after, before)
	}
	t.Logf("frames resumed %v after the unbind; sequence %d -> %d\n%s", time.Since(unbound).Round(time.Millisecond), before, after, l)
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

package display

import (
	"bytes"
	"errors"
	"image"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// frameBits decodes an SSD1306 frame write (0x40, then width*height/8 bytes, one page of 8 rows
// per width bytes, the top row in bit 0) into an image.
func frameBits(t *testing.T, w []byte, width, height int) *image.Gray {
	t.Helper()
	if len(w) != 1+width*height/8 || w[0] != 0x40 {
		t.Fatalf("frame write of %d bytes starting %#x, want %d starting 0x40", len(w), w[0], 1+width*height/8)
	}
	img := image.NewGray(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			if w[1+(y/8)*width+x]&(1<<(y%8)) != 0 {
				img.Pix[y*img.Stride+x] = 255
			}
		}
	}
	return img
}

// TestOLEDOverPeriph runs gobot's SSD1306 driver over a periph I2C bus (periph's i2ctest recorder,
// which keeps every transaction): the init sequence goes to 0x3C, and a label becomes one frame
// write whose pixels are exactly the rendered text.
func TestOLEDOverPeriph(t *testing.T) {
	for _, c := range []Config{{}, {Address: 0x3D, Height: 32}} {
		bus := &i2ctest.Record{}
		o, err := New(bus, c)
		if err != nil {
			t.Fatal(err)
		}
		c = c.withDefaults()
		if len(bus.Ops) == 0 {
			t.Fatal("no I2C transaction at start")
		}
		for _, op := range bus.Ops {
			if op.Addr != uint16(c.Address) {
				t.Fatalf("transaction to %#x, want %#x", op.Addr, c.Address)
			}
		}
		// The first command turns the display off (0xAE) before the init sequence.
		if w := bus.Ops[0].W; len(w) != 2 || w[0] != 0x80 || w[1] != 0xAE {
			t.Fatalf("first write % x, want 80 ae", w)
		}
		n := len(bus.Ops)
		if err := o.Show("tabby, tabby cat", 0.83); err != nil {
			t.Fatal(err)
		}
		if len(bus.Ops) != n+1 {
			t.Fatalf("%d transactions for one label, want 1", len(bus.Ops)-n)
		}
		got := frameBits(t, bus.Ops[n].W, c.Width, c.Height)
		want := image.NewGray(got.Rect)
		render(want, "tabby, tabby cat", 0.83)
		lit := 0
		for i := range want.Pix {
			if (want.Pix[i] > 0) != (got.Pix[i] > 0) {
				t.Fatalf("%dx%d: pixel %d differs from the rendered label", c.Width, c.Height, i)
			}
			if got.Pix[i] > 0 {
				lit++
			}
		}
		if lit < 50 {
			t.Fatalf("only %d pixels lit for a label", lit)
		}
		// The same label again: nothing sent; another: a different frame.
		if err := o.Show("tabby, tabby cat", 0.83); err != nil || len(bus.Ops) != n+1 {
			t.Fatalf("the same label again: %v, %d transactions", err, len(bus.Ops)-n-1)
		}
		if err := o.Show("dog", 0.5); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(bus.Ops[n].W, bus.Ops[len(bus.Ops)-1].W) {
			t.Fatal("another label drew the same frame")
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if err := o.Show("x", 1); err == nil {
			t.Fatal("Show after Close did not fail")
		}
	}
}

func TestOLEDConfigErrors(t *testing.T) {
	for c, want := range map[Config]string{
		{Height: 48}:     "SSD1306 of 128x48",
		{Width: 200}:     "SSD1306 of 200x64",
		{Address: 0x90}:  "address 0x90",
		{Address: 0x100}: "address 0x100",
	} {
		_, err := New(&i2ctest.Record{}, c)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "display: ") {
			t.Errorf("%+v: error %v, want one with %q", c, err, want)
		}
	}
	if _, err := Open(Config{Bus: 97}); err == nil || !strings.Contains(err.Error(), "display: I2C bus 97") {
		t.Errorf("a missing bus: %v", err)
	}
}

// A bus that fails: the error says so, prefixed.
type failingBus struct{ i2ctest.Record }

func (f *failingBus) Tx(addr uint16, w, r []byte) error { return errors.New("remote I/O error") }

func TestOLEDBusError(t *testing.T) {
	_, err := New(&failingBus{}, Config{})
	if err == nil || !strings.Contains(err.Error(), "remote I/O error") || !strings.HasPrefix(err.Error(), "display: ") {
		t.Fatalf("error %v", err)
	}
}

func TestWrap(t *testing.T) {
	for in, want := range map[string]string{
		"tabby, tabby cat":      "tabby,|tabby cat",
		"cat":                   "cat",
		"abcdefghijklmnopqrstu": "abcdefghij|klmnopqrst|u",
		"a b c":                 "a b c",
	} {
		if got := strings.Join(wrap(in, 10), "|"); got != want {
			t.Errorf("wrap(%q, 10) = %q, want %q", in, got, want)
		}
	}
}

// slowScreen records what it shows, slowly.
type slowScreen struct {
	mu     sync.Mutex
	shown  []string
	closed bool
}

func (s *slowScreen) Show(label string, _ float64) error {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shown = append(s.shown, label)
	return nil
}

func (s *slowScreen) Close() error { s.closed = true; return nil }

// TestAsync: Post never blocks on a slow screen, the newest label is shown last, older ones may be
// skipped, and Post allocates nothing.
func TestAsync(t *testing.T) {
	s := &slowScreen{}
	a := NewAsync(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now()
	for i := range 100 {
		a.Post([]string{"cat", "dog"}[i%2], 0.5)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("100 posts took %v on a 20 ms screen", d)
	}
	a.Post("last", 1)
	if n := testing.AllocsPerRun(100, func() { a.Post("last", 1) }); n != 0 {
		t.Errorf("Post allocates %v times", n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !s.closed || len(s.shown) == 0 || s.shown[len(s.shown)-1] != "last" || len(s.shown) > 20 {
		t.Fatalf("shown %q (want at most 20, ending with \"last\"), closed %v", s.shown, s.closed)
	}
}

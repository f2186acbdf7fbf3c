package display

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"

	"gobot.io/x/gobot/v2/drivers/i2c"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	periphi2c "periph.io/x/conn/v3/i2c"
	"periph.io/x/host/v3/sysfs"
)

// Config says which screen to drive.
type Config struct {
	Bus     int // I2C bus number: /dev/i2c-Bus (1 on a Raspberry Pi's header)
	Address int // 7-bit address; 0 means 0x3C
	Width   int // pixels; 0 means 128
	Height  int // pixels, 64 or 32; 0 means 64
}

func (c Config) withDefaults() Config {
	if c.Address == 0 {
		c.Address = 0x3C
	}
	if c.Width == 0 {
		c.Width = 128
	}
	if c.Height == 0 {
		c.Height = 64
	}
	return c
}

// OLED is an SSD1306 screen showing one label and its score. Its methods are safe for concurrent
// use.
type OLED struct {
	mu     sync.Mutex
	drv    *i2c.SSD1306Driver
	img    *image.Gray
	closer func() error
	last   string
}

// Open opens /dev/i2c-<Bus> and starts the screen on it.
func Open(c Config) (*OLED, error) {
	bus, err := sysfs.NewI2C(c.Bus)
	if err != nil {
		return nil, fmt.Errorf("display: I2C bus %d: %w", c.Bus, err)
	}
	o, err := New(bus, c)
	if err != nil {
		bus.Close()
		return nil, err
	}
	o.closer = bus.Close
	return o, nil
}

// New starts the screen on an open periph bus (the caller keeps ownership of the bus).
func New(bus periphi2c.Bus, c Config) (*OLED, error) {
	c = c.withDefaults()
	if c.Width <= 0 || c.Width > 128 || (c.Height != 64 && c.Height != 32) {
		return nil, fmt.Errorf("display: SSD1306 of %dx%d: want width up to 128 and height 64 or 32", c.Width, c.Height)
	}
	if c.Address < 0x03 || c.Address > 0x77 {
		return nil, fmt.Errorf("display: I2C address %#x out of the 7-bit range", c.Address)
	}
	drv := i2c.NewSSD1306Driver(&Bus{Bus: bus}, i2c.WithAddress(c.Address),
		i2c.WithSSD1306DisplayWidth(c.Width), i2c.WithSSD1306DisplayHeight(c.Height))
	if err := drv.Start(); err != nil {
		return nil, fmt.Errorf("display: SSD1306 at %#x: %w", c.Address, err)
	}
	return &OLED{drv: drv, img: image.NewGray(image.Rect(0, 0, c.Width, c.Height))}, nil
}

// Show draws label (wrapped over the lines that fit) and score; it does nothing when they are what
// the screen already shows.
func (o *OLED) Show(label string, score float64) error {
	text := fmt.Sprintf("%s\n%.0f%%", label, 100*score)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.drv == nil {
		return errors.New("display: closed")
	}
	if text == o.last {
		return nil
	}
	render(o.img, label, score)
	if err := o.drv.ShowImage(o.img); err != nil {
		return fmt.Errorf("display: %w", err)
	}
	o.last = text
	return nil
}

// Close blanks and turns off the screen, and closes the bus if Open opened it.
func (o *OLED) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.drv == nil {
		return nil
	}
	err := o.drv.Halt()
	o.drv = nil
	if o.closer != nil {
		if cerr := o.closer(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	return nil
}

// render draws the label in basicfont's 7x13 face, wrapped at word boundaries, and the score as a
// percentage on the last line.
func render(img *image.Gray, label string, score float64) {
	draw.Draw(img, img.Bounds(), image.Black, image.Point{}, draw.Src)
	face := basicfont.Face7x13
	const lineH = 13
	w := img.Bounds().Dx()
	perLine := max(1, w/7)
	lines := wrap(label, perLine)
	maxLines := img.Bounds().Dy()/lineH - 1
	if len(lines) > maxLines {
		lines = lines[:maxLines]
	}
	lines = append(lines, fmt.Sprintf("%.0f%%", 100*score))
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.White), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(0, (i+1)*lineH-3)
		d.DrawString(l)
	}
}

// wrap splits s into lines of at most n characters, at whitespace where it can (a word longer than
// n is cut).
func wrap(s string, n int) []string {
	var lines []string
	var cur string
	for _, word := range strings.Fields(s) {
		for len(word) > n {
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			lines, word = append(lines, word[:n]), word[n:]
		}
		switch {
		case cur == "":
			cur = word
		case len(cur)+1+len(word) <= n:
			cur += " " + word
		default:
			lines, cur = append(lines, cur), word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

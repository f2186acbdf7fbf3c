package gpio

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/gpioioctl"
)

// Lines opens GPIO lines: Chardev on a real machine, gpiotest.Lines in tests.
type Lines interface {
	// Output requests p as an output line.
	Output(p Pin) (gpio.PinOut, error)
	// Input requests p as an input line; the caller configures it with In.
	Input(p Pin) (gpio.PinIn, error)
}

// Release closes a line that Lines opened, when its type can be closed (gpioioctl's lines can).
func Release(l any) {
	switch c := l.(type) {
	case interface{ Close() }:
		c.Close()
	case interface{ Close() error }:
		c.Close()
	}
}

// Chardev opens lines on the Linux GPIO character device with periph's gpioioctl driver.
type Chardev struct{}

// initChardev runs periph's driver registry once: it registers only the drivers this binary
// imports, here gpioioctl, which enumerates /dev/gpiochip*.
var initChardev = sync.OnceValue(func() error {
	if _, err := driverreg.Init(); err != nil {
		return fmt.Errorf("gpio: %w", err)
	}
	if len(gpioioctl.Chips) == 0 {
		return errors.New("gpio: no GPIO chip: /dev/gpiochip* missing or unreadable (is this a Linux board, and may this user open them?)")
	}
	return nil
})

// Output implements Lines.
func (Chardev) Output(p Pin) (gpio.PinOut, error) { return chardevLine(p) }

// Input implements Lines.
func (Chardev) Input(p Pin) (gpio.PinIn, error) { return chardevLine(p) }

func chardevLine(p Pin) (gpio.PinIO, error) {
	if err := initChardev(); err != nil {
		return nil, err
	}
	if p.Chip != "" {
		for _, c := range gpioioctl.Chips {
			if c.Name() != p.Chip && c.Path() != "/dev/"+p.Chip {
				continue
			}
			if p.Line >= c.LineCount() {
				return nil, fmt.Errorf("gpio: pin %s: %s has %d lines", p, c.Name(), c.LineCount())
			}
			return c.Lines()[p.Line], nil
		}
		return nil, fmt.Errorf("gpio: pin %s: no chip %s; chips: %s", p, p.Chip, chipList())
	}
	name := "GPIO" + strconv.Itoa(p.BCM)
	if l := gpioreg.ByName(name); l != nil {
		return l, nil
	}
	return nil, fmt.Errorf("gpio: pin %s: no line named %s on this machine (not a Raspberry Pi?): name the line as gpiochipN:LINE; chips: %s",
		p, name, chipList())
}

// chipList lists the machine's GPIO chips for errors: "gpiochip0 (pinctrl-bcm2835, 54 lines), ...".
func chipList() string {
	var names []string
	for _, c := range gpioioctl.Chips {
		names = append(names, c.Name()+" ("+c.Label()+", "+strconv.Itoa(c.LineCount())+" lines)")
	}
	return strings.Join(names, ", ")
}

var _ Lines = Chardev{}

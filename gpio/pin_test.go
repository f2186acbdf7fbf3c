package gpio

import (
	"strings"
	"testing"
)

func TestParsePin(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Pin
	}{
		{"GPIO17", Pin{BCM: 17}},
		{"gpio4", Pin{BCM: 4}},
		{"BCM27", Pin{BCM: 27}},
		{"17", Pin{BCM: 17}},
		{"0", Pin{BCM: 0}},
		{"P1-11", Pin{BCM: 17, Header: 11}},
		{"pin11", Pin{BCM: 17, Header: 11}},
		{"PIN40", Pin{BCM: 21, Header: 40}},
		{"J8-3", Pin{BCM: 2, Header: 3}},
		{"P1-27", Pin{BCM: 0, Header: 27}},
		{"gpiochip0:3", Pin{BCM: -1, Chip: "gpiochip0", Line: 3}},
		{" gpiochip4:17 ", Pin{BCM: -1, Chip: "gpiochip4", Line: 17}},
	} {
		got, err := ParsePin(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePin(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty pin name"},
		{"P1-1", "header pin 1 is 3V3 power, not a GPIO"},
		{"pin2", "header pin 2 is 5V power"},
		{"P1-6", "header pin 6 is ground"},
		{"P1-41", "header pins are 1..40"},
		{"GPIO28", "BCM numbers on the 40-pin header are 0..27"},
		{"-1", "BCM numbers"},
		{"LED", "not a pin name"},
		{"gpiochip0:x", "want gpiochipN:LINE"},
		{"chip0:3", "want gpiochipN:LINE"},
	} {
		_, err := ParsePin(c.in)
		if err == nil || !strings.HasPrefix(err.Error(), "gpio: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePin(%q): %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// TestHeader checks the header map against the board's layout: 28 GPIOs (BCM 0..27, each once),
// 12 power and ground pins, together the 40 pins.
func TestHeader(t *testing.T) {
	seen := map[int]int{}
	for pin, bcm := range Header {
		if _, ok := headerPower[pin]; ok {
			t.Errorf("pin %d is both GPIO%d and %s", pin, bcm, headerPower[pin])
		}
		if p, dup := seen[bcm]; dup {
			t.Errorf("GPIO%d on pins %d and %d", bcm, p, pin)
		}
		seen[bcm] = pin
	}
	if len(Header) != 28 || len(headerPower) != 12 {
		t.Errorf("%d GPIO and %d power pins, want 28 and 12", len(Header), len(headerPower))
	}
	for bcm := 0; bcm <= maxBCM; bcm++ {
		if _, ok := seen[bcm]; !ok {
			t.Errorf("GPIO%d is on no header pin", bcm)
		}
	}
	if Header[12] != 18 || Header[7] != 4 || Header[3] != 2 { // PWM0, 1-Wire, SDA
		t.Error("spot checks of the header map failed")
	}
}

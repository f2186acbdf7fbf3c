package gpio

import (
	"fmt"
	"strconv"
	"strings"
)

// Pin is a parsed pin name: either a BCM number or a line of a named chip.
type Pin struct {
	// BCM is the Broadcom GPIO number, or -1 when Chip is set.
	BCM int
	// Header is the 40-pin header's pin the name gave (0 when it gave none).
	Header int
	// Chip and Line name a line of a GPIO chip directly ("gpiochip0", 3).
	Chip string
	Line int
}

// String is the pin in its canonical form: "GPIO17", "GPIO17 (P1-11)" or "gpiochip0:3".
func (p Pin) String() string {
	switch {
	case p.Chip != "":
		return p.Chip + ":" + strconv.Itoa(p.Line)
	case p.Header != 0:
		return "GPIO" + strconv.Itoa(p.BCM) + " (P1-" + strconv.Itoa(p.Header) + ")"
	}
	return "GPIO" + strconv.Itoa(p.BCM)
}

// Key identifies the physical line, so that two names of one line compare equal.
func (p Pin) Key() string {
	if p.Chip != "" {
		return p.Chip + ":" + strconv.Itoa(p.Line)
	}
	return "GPIO" + strconv.Itoa(p.BCM)
}

// Header maps the pins of the Raspberry Pi's 40-pin header (J8, P1 on the first boards) to their
// BCM GPIO numbers. Pins not in the map are power or ground (see headerPower).
var Header = map[int]int{
	3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10,
	21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
	36: 16, 37: 26, 38: 20, 40: 21,
}

// headerPower names the header pins that are not GPIOs.
var headerPower = map[int]string{
	1: "3V3 power", 17: "3V3 power", 2: "5V power", 4: "5V power",
	6: "ground", 9: "ground", 14: "ground", 20: "ground", 25: "ground", 30: "ground", 34: "ground", 39: "ground",
}

// maxBCM is the highest BCM number on the 40-pin header.
const maxBCM = 27

// ParsePin parses a pin name (see the package doc). Errors say what was wrong and what is accepted.
func ParsePin(s string) (Pin, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return Pin{}, fmt.Errorf("gpio: empty pin name: want GPIO17, P1-11, pin11 or gpiochip0:3")
	}
	if chip, line, ok := strings.Cut(name, ":"); ok {
		n, err := strconv.Atoi(line)
		if !strings.HasPrefix(chip, "gpiochip") || err != nil || n < 0 {
			return Pin{}, fmt.Errorf("gpio: pin %q: want gpiochipN:LINE, e.g. gpiochip0:3", s)
		}
		return Pin{BCM: -1, Chip: chip, Line: n}, nil
	}
	lower := strings.ToLower(name)
	for _, pre := range []string{"p1-", "j8-", "pin"} {
		if rest, ok := strings.CutPrefix(lower, pre); ok {
			n, err := strconv.Atoi(strings.TrimPrefix(rest, "-"))
			if err != nil || n < 1 || n > 40 {
				return Pin{}, fmt.Errorf("gpio: pin %q: header pins are 1..40", s)
			}
			bcm, ok := Header[n]
			if !ok {
				return Pin{}, fmt.Errorf("gpio: pin %q: header pin %d is %s, not a GPIO", s, n, headerPower[n])
			}
			return Pin{BCM: bcm, Header: n}, nil
		}
	}
	num := lower
	for _, pre := range []string{"gpio", "bcm"} {
		if rest, ok := strings.CutPrefix(lower, pre); ok {
			num = rest
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return Pin{}, fmt.Errorf("gpio: pin %q: not a pin name: want a BCM number (GPIO17, 17), a header pin (P1-11, pin11) or a chip line (gpiochip0:3)", s)
	}
	if n < 0 || n > maxBCM {
		return Pin{}, fmt.Errorf("gpio: pin %q: BCM numbers on the 40-pin header are 0..%d", s, maxBCM)
	}
	return Pin{BCM: n}, nil
}

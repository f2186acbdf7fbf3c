// Package gpio drives GPIO lines from labels: an LED held on while a class is active, a relay
// pulsed for a while, a buzzer sounding a pattern; and it watches an input line (a button, a PIR
// sensor) that asks for a classification.
//
// Lines are opened through a Lines: Chardev, the Linux GPIO character device (/dev/gpiochipN,
// uAPI v2) by way of periph.io/x/host/v3's gpioioctl driver (which serves every Raspberry Pi, the
// Pi 5's RP1 included), or a fake from package gpiotest. An opened line is a periph.io/x/conn/v3
// gpio.PinOut or gpio.PinIn.
//
// # Pin names
//
// ParsePin takes a BCM number ("GPIO17", "BCM17", "17"), a pin of the 40-pin header ("P1-11",
// "pin11", "J8-11"; mapped to its BCM number, see Header), or a line of a given chip
// ("gpiochip0:3", a chip as the kernel names it and a line offset). A BCM number resolves to the
// line the kernel names "GPIO<n>" (the Raspberry Pi kernels name the header's lines so); on boards
// whose lines have no such names, use the chip form.
//
// # Actions
//
// An Action ties a class to an output line. Actions.Set is called with each transition of a
// watched class:
//
//	led     the line is active while the class is active;
//	pulse   the line is active for Duration (default 500ms) when the class becomes active;
//	buzzer  when the class becomes active the line follows Pattern (on, off, on, ... durations;
//	        default 100ms on, 100ms off, 100ms on).
//
// ActiveLow inverts the line: active is the low level (relay boards that switch on low). Close
// drives every line inactive and releases it; AllOff does the same for every line of every open
// Actions, for a forced exit where deferred calls do not run. A line is requested as an output
// at the low level before it is set inactive, so an active-low line is active for the few
// microseconds in between.
//
// # Input
//
// Watch watches one input line and calls a function on each debounced edge: after the kernel
// reports an edge, the line must keep its new level for the debounce time (default 50ms) before
// the edge counts.
package gpio

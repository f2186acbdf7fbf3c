// Package gpiosmoketest checks package gpio on real hardware, through the GPIO character device.
// Its test needs two lines wired together and named in EDGEINFER_GPIO_LOOPBACK as "OUT,IN":
//
//	EDGEINFER_GPIO_LOOPBACK=GPIO17,GPIO27 go test ./gpio/gpiosmoketest
//
// On a Raspberry Pi that is header pin 11 (GPIO17) wired to pin 13 (GPIO27), through a 1 kΩ
// resistor to be safe. The test drives OUT with an LED action and a pulse action in turn and
// checks that IN reads the levels back and that Watch sees the debounced edges; it skips when
// the variable is not set.
package gpiosmoketest

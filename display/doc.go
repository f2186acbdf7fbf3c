// Package display shows the current label on a small screen beside the board: an SSD1306 OLED
// (128x64 or 128x32, the common 0.96" and 0.91" I2C modules) on the Pi's I2C bus.
//
// The SSD1306 protocol is gobot's (gobot.io/x/gobot/v2/drivers/i2c: its init sequence, display
// buffer and page layout); the bus is periph's (periph.io/x/host/v3/sysfs: /dev/i2c-N, the same
// library the GPIO outputs use). Bus glues the two: a gobot i2c.Connector whose connections are
// periph I2C devices, so gobot's driver runs on any periph bus, including periph's i2ctest
// recorder in the tests.
//
// Wiring (Raspberry Pi 40-pin header, bus 1): VCC to pin 1 (3.3 V), GND to pin 6, SDA to pin 3
// (GPIO2), SCL to pin 5 (GPIO3); enable I2C (dtparam=i2c_arm=on). The module's address is 0x3C
// (0x3D with its address jumper moved).
package display

package display

import (
	"fmt"

	"gobot.io/x/gobot/v2/drivers/i2c"
	periphi2c "periph.io/x/conn/v3/i2c"
)

// Bus is a gobot I2C connector over a periph I2C bus: gobot's drivers talk to devices through it.
type Bus struct {
	Bus periphi2c.Bus
}

// GetI2cConnection returns the device at address on the bus; busNr is ignored (the periph bus is
// the bus).
func (b *Bus) GetI2cConnection(address, busNr int) (i2c.Connection, error) {
	if address < 0 || address > 0x7F {
		return nil, fmt.Errorf("display: I2C address %#x out of range", address)
	}
	return &device{dev: &periphi2c.Dev{Bus: b.Bus, Addr: uint16(address)}}, nil
}

// DefaultI2cBus is the bus number gobot asks for when none is configured.
func (b *Bus) DefaultI2cBus() int { return 1 }

// device is one gobot i2c.Connection: SMBus-style operations as periph transactions.
type device struct {
	dev *periphi2c.Dev
}

func (d *device) Read(p []byte) (int, error) {
	if err := d.dev.Tx(nil, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (d *device) Write(p []byte) (int, error) {
	if err := d.dev.Tx(p, nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (d *device) Close() error { return nil }

func (d *device) ReadByte() (byte, error) {
	var b [1]byte
	_, err := d.Read(b[:])
	return b[0], err
}

func (d *device) ReadByteData(reg uint8) (uint8, error) {
	var b [1]byte
	err := d.dev.Tx([]byte{reg}, b[:])
	return b[0], err
}

func (d *device) ReadWordData(reg uint8) (uint16, error) {
	var b [2]byte
	err := d.dev.Tx([]byte{reg}, b[:])
	return uint16(b[0]) | uint16(b[1])<<8, err
}

func (d *device) ReadBlockData(reg uint8, data []byte) error { return d.dev.Tx([]byte{reg}, data) }

func (d *device) WriteByte(val byte) error { return d.dev.Tx([]byte{val}, nil) }

func (d *device) WriteByteData(reg, val uint8) error { return d.dev.Tx([]byte{reg, val}, nil) }

func (d *device) WriteWordData(reg uint8, val uint16) error {
	return d.dev.Tx([]byte{reg, byte(val), byte(val >> 8)}, nil)
}

func (d *device) WriteBlockData(reg uint8, data []byte) error {
	return d.dev.Tx(append([]byte{reg}, data...), nil)
}

func (d *device) WriteBytes(data []byte) error { return d.dev.Tx(data, nil) }

var _ i2c.Connector = (*Bus)(nil)
var _ i2c.Connection = (*device)(nil)

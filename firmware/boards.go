package firmware

import (
	"fmt"
	"sort"
	"strings"
)

// Board is one Raspberry Pi model an image can be built for.
type Board struct {
	Name  string // the --board value: pi3, pi4, pi5, zero2w
	Title string // for people: "Raspberry Pi 3"
	// GOARCH and GOARM of the edgeinfer binary in the appliance image. Every supported board has a
	// 64-bit CPU (Cortex-A53, A72, A76), so all run arm64; GOARM would matter for a 32-bit board.
	GOARCH, GOARM string
	// DTBs are the device trees copied from github.com/gokrazy/kernel.rpi to the boot partition.
	DTBs []string
	// Firmware lists the files of github.com/gokrazy/firmware the board's boot ROM and GPU need.
	// The Pi 5 boots from its EEPROM and needs none.
	Firmware []string
	// QEMUMachine is the QEMU machine that emulates the board, if any (Debian's QEMU 7.2 has raspi3b).
	QEMUMachine string
	// QEMUDTB is the device tree to pass to QEMU with -dtb.
	QEMUDTB string
}

var boards = map[string]Board{
	"pi3": {
		Name: "pi3", Title: "Raspberry Pi 3", GOARCH: "arm64",
		DTBs:        []string{"bcm2710-rpi-3-b.dtb", "bcm2710-rpi-3-b-plus.dtb", "bcm2710-rpi-cm3.dtb"},
		Firmware:    []string{"bootcode.bin", "start.elf", "fixup.dat"},
		QEMUMachine: "raspi3b", QEMUDTB: "bcm2710-rpi-3-b.dtb",
	},
	"zero2w": {
		Name: "zero2w", Title: "Raspberry Pi Zero 2 W", GOARCH: "arm64",
		DTBs:     []string{"bcm2710-rpi-zero-2-w.dtb", "bcm2710-rpi-zero-2.dtb"},
		Firmware: []string{"bootcode.bin", "start.elf", "fixup.dat"},
	},
	"pi4": {
		Name: "pi4", Title: "Raspberry Pi 4", GOARCH: "arm64",
		DTBs:     []string{"bcm2711-rpi-4-b.dtb", "bcm2711-rpi-400.dtb", "bcm2711-rpi-cm4.dtb", "bcm2711-rpi-cm4s.dtb"},
		Firmware: []string{"start4.elf", "fixup4.dat"},
	},
	"pi5": {
		Name: "pi5", Title: "Raspberry Pi 5", GOARCH: "arm64",
		DTBs: []string{"bcm2712-rpi-5-b.dtb", "bcm2712d0-rpi-5-b.dtb", "bcm2712-d-rpi-5-b.dtb", "bcm2712-rpi-500.dtb",
			"bcm2712-rpi-cm5-cm5io.dtb", "bcm2712-rpi-cm5-cm4io.dtb"},
	},
}

// Boards returns the names of the supported boards, sorted.
func Boards() []string {
	names := make([]string, 0, len(boards))
	for n := range boards {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupBoard returns the board called name, or an error that lists the known boards.
func LookupBoard(name string) (Board, error) {
	b, ok := boards[name]
	if !ok {
		return Board{}, fmt.Errorf("firmware: unknown board %q (known: %s)", name, strings.Join(Boards(), ", "))
	}
	return b, nil
}

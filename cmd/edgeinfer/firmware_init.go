package main

import (
	"os"

	"github.com/edgeinfer/edgeinfer/firmware"
)

// In the appliance image (edgeinfer firmware build) the kernel starts edgeinfer as process 1
// (init=/usr/bin/edgeinfer): it then mounts, configures the network and supervises 'edgeinfer run'
// instead of parsing a command line. InitPID1 does not return. Process 1 elsewhere (a container)
// has no /etc/edgeinfer/init.json and runs the command line as usual.
func init() {
	if os.Getpid() == 1 && firmware.IsAppliance() {
		firmware.InitPID1()
	}
}

// Package firmware will build bootable SD card images for Raspberry Pi 3, 4, 5 and Zero 2 W: an
// appliance image (FAT32 boot partition with the Pi firmware and kernel, a read-only squashfs root
// with edgeinfer, a writable data partition) and customised Raspberry Pi OS images.
//
// Nothing is implemented here yet: the work is described in the project's issue "Firmware images".
// Today edgeinfer cross-compiles as one static binary (CGO_ENABLED=0 GOARCH=arm64, or GOARCH=arm
// GOARM=7) that can be copied to a board.
package firmware

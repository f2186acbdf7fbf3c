// Package firmwarevmtest holds tests of the appliance's init that need a Linux kernel and a network
// but not a Raspberry Pi: they run inside the arm64 guest of internal/vmtest (QEMU virt machine,
// virtio-net on QEMU user networking, whose DHCP server hands out 10.0.2.15/24, gateway 10.0.2.2,
// DNS 10.0.2.3). QEMU's raspi3b, where the boot test of package firmware runs, has no working
// network with the Raspberry Pi kernel.
package firmwarevmtest

//go:build linux

package vmtest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setupGuest prepares the guest as /init: file systems, modules, network, devices, environment.
func setupGuest(cfg *guestConfig) error {
	mounts := []struct{ src, dir, fstype string }{
		{"devtmpfs", "/dev", "devtmpfs"},
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"tmpfs", "/tmp", "tmpfs"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return fmt.Errorf("vmtest: %w", err)
		}
		if err := unix.Mount(m.src, m.dir, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("vmtest: mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	for _, m := range cfg.Modules {
		if err := loadModule(m); err != nil {
			return err
		}
	}
	if cfg.Network {
		if err := configureNetwork(); err != nil {
			return err
		}
	}
	for _, p := range cfg.WaitFor {
		if err := waitForPath(p, 10*time.Second); err != nil {
			return err
		}
	}
	for k, v := range cfg.Env {
		os.Setenv(k, v)
	}
	return nil
}

func loadModule(m guestModule) error {
	f, err := os.Open(m.Path)
	if err != nil {
		return fmt.Errorf("vmtest: module %s: %w", m.Name, err)
	}
	defer f.Close()
	flags := 0
	if m.Compressed {
		flags = unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), m.Params, flags); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("vmtest: finit_module %s (%q): %w", m.Path, m.Params, err)
	}
	return nil
}

func waitForPath(p string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := os.Stat(p)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vmtest: %s did not appear within %v: %w", p, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// configureNetwork brings lo and eth0 up, gives eth0 GuestIP/24 and routes everything via HostIP.
// The kernel has no CONFIG_IP_PNP, so this is done here with the classic socket ioctls.
func configureNetwork() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("vmtest: network: %w", err)
	}
	defer unix.Close(fd)
	if err := linkUp(fd, "lo"); err != nil {
		return err
	}
	if err := waitForPath("/sys/class/net/eth0", 10*time.Second); err != nil {
		return err
	}
	if err := setInet4(fd, "eth0", unix.SIOCSIFADDR, netip.MustParseAddr(GuestIP)); err != nil {
		return err
	}
	if err := setInet4(fd, "eth0", unix.SIOCSIFNETMASK, netip.MustParseAddr("255.255.255.0")); err != nil {
		return err
	}
	if err := linkUp(fd, "eth0"); err != nil {
		return err
	}
	return addDefaultRoute(fd, netip.MustParseAddr(HostIP))
}

func linkUp(fd int, name string) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("vmtest: network %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("vmtest: network %s: SIOCGIFFLAGS: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("vmtest: network %s: SIOCSIFFLAGS: %w", name, err)
	}
	return nil
}

func setInet4(fd int, name string, req uint, a netip.Addr) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("vmtest: network %s: %w", name, err)
	}
	b := a.As4()
	if err := ifr.SetInet4Addr(b[:]); err != nil {
		return fmt.Errorf("vmtest: network %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
		return fmt.Errorf("vmtest: network %s: ioctl %#x %v: %w", name, req, a, err)
	}
	return nil
}

// rtentry is struct rtentry of <linux/route.h>, for SIOCADDRT.
type rtentry struct {
	pad1    uintptr
	dst     unix.RawSockaddrInet4
	gateway unix.RawSockaddrInet4
	genmask unix.RawSockaddrInet4
	flags   uint16
	pad2    int16
	pad3    uintptr
	pad4    uintptr
	metric  int16
	dev     *byte
	mtu     uintptr
	window  uintptr
	irtt    uint16
}

func addDefaultRoute(fd int, gw netip.Addr) error {
	rt := rtentry{flags: unix.RTF_UP | unix.RTF_GATEWAY}
	rt.dst.Family = unix.AF_INET
	rt.genmask.Family = unix.AF_INET
	rt.gateway.Family = unix.AF_INET
	rt.gateway.Addr = gw.As4()
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCADDRT, uintptr(unsafe.Pointer(&rt))); errno != 0 {
		return fmt.Errorf("vmtest: network: default route via %v: %w", gw, errno)
	}
	return nil
}

// powerOff ends the guest: QEMU exits when the kernel powers the machine off through PSCI.
func powerOff(code int) {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Printf("vmtest: power off: %v\n", err)
	}
	os.Exit(code) // init exiting panics the kernel, and panic=-1 with -no-reboot stops QEMU too
}

//go:build linux

package firmware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/u-root/u-root/pkg/dhclient"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RunInit is PID 1 of the appliance image: edgeinfer runs as init (the kernel command line says
// init=/usr/bin/edgeinfer). It mounts /dev, /proc, /sys, /run and /tmp, mounts the data
// partition (the root's disk, partition 3) at /data, sets the host name, brings up lo and
// configures Ethernet interfaces by DHCP in the background, then runs 'edgeinfer run' and restarts it whenever it
// exits (1 s, doubling to 30 s; back to 1 s after a minute of running). It returns only on error or
// when ctx ends.
func RunInit(ctx context.Context, log *slog.Logger) error {
	// Without an initramfs the kernel finds no /dev/console before the root is mounted and starts
	// init with no standard files ("unable to open an initial console"): open it on the devtmpfs
	// the kernel mounted on /dev.
	if err := unix.Mount("devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		log.Error("edgeinfer init: mount devtmpfs", "err", err)
	}
	if fd, err := unix.Open("/dev/console", unix.O_RDWR|unix.O_NOCTTY, 0); err == nil {
		for i := 0; i < 3; i++ {
			unix.Dup3(fd, i, 0)
		}
		if fd > 2 {
			unix.Close(fd)
		}
	}
	log.Info("edgeinfer init: starting", "pid", os.Getpid())
	// /dev is mounted above.
	for _, m := range []struct{ src, dir, fstype, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
	} {
		if err := unix.Mount(m.src, m.dir, m.fstype, unix.MS_NOSUID, m.data); err != nil && !errors.Is(err, unix.EBUSY) {
			log.Error("edgeinfer init: mount", "fs", m.fstype, "on", m.dir, "err", err)
		}
	}
	var cfg InitConfig
	b, err := os.ReadFile(RootInitConfig)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		return fmt.Errorf("firmware: init: %s: %w", RootInitConfig, err)
	}
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			log.Error("edgeinfer init: sethostname", "err", err)
		}
	}
	for _, m := range cfg.Modules {
		if err := loadModule(m); err != nil {
			log.Error("edgeinfer init: kernel module", "path", m, "err", err)
		}
	}
	if len(cfg.Modules) > 0 {
		log.Info("edgeinfer init: loaded kernel modules", "n", len(cfg.Modules))
	}
	if err := mountData(log); err != nil {
		log.Error("edgeinfer init: data partition not mounted; /data is read-only", "err", err)
	}
	// /etc is read-only: DHCP writes the resolver configuration through a bind mount into /run.
	if err := os.WriteFile("/run/resolv.conf", nil, 0o644); err == nil {
		if err := unix.Mount("/run/resolv.conf", "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
			log.Error("edgeinfer init: bind mount /etc/resolv.conf", "err", err)
		}
	}
	if err := linkUp("lo"); err != nil {
		log.Error("edgeinfer init: loopback", "err", err)
	}
	if len(cfg.DHCP) > 0 {
		go watchInterfaces(ctx, log, cfg.DHCP)
	}
	if len(cfg.NTP) > 0 {
		go ntpLoop(ctx, log, cfg.NTP)
	}
	if cfg.WiFi != nil {
		if n := wifiNetwork(log, cfg.WiFi); n != nil {
			go func() {
				st := &WiFiStation{Net: *n, Log: log}
				if err := st.Run(ctx); err != nil && ctx.Err() == nil {
					log.Error("edgeinfer init: WiFi stopped", "err", err)
				}
			}()
		} else {
			log.Info("edgeinfer init: WiFi: no network configured (build with --wifi-ssid, or put wifi.json on the data partition)")
		}
	}
	return supervise(ctx, log, cfg)
}

// loadModule loads one kernel module file (finit_module); one already loaded is fine.
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	return nil
}

func linkUp(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(l)
}

// mountData mounts partition 3 of the disk that holds the root file system at /data.
func mountData(log *slog.Logger) error {
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		return err
	}
	sysdir, err := filepath.EvalSymlinks(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return fmt.Errorf("root device %d:%d: %w", unix.Major(st.Dev), unix.Minor(st.Dev), err)
	}
	disk := filepath.Dir(sysdir)
	entries, err := os.ReadDir(disk)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n, err := os.ReadFile(filepath.Join(disk, e.Name(), "partition"))
		if err != nil || strings.TrimSpace(string(n)) != "3" {
			continue
		}
		dev := "/dev/" + e.Name()
		if err := unix.Mount(dev, DataMount, "vfat", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOATIME, "umask=0022,utf8"); err != nil {
			return fmt.Errorf("mount %s on %s: %w", dev, DataMount, err)
		}
		log.Info("edgeinfer init: mounted data partition", "dev", dev, "on", DataMount)
		return nil
	}
	return fmt.Errorf("no partition 3 on %s", disk)
}

// watchInterfaces starts dhcpLoop for every Ethernet interface whose name starts with one of
// prefixes, now and whenever one appears (USB adapters), checking every 2 seconds.
func watchInterfaces(ctx context.Context, log *slog.Logger, prefixes []string) {
	started := map[string]bool{}
	for ctx.Err() == nil {
		links, err := netlink.LinkList()
		if err != nil {
			log.Error("edgeinfer init: listing network interfaces", "err", err)
		}
		for _, l := range links {
			a := l.Attrs()
			if started[a.Name] || a.EncapType != "ether" {
				continue
			}
			for _, p := range prefixes {
				if strings.HasPrefix(a.Name, p) {
					started[a.Name] = true
					log.Info("edgeinfer init: network interface", "if", a.Name, "mac", a.HardwareAddr.String())
					go dhcpLoop(ctx, log, a.Name)
					break
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// dhcpLoop configures ifname by DHCPv4, again at half the lease time, and retries on failure.
func dhcpLoop(ctx context.Context, log *slog.Logger, ifname string) {
	wait := 5 * time.Second
	for ctx.Err() == nil {
		lease, renew, err := DHCP(ctx, ifname)
		if err != nil {
			log.Warn("edgeinfer init: DHCP failed; retrying", "if", ifname, "err", err, "in", wait)
			renew = wait
			wait = min(2*wait, 5*time.Minute)
		} else {
			log.Info("edgeinfer init: DHCP", "if", ifname, "lease", lease, "renew in", renew)
			wait = 5 * time.Second
		}
		select {
		case <-ctx.Done():
		case <-time.After(renew):
		}
	}
}

// DHCP configures the interface ifname once by DHCPv4 (github.com/u-root/u-root/pkg/dhclient):
// brings it up, asks for a lease (3 tries of 10 s), sets the address, the routes and
// /etc/resolv.conf. It returns the lease ("10.0.2.15/24 router [10.0.2.2] dns [10.0.2.3] for 24h0m0s"),
// for the log, and when to renew it (half the lease time).
func DHCP(ctx context.Context, ifname string) (lease string, renew time.Duration, err error) {
	link, err := dhclient.IfUp(ifname, 20*time.Second)
	if err != nil {
		return "", 0, fmt.Errorf("firmware: dhcp: %w", err)
	}
	err = fmt.Errorf("firmware: dhcp: %s: no answer", ifname)
	for r := range dhclient.SendRequests(ctx, []netlink.Link{link}, true, false,
		dhclient.Config{Timeout: 10 * time.Second, Retries: 3}, 20*time.Second) {
		if r.Err != nil {
			err = fmt.Errorf("firmware: dhcp: %s: %w", ifname, r.Err)
			continue
		}
		if cerr := r.Lease.Configure(); cerr != nil {
			err = fmt.Errorf("firmware: dhcp: %s: configuring the lease: %w", ifname, cerr)
			continue
		}
		err, lease, renew = nil, "", 30*time.Minute
		if m, _ := r.Lease.Message(); m != nil {
			lt := m.IPAddressLeaseTime(time.Hour)
			if lt > 0 {
				renew = lt / 2
			}
			ones, _ := m.SubnetMask().Size()
			lease = fmt.Sprintf("%v/%d router %v dns %v for %v", m.YourIPAddr, ones, m.Router(), m.DNS(), lt)
		}
	}
	return lease, renew, err
}

func supervise(ctx context.Context, log *slog.Logger, cfg InitConfig) error {
	self, err := os.Executable()
	if err != nil {
		self = RootBinary
	}
	env := []string{"PATH=/usr/bin", "HOME=" + DataMount, "EDGEINFER_CACHE=" + DataMount + "/cache", "TZ=UTC"}
	return superviseCmd(ctx, log, func() *exec.Cmd {
		args := runArgs(cfg, DataConfig)
		cmd := exec.Command(self, args...)
		cmd.Env = env
		cmd.Dir = "/"
		return cmd
	}, sleepCtx)
}

// superviseCmd runs the command newCmd makes, again and again: after an exit it waits (sleep)
// 1 s, doubling up to 30 s, and back to 1 s after a run of more than a minute. When ctx ends it
// sends SIGTERM to the running command and returns once it has exited.
func superviseCmd(ctx context.Context, log *slog.Logger, newCmd func() *exec.Cmd, sleep func(context.Context, time.Duration)) error {
	backoff := time.Second
	for restarts := 0; ; restarts++ {
		cmd := newCmd()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
		log.Info("edgeinfer init: running edgeinfer", "cmd", strings.Join(cmd.Args, " "), "restarts", restarts)
		started := time.Now()
		err := cmd.Start()
		if err == nil {
			stop := context.AfterFunc(ctx, func() { cmd.Process.Signal(unix.SIGTERM) })
			err = cmd.Wait()
			stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		log.Warn("edgeinfer init: edgeinfer run exited; restarting", "err", err, "after", backoff)
		sleep(ctx, backoff)
		backoff = min(2*backoff, 30*time.Second)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// InitPID1 is what the edgeinfer binary calls when it finds itself process 1: it runs RunInit and,
// should that return, syncs and reboots (PID 1 must not exit).
func InitPID1() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	err := RunInit(context.Background(), log)
	log.Error("edgeinfer init: stopped; rebooting in 10 s", "err", err)
	time.Sleep(10 * time.Second)
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	os.Exit(1)
}

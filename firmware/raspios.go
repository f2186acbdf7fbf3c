package firmware

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

// DefaultBootMount is where Raspberry Pi OS (Bookworm, October 2023, and later) mounts the boot
// partition; earlier releases mount it at /boot.
const DefaultBootMount = "/boot/firmware"

// Paths of the Raspberry Pi OS mode, on the boot partition and on the installed system.
const (
	// On the boot partition, all in its root directory (go-diskfs v1.9.4 writes a '..' entry in new
	// subdirectories that fsck.fat reports as invalid); the first boot removes them.
	raspiPayload  = "/edgeinfer-"                // prefix of the payload files
	raspiFirstRun = "/edgeinfer-firstrun.sh"     // the first-boot script
	raspiBinary   = "/usr/local/bin/edgeinfer"   // on the root file system
	raspiModelDir = "/usr/local/share/edgeinfer" // on the root file system
	raspiConfig   = "/etc/edgeinfer/edgeinfer.yaml"
)

// systemdUnit is packaging/edgeinfer.service (TestSystemdUnitMatchesPackaging keeps them equal).
//
//go:embed edgeinfer.service
var systemdUnit []byte

// RaspiOSOptions describes the customisation of a Raspberry Pi OS Lite image.
type RaspiOSOptions struct {
	Base  string // Raspberry Pi OS Lite image (.img, uncompressed)
	Board Board
	Payload
	// WiFi, when set, is applied on first boot like Raspberry Pi Imager does. The passphrase is
	// stored only as its WPA PSK (PBKDF2-SHA1 of passphrase and SSID).
	WiFi      *WiFi
	BootMount string // "": DefaultBootMount
	Log       *slog.Logger

	wifiNet *InitWiFi // WiFi as stored, set by check
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

func (o *RaspiOSOptions) check() error {
	if o.Base == "" {
		return errors.New("firmware: no base image")
	}
	if fi, err := os.Stat(o.Base); err != nil {
		return fmt.Errorf("firmware: base image: %w", err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("firmware: base image %s is not a regular file (an uncompressed .img is needed; unpack .img.xz first)", o.Base)
	}
	if err := o.Payload.check(o.Board); err != nil {
		return err
	}
	if o.BootMount == "" {
		o.BootMount = DefaultBootMount
	}
	if !path.IsAbs(o.BootMount) || strings.ContainsAny(o.BootMount, " '\"\\$`") {
		return fmt.Errorf("firmware: boot mount %q: want an absolute path without spaces or quotes", o.BootMount)
	}
	if o.WiFi != nil {
		n, err := o.WiFi.network()
		if err != nil {
			return err
		}
		o.wifiNet = &n
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// wpaPSK is the 256-bit WPA pre-shared key of a passphrase, as hex (IEEE 802.11i, H.4).
func wpaPSK(ssid, passphrase string) (string, error) {
	k, err := pbkdf2.Key(sha1.New, passphrase, []byte(ssid), 4096, 32)
	if err != nil {
		return "", fmt.Errorf("firmware: WiFi PSK: %w", err)
	}
	return hex.EncodeToString(k), nil
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// baseInfo is what checkBase learned of a base image.
type baseInfo struct {
	bootStart, bootSize int64
	cmdline             string
}

// checkBase makes sure path is a Raspberry Pi OS image: MBR, partition 1 FAT32 with cmdline.txt
// and config.txt, partition 2 Linux.
func checkBase(p string) (*baseInfo, error) {
	d, err := diskfs.Open(p, diskfs.WithOpenMode(diskfs.ReadOnly), diskfs.WithSectorSize(diskfs.SectorSize512))
	if err != nil {
		return nil, fmt.Errorf("firmware: base image %s: %w", p, err)
	}
	defer d.Close()
	foreign := func(why string, args ...any) error {
		return fmt.Errorf("firmware: base image %s is not a Raspberry Pi OS image: %s", p, fmt.Sprintf(why, args...))
	}
	tbl, err := d.GetPartitionTable()
	if err != nil {
		return nil, foreign("no partition table (%v)", err)
	}
	mt, ok := tbl.(*mbr.Table)
	if !ok {
		return nil, foreign("the partition table is %s, not MBR", tbl.Type())
	}
	if len(mt.Partitions) < 2 || mt.Partitions[0].Type != mbr.Fat32LBA && mt.Partitions[0].Type != mbr.Fat32CHS || mt.Partitions[1].Type != mbr.Linux {
		return nil, foreign("want partition 1 FAT32 (boot) and partition 2 Linux (root)")
	}
	fsys, err := d.GetFilesystem(1)
	if err != nil {
		return nil, foreign("partition 1: %v", err)
	}
	if fsys.Type() != filesystem.TypeFat32 {
		return nil, foreign("partition 1 is not FAT32")
	}
	cmd, err := readAll(fsys, "/cmdline.txt")
	if err != nil {
		return nil, foreign("the boot partition has no cmdline.txt")
	}
	if _, err := readAll(fsys, "/config.txt"); err != nil {
		return nil, foreign("the boot partition has no config.txt")
	}
	// pi-gen, which builds Raspberry Pi OS, writes issue.txt ("Raspberry Pi reference 2025-05-13").
	if issue, err := readAll(fsys, "/issue.txt"); err != nil || !strings.Contains(issue, "Raspberry Pi reference") {
		return nil, foreign("the boot partition has no issue.txt saying \"Raspberry Pi reference\" (written by pi-gen)")
	}
	line := strings.TrimSpace(cmd)
	if !strings.Contains(line, "root=") {
		return nil, foreign("cmdline.txt has no root=")
	}
	if strings.Contains(line, "rootfstype=squashfs") {
		return nil, foreign("it is an edgeinfer appliance image (squashfs root)")
	}
	if strings.Contains(line, "systemd.run=") {
		return nil, fmt.Errorf("firmware: base image %s already has a first-boot script (systemd.run= in cmdline.txt): start from a fresh Raspberry Pi OS Lite image", p)
	}
	part := mt.Partitions[0]
	return &baseInfo{bootStart: int64(part.Start) * sectorSize, bootSize: int64(part.Size) * sectorSize, cmdline: line}, nil
}

func readAll(fsys filesystem.FileSystem, p string) (string, error) {
	b, err := readFile(fsys, p)
	return string(b), err
}

// readFile reads a whole file from a go-diskfs file system. It reads no more than the size in
// the directory entry: go-diskfs v1.9.4's FAT File.Read can return bytes past the end of a file.
func readFile(fsys filesystem.FileSystem, p string) ([]byte, error) {
	rel := strings.TrimPrefix(p, "/")
	fi, err := fsys.Stat(rel)
	if err != nil {
		return nil, err
	}
	f, err := fsys.OpenFile(rel, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return b, nil
}

// usedBytes sums the sizes of the files under dir (rounded up to clusters of 4 KiB, a guess that
// errs on the safe side for RPi OS boot partitions).
func usedBytes(fsys filesystem.FileSystem, dir string) (int64, error) {
	entries, err := fsys.ReadDir(dir) // io/fs paths: "." is the root
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		if e.Name() == "." || e.Name() == ".." {
			continue
		}
		if e.IsDir() {
			m, err := usedBytes(fsys, path.Join(dir, e.Name()))
			if err != nil {
				return 0, err
			}
			n += m + 4096
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return 0, err
		}
		n += roundUp(fi.Size(), 4096)
	}
	return n, nil
}

// CustomizeRaspiOS writes to out a copy of the Raspberry Pi OS Lite image o.Base that installs
// edgeinfer on first boot. Only the FAT32 boot partition changes, edited in place with go-diskfs
// (no root, loop devices or mounting): the payload goes to /edgeinfer/, a first-boot script to
// /edgeinfer-firstrun.sh, and cmdline.txt gets systemd.run=... as Raspberry Pi Imager does. On first
// boot the script installs the binary, model, configuration and the systemd unit, applies the host
// name and WiFi settings, removes itself and the payload, and the Pi reboots into the installed
// system.
func CustomizeRaspiOS(ctx context.Context, out string, o RaspiOSOptions) (*Summary, error) {
	start := time.Now()
	if err := o.check(); err != nil {
		return nil, err
	}
	if a, b := absPath(out), absPath(o.Base); a == b {
		return nil, fmt.Errorf("firmware: the output %s is the base image: write to another file", out)
	}
	log := o.Log
	log.Info("firmware: checking base image", "path", o.Base)
	info, err := checkBase(o.Base)
	if err != nil {
		return nil, err
	}
	epoch := Epoch()

	modelName := filepath.Base(o.Model)
	if !safeName.MatchString(modelName) {
		modelName = "model" + strings.ToLower(filepath.Ext(modelName))
	}
	p := o.Payload
	files := []fileSpec{
		{dst: raspiPayload + "binary", src: p.Binary, mode: 0o755},
		{dst: raspiPayload + "model-" + modelName, src: p.Model, mode: 0o644},
		{dst: raspiPayload + "edgeinfer.service", data: systemdUnit, mode: 0o644},
	}
	files = append(files, fileSpec{dst: raspiPayload + "edgeinfer.yaml", data: p.config(), mode: 0o644})
	dropIn := "# Written by 'edgeinfer firmware build --base': the model put in the image.\n[Service]\n" +
		"Environment=EDGEINFER_MODEL=" + raspiModelDir + "/" + modelName + "\n"
	if p.Labels != "" {
		files = append(files, fileSpec{dst: raspiPayload + "labels.txt", src: p.Labels, mode: 0o644})
		dropIn += "Environment=EDGEINFER_LABELS=" + raspiModelDir + "/labels.txt\n"
	}
	files = append(files, fileSpec{dst: raspiPayload + "firmware.conf", data: []byte(dropIn), mode: 0o644})
	files = append(files, fileSpec{dst: raspiFirstRun, data: []byte(o.firstRunScript(modelName)), mode: 0o755})
	cmdline := info.cmdline + " systemd.run=" + o.BootMount + raspiFirstRun +
		" systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n"
	files = append(files, fileSpec{dst: "/cmdline.txt", data: []byte(cmdline), mode: 0o644})

	var need int64
	for _, f := range files {
		n, err := f.size()
		if err != nil {
			return nil, err
		}
		need += roundUp(n, 4096)
	}

	tmpOut := out + ".tmp"
	os.Remove(tmpOut)
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpOut)
		}
	}()
	log.Info("firmware: copying base image", "from", o.Base, "to", out)
	if err := copyFile(ctx, o.Base, tmpOut); err != nil {
		return nil, err
	}
	d, err := diskfs.Open(tmpOut, diskfs.WithOpenMode(diskfs.ReadWrite), diskfs.WithSectorSize(diskfs.SectorSize512))
	if err != nil {
		return nil, fmt.Errorf("firmware: %s: %w", tmpOut, err)
	}
	err = withEpoch(epoch, func() error {
		fsys, err := d.GetFilesystem(1)
		if err != nil {
			return fmt.Errorf("boot partition: %w", err)
		}
		used, err := usedBytes(fsys, ".")
		if err != nil {
			return fmt.Errorf("boot partition: %w", err)
		}
		if free := info.bootSize - used - info.bootSize/50; need > free {
			return fmt.Errorf("image too small: the boot partition of %s has about %.1f MiB free, edgeinfer needs %.1f MiB (use a smaller model, or grow the boot partition)",
				o.Base, float64(max(free, 0))/mib, float64(need)/mib)
		}
		log.Info("firmware: writing boot partition", "files", len(files), "MiB", fmt.Sprintf("%.1f", float64(need)/mib))
		return writeFiles(ctx, fsys, files, epoch, "boot partition")
	})
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	fi, err := os.Stat(tmpOut)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	if err := os.Rename(tmpOut, out); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	ok = true
	s := &Summary{Image: out, Board: o.Board.Name, Mode: "raspios", Size: fi.Size(),
		Partitions: []PartitionInfo{{1, "boot", "vfat", info.bootStart, info.bootSize}}}
	for _, f := range files {
		pl, err := f.placement("boot")
		if err != nil {
			return nil, err
		}
		s.Files = append(s.Files, pl)
	}
	s.Elapsed = time.Since(start)
	log.Info("firmware: done", "path", out, "seconds", fmt.Sprintf("%.1f", s.Elapsed.Seconds()))
	return s, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		p = a
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return p
}

func copyFile(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("firmware: %w", err)
	}
	defer in.Close()
	w, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("firmware: %w", err)
	}
	buf := make([]byte, 4*mib)
	for {
		if err := ctx.Err(); err != nil {
			w.Close()
			return err
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				w.Close()
				return fmt.Errorf("firmware: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			w.Close()
			return fmt.Errorf("firmware: %w", rerr)
		}
	}
	return w.Close()
}

// firstRunScript is /edgeinfer-firstrun.sh on the boot partition.
func (o *RaspiOSOptions) firstRunScript(modelName string) string {
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	w("#!/bin/sh\n")
	w("# edgeinfer first boot, written by 'edgeinfer firmware build --base' (board %s).\n", o.Board.Name)
	w("# systemd runs it once (systemd.run= in cmdline.txt); it installs edgeinfer, applies the host\n")
	w("# name and WiFi settings, removes itself and its payload, and the Pi reboots.\n")
	w("set -e\nB=%s\nP=\"$B%s\"\n", o.BootMount, raspiPayload)
	w("install -D -m 755 \"${P}binary\" %s\n", raspiBinary)
	w("install -D -m 644 \"${P}model-%s\" %s/%s\n", modelName, raspiModelDir, modelName)
	if o.Labels != "" {
		w("install -D -m 644 \"${P}labels.txt\" %s/labels.txt\n", raspiModelDir)
	}
	w("install -D -m 644 \"${P}edgeinfer.yaml\" %s\n", raspiConfig)
	w("install -D -m 644 \"${P}edgeinfer.service\" /etc/systemd/system/edgeinfer.service\n")
	w("install -D -m 644 \"${P}firmware.conf\" /etc/systemd/system/edgeinfer.service.d/firmware.conf\n")
	w("mkdir -p /etc/systemd/system/multi-user.target.wants\n")
	w("ln -sf /etc/systemd/system/edgeinfer.service /etc/systemd/system/multi-user.target.wants/edgeinfer.service\n")
	if h := o.Hostname; h != "" {
		w("CURRENT=$(cat /etc/hostname 2>/dev/null || echo raspberrypi)\n")
		w("if [ -x /usr/lib/raspberrypi-sys-mods/imager_custom ]; then\n")
		w("  /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname %s\n", shq(h))
		w("else\n  echo %s >/etc/hostname\n", shq(h))
		w("  sed -i \"s/127.0.1.1.*$CURRENT/127.0.1.1\\t%s/g\" /etc/hosts\nfi\n", h)
	}
	if n := o.wifiNet; n != nil {
		w("if [ -x /usr/lib/raspberrypi-sys-mods/imager_custom ]; then\n")
		w("  /usr/lib/raspberrypi-sys-mods/imager_custom set_wlan %s %s %s\n", shq(n.SSID), n.PSK, n.Country)
		w("else\n")
		w("  cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'\n")
		w("country=%s\nctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nap_scan=1\nupdate_config=1\n", n.Country)
		w("network={\n\tssid=%s\n\tpsk=%s\n}\nWPAEOF\n", hex.EncodeToString([]byte(n.SSID)), n.PSK)
		w("  chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf\n")
		w("  rfkill unblock wifi || true\n")
		w("  for f in /var/lib/systemd/rfkill/*:wlan; do if [ -e \"$f\" ]; then echo 0 >\"$f\"; fi; done\n")
		w("fi\n")
	}
	w("rm -f \"$P\"* \"$B%s\"\n", raspiFirstRun)
	w("sed -i 's| systemd.run.*||g' \"$B/cmdline.txt\"\n")
	w("exit 0\n")
	return s.String()
}

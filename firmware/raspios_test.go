package firmware

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

const baseCmdline = "console=serial0,115200 console=tty1 root=PARTUUID=1234abcd-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot"

// makeBase writes a small stand-in for a Raspberry Pi OS Lite image: MBR (disk ID 1234abcd),
// partition 1 FAT32 "bootfs" at 4 MiB with cmdline.txt, config.txt and more files, partition 2 a
// Linux partition of 16 MiB holding an ext4 superblock magic and a byte pattern.
func makeBase(t *testing.T, bootSize int64, cmdline string, extra map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "raspios-lite.img")
	bootSize = fat32FitSize(bootSize)
	bootStart := int64(4 * mib)
	rootStart := roundUp(bootStart+bootSize, mib)
	rootSize := int64(16 * mib)
	d, err := diskfs.Create(p, rootStart+rootSize, diskfs.SectorSize512)
	if err != nil {
		t.Fatal(err)
	}
	table := &mbr.Table{LogicalSectorSize: sectorSize, PhysicalSectorSize: sectorSize, Partitions: []*mbr.Partition{
		{Index: 1, Type: mbr.Fat32LBA, Start: uint32(bootStart / sectorSize), Size: uint32(bootSize / sectorSize)},
		{Index: 2, Type: mbr.Linux, Start: uint32(rootStart / sectorSize), Size: uint32(rootSize / sectorSize)},
	}}
	if err := d.Partition(table); err != nil {
		t.Fatal(err)
	}
	fsys, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 1, FSType: filesystem.TypeFat32, VolumeLabel: "bootfs"})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"/cmdline.txt": []byte(cmdline + "\n"),
		"/config.txt":  []byte("# For more options see config.txt(5)\ndtparam=audio=on\ncamera_auto_detect=1\narm_64bit=1\n"),
		"/start4.elf":  bytes.Repeat([]byte("start4"), 1000),
		"/issue.txt":   []byte("Raspberry Pi reference 2025-05-13\n"),
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, data := range files {
		f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	root := make([]byte, rootSize)
	for i := range root {
		root[i] = byte(i*31 + i>>12)
	}
	binary.LittleEndian.PutUint16(root[1024+56:], 0xef53) // ext4 superblock magic
	if _, err := d.WritePartitionContents(2, bytes.NewReader(root)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := patchImage(p, func(f *os.File) error { return patchUint32(f, mbrDiskSignatureOff, 0x1234abcd) }); err != nil {
		t.Fatal(err)
	}
	return p
}

func raspiOptions(t *testing.T, base string) RaspiOSOptions {
	pi4, _ := LookupBoard("pi4")
	return RaspiOSOptions{Base: base, Board: pi4, Payload: Payload{Binary: testBinary(t), Model: testModel(t),
		Config: []byte("source: \"rpicam:?size=640x480\"\n"), Hostname: "kitchen"},
		WiFi: &WiFi{SSID: "IEEE", Passphrase: "password", Country: "GB"}}
}

func TestRaspiOS(t *testing.T) {
	base := makeBase(t, 64*mib, baseCmdline, nil)
	baseSum := fileSum(t, base)
	o := raspiOptions(t, base)
	out := filepath.Join(t.TempDir(), "sdcard.img")
	s, err := CustomizeRaspiOS(testContext(t, 2*time.Minute), out, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("customised in %v", s.Elapsed.Round(time.Millisecond))
	if fileSum(t, base) != baseSum {
		t.Fatal("the base image changed")
	}
	bi, oi := mustRead(t, base), mustRead(t, out)
	if len(bi) != len(oi) {
		t.Fatalf("output is %d bytes, base %d", len(oi), len(bi))
	}
	if !bytes.Equal(bi[:512], oi[:512]) {
		t.Error("the MBR changed")
	}
	im := openImage(t, out)
	p2 := im.table.Partitions[1]
	r0, r1 := int64(p2.Start)*sectorSize, int64(p2.Start+p2.Size)*sectorSize
	if !bytes.Equal(bi[r0:r1], oi[r0:r1]) {
		t.Error("the root partition changed")
	}
	boot := im.fs(1, filesystem.TypeFat32)
	cmdline := string(readFS(t, boot, "/cmdline.txt"))
	want := baseCmdline + " systemd.run=/boot/firmware/edgeinfer-firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n"
	if cmdline != want {
		t.Errorf("cmdline.txt\n got %q\nwant %q", cmdline, want)
	}
	if got := string(readFS(t, boot, "/config.txt")); !strings.Contains(got, "camera_auto_detect=1") {
		t.Errorf("config.txt changed: %q", got)
	}
	if !bytes.Equal(readFS(t, boot, "/edgeinfer-binary"), mustRead(t, o.Binary)) {
		t.Error("binary differs")
	}
	if !bytes.Equal(readFS(t, boot, "/edgeinfer-model-tiny_quant.tflite"), mustRead(t, o.Model)) {
		t.Error("model differs")
	}
	if got := readFS(t, boot, "/edgeinfer-edgeinfer.service"); !bytes.Equal(got, systemdUnit) {
		t.Errorf("systemd unit differs: %d bytes, want %d; starts %q", len(got), len(systemdUnit), got[:min(len(got), 80)])
	}
	if got := string(readFS(t, boot, "/edgeinfer-edgeinfer.yaml")); got != string(o.Config) {
		t.Errorf("config %q", got)
	}
	dropIn := string(readFS(t, boot, "/edgeinfer-firmware.conf"))
	if !strings.Contains(dropIn, "[Service]\nEnvironment=EDGEINFER_MODEL=/usr/local/share/edgeinfer/tiny_quant.tflite\n") {
		t.Errorf("drop-in:\n%s", dropIn)
	}
	script := string(readFS(t, boot, "/edgeinfer-firstrun.sh"))
	for _, want := range []string{
		"B=/boot/firmware\n",
		`install -D -m 755 "${P}binary" /usr/local/bin/edgeinfer`,
		"ln -sf /etc/systemd/system/edgeinfer.service /etc/systemd/system/multi-user.target.wants/edgeinfer.service",
		"imager_custom set_hostname 'kitchen'",
		// IEEE 802.11i-2004, H.4.1: passphrase "password", SSID "IEEE".
		"imager_custom set_wlan 'IEEE' f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e GB",
		"\tssid=49454545\n",
		"sed -i 's| systemd.run.*||g' \"$B/cmdline.txt\"",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("first-boot script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "password") {
		t.Error("the first-boot script holds the WiFi passphrase in clear")
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		cmd := exec.CommandContext(testContext(t, 30*time.Second), sh, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v: %s", err, out)
		}
	}
	checkFAT32Geometry(t, out, int64(im.table.Partitions[0].Start)*sectorSize)
	if fsck, err := exec.LookPath("fsck.vfat"); err == nil {
		part := filepath.Join(t.TempDir(), "boot.part")
		p1 := im.table.Partitions[0]
		if err := os.WriteFile(part, oi[int64(p1.Start)*sectorSize:int64(p1.Start+p1.Size)*sectorSize], 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.CommandContext(testContext(t, time.Minute), fsck, "-n", part).CombinedOutput(); err != nil {
			t.Errorf("fsck.vfat -n: %v\n%s", err, out)
		}
	} else {
		t.Log("fsck.vfat (dosfstools) not installed: the FAT is checked by go-diskfs only")
	}

	// Same inputs, same bytes.
	out2 := filepath.Join(t.TempDir(), "sdcard.img")
	if _, err := CustomizeRaspiOS(testContext(t, 2*time.Minute), out2, o); err != nil {
		t.Fatal(err)
	}
	if !sameFile(t, out, out2) {
		t.Error("two customisations with the same inputs differ")
	}
}

func TestRaspiOSBadInputs(t *testing.T) {
	good := makeBase(t, 64*mib, baseCmdline, nil)
	zeros := filepath.Join(t.TempDir(), "zeros.img")
	if err := os.WriteFile(zeros, make([]byte, 8*mib), 0o644); err != nil {
		t.Fatal(err)
	}
	appliance, _, _ := buildTestAppliance(t, "pi3", nil)
	cases := []struct {
		name string
		mod  func(*RaspiOSOptions)
		want string
	}{
		{"missing", func(o *RaspiOSOptions) { o.Base = "/nonexistent/raspios.img" }, "no such file"},
		{"zeros", func(o *RaspiOSOptions) { o.Base = zeros }, "is not a Raspberry Pi OS image"},
		{"appliance", func(o *RaspiOSOptions) { o.Base = appliance }, "is not a Raspberry Pi OS image"},
		{"customised", func(o *RaspiOSOptions) {
			o.Base = makeBase(t, 64*mib, baseCmdline+" systemd.run=/boot/firstrun.sh", nil)
		}, "already has a first-boot script"},
		{"no issue.txt", func(o *RaspiOSOptions) {
			o.Base = makeBase(t, 64*mib, baseCmdline, map[string][]byte{"/issue.txt": []byte("Ubuntu 24.04\n")})
		}, "no issue.txt saying"},
		{"no cmdline", func(o *RaspiOSOptions) {
			o.Base = makeBase(t, 64*mib, "", nil)
		}, "cmdline.txt has no root="},
		{"full", func(o *RaspiOSOptions) {
			o.Base = makeBase(t, 48*mib, baseCmdline, map[string][]byte{"/kernel8.img": make([]byte, 40*mib)})
		}, "image too small"},
		{"country", func(o *RaspiOSOptions) { o.WiFi.Country = "" }, "WiFi country"},
		{"psk", func(o *RaspiOSOptions) { o.WiFi.Passphrase = "short" }, "WiFi passphrase"},
		{"boot mount", func(o *RaspiOSOptions) { o.BootMount = "boot" }, "boot mount"},
	}
	o := raspiOptions(t, good)
	if _, err := CustomizeRaspiOS(testContext(t, time.Minute), good, o); err == nil || !strings.Contains(err.Error(), "is the base image") {
		t.Errorf("output = base: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := raspiOptions(t, good)
			c.mod(&o)
			out := filepath.Join(t.TempDir(), "x.img")
			_, err := CustomizeRaspiOS(testContext(t, time.Minute), out, o)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "firmware: ") {
				t.Fatalf("error %v, want one starting with \"firmware: \" and containing %q", err, c.want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("a failed customisation left the image behind")
			}
			if _, serr := os.Stat(out + ".tmp"); serr == nil {
				t.Error("a failed customisation left its temporary file behind")
			}
		})
	}
}

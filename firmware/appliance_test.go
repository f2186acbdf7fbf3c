package firmware

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

func buildTestAppliance(t *testing.T, board string, mod func(*ApplianceOptions)) (string, *Summary, ApplianceOptions) {
	t.Helper()
	b, err := LookupBoard(board)
	if err != nil {
		t.Fatal(err)
	}
	o := ApplianceOptions{Board: b, Payload: Payload{Binary: testBinary(t), Model: testModel(t),
		Config: []byte("source: \"pattern:\"\n"), Hostname: "cam-" + board}}
	if mod != nil {
		mod(&o)
	}
	out := filepath.Join(t.TempDir(), board+".img")
	s, err := BuildAppliance(testContext(t, 5*time.Minute), out, o)
	if err != nil {
		t.Fatalf("BuildAppliance(%s): %v", board, err)
	}
	return out, s, o
}

// TestApplianceReadBack builds an image for every board and reads all of it back with go-diskfs.
func TestApplianceReadBack(t *testing.T) {
	kernelDir, err := ModuleDir(testContext(t, 5*time.Minute), KernelModule, KernelVersion)
	if err != nil {
		t.Fatal(err)
	}
	firmwareDir, err := ModuleDir(testContext(t, 5*time.Minute), FirmwareModule, FirmwareVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Boards() {
		t.Run(name, func(t *testing.T) {
			out, s, o := buildTestAppliance(t, name, nil)
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != s.Size {
				t.Errorf("image is %d bytes, summary says %d", fi.Size(), s.Size)
			}
			t.Logf("%s: %.1f MiB in %v", name, float64(fi.Size())/mib, s.Elapsed.Round(time.Millisecond))
			im := openImage(t, out)

			// Partition table.
			wantTypes := []mbr.Type{mbr.Fat32LBA, mbr.Linux, mbr.Fat32LBA}
			parts := im.table.Partitions
			for len(parts) > 0 && parts[len(parts)-1].Type == mbr.Empty {
				parts = parts[:len(parts)-1]
			}
			if len(parts) != 3 {
				t.Fatalf("%d partitions, want 3", len(parts))
			}
			var end int64
			for i, p := range parts {
				start, size := int64(p.Start)*sectorSize, int64(p.Size)*sectorSize
				if p.Type != wantTypes[i] {
					t.Errorf("partition %d: type %#x, want %#x", i+1, p.Type, wantTypes[i])
				}
				if start%mib != 0 {
					t.Errorf("partition %d starts at %d, not on a MiB boundary", i+1, start)
				}
				if start < end {
					t.Errorf("partition %d starts at %d, inside the previous one (ends %d)", i+1, start, end)
				}
				if start != s.Partitions[i].Start || size != s.Partitions[i].Size {
					t.Errorf("partition %d: %d+%d, summary says %d+%d", i+1, start, size, s.Partitions[i].Start, s.Partitions[i].Size)
				}
				end = start + size
			}
			if end > fi.Size() {
				t.Errorf("partitions end at %d, past the image's %d bytes", end, fi.Size())
			}
			checkFAT32Geometry(t, out, s.Partitions[0].Start)
			checkFAT32Geometry(t, out, s.Partitions[2].Start)

			// Boot partition.
			boot := im.fs(1, filesystem.TypeFat32)
			if got := strings.TrimSpace(boot.Label()); got != bootLabel {
				t.Errorf("boot label %q, want %q", got, bootLabel)
			}
			cmdline := string(readFS(t, boot, "/cmdline.txt"))
			for _, want := range []string{fmt.Sprintf("root=PARTUUID=%08x-02 ", s.DiskID), "rootfstype=squashfs", "init=/usr/bin/edgeinfer", "console=serial0,115200"} {
				if !strings.Contains(cmdline, want) {
					t.Errorf("cmdline.txt %q lacks %q", cmdline, want)
				}
			}
			if strings.Count(cmdline, "\n") != 1 || !strings.HasSuffix(cmdline, "\n") {
				t.Errorf("cmdline.txt must be one line: %q", cmdline)
			}
			config := string(readFS(t, boot, "/config.txt"))
			for _, want := range []string{"arm_64bit=1\n", "kernel=vmlinuz\n", "enable_uart=1\n"} {
				if !strings.Contains(config, want) {
					t.Errorf("config.txt lacks %q:\n%s", want, config)
				}
			}
			if !bytes.Equal(readFS(t, boot, "/vmlinuz"), mustRead(t, filepath.Join(kernelDir, "vmlinuz"))) {
				t.Error("vmlinuz differs from the kernel module's")
			}
			for _, dtb := range o.Board.DTBs {
				if !bytes.Equal(readFS(t, boot, "/"+dtb), mustRead(t, filepath.Join(kernelDir, dtb))) {
					t.Errorf("%s differs from the kernel module's", dtb)
				}
			}
			for _, fw := range o.Board.Firmware {
				if !bytes.Equal(readFS(t, boot, "/"+fw), mustRead(t, filepath.Join(firmwareDir, fw))) {
					t.Errorf("%s differs from the firmware module's", fw)
				}
			}
			entries, err := boot.ReadDir(".")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() == "start.elf" && name != "pi3" && name != "zero2w" {
					t.Errorf("%s image has start.elf", name)
				}
				if e.Name() == "start4.elf" && name != "pi4" {
					t.Errorf("%s image has start4.elf", name)
				}
				if e.IsDir() {
					t.Errorf("boot partition has a directory %s (go-diskfs writes a bad '..' in subdirectories)", e.Name())
				}
			}

			// Root file system.
			root := im.fs(2, filesystem.TypeSquashfs)
			if !bytes.Equal(readFS(t, root, RootBinary), mustRead(t, o.Binary)) {
				t.Error("root: edgeinfer binary differs")
			}
			bst, err := root.Stat(fsPath(RootBinary))
			if err != nil || bst.Mode().Perm() != 0o755 {
				t.Errorf("root: %s mode %v (%v), want 0755", RootBinary, bst.Mode(), err)
			}
			var ic InitConfig
			if err := json.Unmarshal(readFS(t, root, RootInitConfig), &ic); err != nil {
				t.Fatalf("init.json: %v", err)
			}
			if ic.Hostname != "cam-"+name || ic.Config != RootConfig || ic.Model != RootModelDir+"/tiny_quant.tflite" ||
				strings.Join(ic.NTP, ",") != strings.Join(DefaultNTPServers, ",") {
				t.Errorf("init.json = %+v", ic)
			}
			if n := len(ic.Modules); n == 0 || !strings.HasSuffix(ic.Modules[n-1], "/kernel/drivers/media/usb/uvc/uvcvideo.ko") {
				t.Errorf("init.json modules %q: want uvcvideo last, after its dependencies", ic.Modules)
			}
			for _, m := range ic.Modules {
				if _, err := root.Stat(fsPath(m)); err != nil {
					t.Errorf("root: kernel module %s: %v", m, err)
				}
			}
			if !bytes.Equal(readFS(t, root, ic.Model), mustRead(t, o.Model)) {
				t.Error("root: model differs")
			}
			if got := string(readFS(t, root, RootConfig)); got != "source: \"pattern:\"\n" {
				t.Errorf("root: config %q", got)
			}
			if got := string(readFS(t, root, "/etc/hostname")); got != "cam-"+name+"\n" {
				t.Errorf("root: /etc/hostname %q", got)
			}
			for _, d := range []string{"/dev", "/proc", "/sys", "/run", "/tmp", "/data"} {
				if st, err := root.Stat(fsPath(d)); err != nil || !st.IsDir() {
					t.Errorf("root: mount point %s missing (%v)", d, err)
				}
			}

			// Data partition.
			data := im.fs(3, filesystem.TypeFat32)
			if !strings.Contains(string(readFS(t, data, "/README.txt")), "edgeinfer.yaml") {
				t.Error("data: README.txt does not explain edgeinfer.yaml")
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestApplianceReproducible builds the same image twice: same bytes; a different input changes
// the IDs.
func TestApplianceReproducible(t *testing.T) {
	model := testModel(t)
	mod := func(o *ApplianceOptions) { o.Model = model }
	a, sa, _ := buildTestAppliance(t, "pi3", mod)
	time.Sleep(1100 * time.Millisecond) // a clock-derived time would differ
	// The same bytes from other paths.
	model2 := filepath.Join(t.TempDir(), filepath.Base(model))
	bin2 := filepath.Join(t.TempDir(), "edgeinfer")
	if err := os.WriteFile(model2, mustRead(t, model), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin2, mustRead(t, testBinary(t)), 0o755); err != nil {
		t.Fatal(err)
	}
	b, sb, _ := buildTestAppliance(t, "pi3", func(o *ApplianceOptions) { o.Model, o.Binary = model2, bin2 })
	if !sameFile(t, a, b) {
		t.Fatal("two builds with the same inputs differ")
	}
	c, sc, _ := buildTestAppliance(t, "pi3", func(o *ApplianceOptions) { o.Model = model; o.Hostname = "other" })
	if sameFile(t, a, c) || sc.DiskID == sa.DiskID {
		t.Errorf("a different host name gave the same image or disk ID (%08x)", sc.DiskID)
	}
	if sa.DiskID != sb.DiskID {
		t.Errorf("disk IDs %08x and %08x", sa.DiskID, sb.DiskID)
	}
}

// TestApplianceSize: --size grows the data partition; a size below the contents is an error.
func TestApplianceSize(t *testing.T) {
	out, s, _ := buildTestAppliance(t, "pi4", func(o *ApplianceOptions) { o.Size = 300 * mib })
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 300*mib {
		t.Errorf("image is %d bytes, want %d", fi.Size(), 300*mib)
	}
	if d := s.Partitions[2]; d.Start+d.Size > 300*mib || d.Start+d.Size < 300*mib-32*1024 {
		t.Errorf("data partition %d+%d does not fill the image", d.Start, d.Size)
	}
	checkFAT32Geometry(t, out, s.Partitions[2].Start)
}

// foreignELF writes the 64-byte header of a RISC-V executable: an ELF file for another
// architecture on any host (the test binary itself is arm64 on a Pi).
func foreignELF(t *testing.T) string {
	t.Helper()
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1                 // 64-bit, little endian, version 1
	binary.LittleEndian.PutUint16(h[16:], 2)   // ET_EXEC
	binary.LittleEndian.PutUint16(h[18:], 243) // EM_RISCV
	binary.LittleEndian.PutUint32(h[20:], 1)   // version
	binary.LittleEndian.PutUint16(h[52:], 64)  // header size
	p := filepath.Join(t.TempDir(), "riscv")
	if err := os.WriteFile(p, h, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplianceBadInputs(t *testing.T) {
	bin := testBinary(t)
	model := testModel(t)
	pi3, _ := LookupBoard("pi3")
	foreign := foreignELF(t)
	cases := []struct {
		name string
		o    ApplianceOptions
		want string
	}{
		{"wifi ssid", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, WiFi: &WiFi{Passphrase: "password", Country: "GB"}}, "WiFi SSID"},
		{"wifi psk", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, WiFi: &WiFi{SSID: "home", Passphrase: "short", Country: "GB"}}, "WiFi passphrase"},
		{"wifi country", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, WiFi: &WiFi{SSID: "home", Passphrase: "password"}}, "WiFi country"},
		{"wifi firmware dir", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, WiFiFirmware: t.TempDir()}, "has no brcm/brcmfmac43430-sdio.bin"},
		{"ntp", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, NTPServers: []string{"pool.ntp.org:abc"}}, `NTP server "pool.ntp.org:abc": bad port`},
		{"ntp host", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, NTPServers: []string{"a b"}}, `NTP server "a b"`},
		{"no model", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin}}, "no model"},
		{"missing model", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: "/nonexistent/m.tflite"}}, "no such file"},
		{"foreign binary", ApplianceOptions{Board: pi3, Payload: Payload{Binary: foreign, Model: model}}, "EM_RISCV ET_EXEC file; the Raspberry Pi 3 needs a linux/arm64 executable"},
		{"not a binary", ApplianceOptions{Board: pi3, Payload: Payload{Binary: model, Model: model}}, "not an ELF executable"},
		{"too small", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, Size: 100 * mib}, "image too small"},
		{"data too small", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, DataSize: 8 * mib}, "image too small"},
		{"hostname", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model, Hostname: "a b"}}, "hostname"},
		{"no board", ApplianceOptions{Payload: Payload{Binary: bin, Model: model}}, "no board"},
		{"kernel dir", ApplianceOptions{Board: pi3, Payload: Payload{Binary: bin, Model: model}, KernelDir: t.TempDir()}, "modules.dep in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.img")
			_, err := BuildAppliance(testContext(t, time.Minute), out, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "firmware: ") {
				t.Fatalf("error %v, want one starting with \"firmware: \" and containing %q", err, c.want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("a failed build left the image behind")
			}
			if _, serr := os.Stat(out + ".tmp"); serr == nil {
				t.Error("a failed build left its temporary file behind")
			}
		})
	}
	if _, err := LookupBoard("pi2"); err == nil || !strings.Contains(err.Error(), "unknown board \"pi2\" (known: pi3, pi4, pi5, zero2w)") {
		t.Errorf("LookupBoard(pi2): %v", err)
	}
}

// TestFAT32Geometry checks fat32FitSize over many sizes against the rule fsck.fat applies.
func TestFAT32Geometry(t *testing.T) {
	bad := 0
	for size := int64(48 * mib); size <= 1100*mib; size += mib {
		if !fat32GeometryOK(size) {
			bad++
		}
		fit := fat32FitSize(size)
		if fit > size || size-fit > 64*sectorSize || !fat32GeometryOK(fit) {
			t.Errorf("fat32FitSize(%d) = %d", size, fit)
		}
	}
	if !fat32GeometryOK(64*mib-4*sectorSize) || fat32GeometryOK(64*mib) {
		t.Error("64 MiB is the known bad size of go-diskfs v1.9.4; the model of its geometry is off")
	}
	t.Logf("%d of the whole-MiB sizes from 48 to 1100 MiB needed trimming", bad)
}

func TestModuleVersionsMatchGoMod(t *testing.T) {
	wd, _ := os.Getwd()
	root := FindModuleRoot(wd)
	gomod := string(mustRead(t, filepath.Join(root, "go.mod")))
	for _, mv := range []string{KernelModule + " " + KernelVersion, FirmwareModule + " " + FirmwareVersion} {
		if !strings.Contains(gomod, mv+"\n") {
			t.Errorf("go.mod does not require %s", mv)
		}
	}
}

func TestSystemdUnitMatchesPackaging(t *testing.T) {
	wd, _ := os.Getwd()
	root := FindModuleRoot(wd)
	if !bytes.Equal(systemdUnit, mustRead(t, filepath.Join(root, "packaging", "edgeinfer.service"))) {
		t.Error("firmware/edgeinfer.service differs from packaging/edgeinfer.service: copy it over")
	}
}

package firmware

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
	"github.com/diskfs/go-diskfs/partition/mbr"
	"github.com/edgeinfer/edgeinfer/internal/credentials"
)

const (
	sectorSize = 512
	mib        = 1 << 20

	partAlign       = 1 * mib   // partitions start on MiB boundaries (SD card erase blocks)
	minBootSize     = 128 * mib // FAT32 boot partition: kernel (46 MB), firmware, device trees, overlays
	DefaultDataSize = 64 * mib  // FAT32 data partition when Size does not ask for more
	minDataSize     = 48 * mib  // FAT32 needs at least 65525 clusters (512-byte clusters here)

	// Paths inside the appliance's root file system.
	RootBinary     = "/usr/bin/edgeinfer"
	RootModelDir   = "/usr/share/edgeinfer"
	RootConfig     = "/etc/edgeinfer/edgeinfer.yaml"
	RootInitConfig = "/etc/edgeinfer/init.json"
	DataMount      = "/data"
	DataConfig     = "/data/edgeinfer.yaml" // on the data partition: overrides RootConfig when present
	// DataCredentials holds the username and password of an image built without a broker
	// (ApplianceOptions.Credentials): its embedded MQTT broker and status page ask for them.
	DataCredentials = "/data/credentials.yaml"

	// ApplianceListen and ApplianceMQTTListen are where the status page and the embedded MQTT
	// broker of an image with Credentials listen: every interface.
	ApplianceListen     = "0.0.0.0:9108"
	ApplianceMQTTListen = "0.0.0.0:1883"

	bootLabel = "EIBOOT"
	dataLabel = "EIDATA"
)

// Payload is what both kinds of image carry: edgeinfer, its model and its configuration.
type Payload struct {
	Binary   string // linux executable for the board (see CheckBinary)
	Model    string // model file (.tflite or .eim)
	Labels   string // labels file, one per line; "" when the model carries its labels
	Config   []byte // edgeinfer.yaml; nil: DefaultConfig
	Hostname string // "": DefaultHostname (appliance images; a Raspberry Pi OS image keeps its own)
}

// DefaultHostname is an appliance's host name when Payload.Hostname is empty.
const DefaultHostname = "edgeinfer"

// DefaultConfig is the configuration written when none is given.
const DefaultConfig = `# edgeinfer configuration written by 'edgeinfer firmware build'.
# See edgeinfer.yaml in the edgeinfer repository for every field. The model is passed on the
# command line; fields here override the defaults.
source: auto
`

// ApplianceOptions describes an appliance image.
type ApplianceOptions struct {
	Board Board
	Payload
	// KernelDir and FirmwareDir hold github.com/gokrazy/kernel.rpi and github.com/gokrazy/firmware;
	// "" takes them from the Go module cache at KernelVersion and FirmwareVersion.
	KernelDir, FirmwareDir string
	// Size is the size of the whole image in bytes; 0 makes it as small as the contents and
	// DataSize allow. Extra space goes to the data partition.
	Size int64
	// DataSize is the smallest size of the data partition; 0 means DefaultDataSize.
	DataSize int64
	// WiFi, when set, is the network the appliance joins (see doc.go). The image then carries
	// the radios' firmware and drivers; so it does when only WiFiFirmware is set, for a network
	// named later in /data/wifi.json.
	WiFi *WiFi
	// WiFiFirmware is a directory laid out like /lib/firmware with the radios' firmware
	// (wifiFirmwareFiles); "" downloads WiFiFirmwarePackages (once, into edgeinfer's cache) when needed.
	WiFiFirmware string
	// NTPServers set the clock at boot and hourly; nil: DefaultNTPServers; empty (non-nil): none.
	NTPServers []string
	// Broker, when set, is the MQTT broker the appliance publishes to (mqtt.broker, --broker).
	Broker string
	// Credentials, when set (and Broker is not), make the appliance reachable: its embedded MQTT
	// broker and status page listen on every interface (ApplianceMQTTListen, ApplianceListen) and
	// ask for these, written to DataCredentials. Nil: both stay on loopback, as the configuration
	// says. The image depends on them, so they are an input like any other: 'edgeinfer firmware
	// build' generates fresh ones (credentials.Generate) for each image.
	Credentials *credentials.Credentials
	Log         *slog.Logger

	wifiNet *InitWiFi // WiFi as stored, set by check
}

// Placement records where one file of an image came from and where it went.
type Placement struct {
	Where string // "boot:/vmlinuz", "root:/usr/bin/edgeinfer", ...
	Size  int64
	From  string // source file, or "generated"
}

// PartitionInfo describes one partition of a written image.
type PartitionInfo struct {
	Index       int
	Name        string // boot, root, data
	FS          string // vfat, squashfs
	Start, Size int64  // bytes
}

// Summary says what went where in an image.
type Summary struct {
	Image      string
	Board      string
	Mode       string // appliance or raspios
	Size       int64
	Partitions []PartitionInfo
	Files      []Placement
	DiskID     uint32 // MBR disk signature: PARTUUID=DiskID-NN
	Elapsed    time.Duration
}

// Write prints the summary as a table.
func (s *Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "%s image for %s: %s, %.1f MiB, disk ID %08x, built in %.1fs\n", s.Mode, s.Board, s.Image,
		float64(s.Size)/mib, s.DiskID, s.Elapsed.Seconds())
	for _, p := range s.Partitions {
		fmt.Fprintf(w, "  partition %d %-5s %-8s at %6.1f MiB, %7.1f MiB\n", p.Index, p.Name, p.FS, float64(p.Start)/mib, float64(p.Size)/mib)
	}
	for _, f := range s.Files {
		fmt.Fprintf(w, "  %-44s %10d  %s\n", f.Where, f.Size, f.From)
	}
}

// fileSpec is one file to write: from a path on disk or from memory.
type fileSpec struct {
	dst  string // path inside the file system, with a leading /
	src  string // file on disk, or "" for data
	data []byte
	mode fs.FileMode
}

func (f fileSpec) size() (int64, error) {
	if f.src == "" {
		return int64(len(f.data)), nil
	}
	fi, err := os.Stat(f.src)
	if err != nil {
		return 0, fmt.Errorf("firmware: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("firmware: %s is not a regular file", f.src)
	}
	return fi.Size(), nil
}

func (f fileSpec) open() (io.ReadCloser, error) {
	if f.src == "" {
		return io.NopCloser(strings.NewReader(string(f.data))), nil
	}
	r, err := os.Open(f.src)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	return r, nil
}

func (f fileSpec) placement(part string) (Placement, error) {
	n, err := f.size()
	from := f.src
	if from == "" {
		from = "generated"
	}
	return Placement{Where: part + ":" + f.dst, Size: n, From: from}, err
}

func (f fileSpec) hash(ih *inputHash) error {
	ih.str(f.dst)
	ih.str(f.mode.String())
	if f.src == "" {
		ih.str(string(f.data))
		return nil
	}
	return ih.file(f.src)
}

// InitConfig is /etc/edgeinfer/init.json in the appliance: what edgeinfer does as PID 1.
type InitConfig struct {
	Hostname string `json:"hostname"`
	Model    string `json:"model"`
	Labels   string `json:"labels,omitempty"`
	Config   string `json:"config"`
	// DHCP lists prefixes of interface names to configure by DHCPv4 as they appear (on-board
	// Ethernet is eth0 on every supported board; USB adapters are eth1.., usb0.., enx...).
	DHCP []string `json:"dhcp,omitempty"`
	// Modules are kernel modules to load at boot, dependencies first.
	Modules []string `json:"modules,omitempty"`
	// NTP lists the time servers that set the clock (the boards have no battery-backed clock);
	// empty: none.
	NTP []string `json:"ntp,omitempty"`
	// WiFi says the image has the WiFi radios' firmware and drivers; Network, when set, is the
	// network to join (DataWiFi replaces it).
	WiFi *InitWiFiSupport `json:"wifi,omitempty"`
	// Broker, Listen, MQTTListen and Credentials are passed to 'edgeinfer run' as --broker,
	// --listen, --mqtt-listen and --credentials, each unless the configuration in use sets it
	// (see runArgs); empty: not passed.
	Broker      string `json:"broker,omitempty"`
	Listen      string `json:"listen,omitempty"`
	MQTTListen  string `json:"mqtt_listen,omitempty"`
	Credentials string `json:"credentials,omitempty"`
}

// InitWiFiSupport is InitConfig's WiFi part.
type InitWiFiSupport struct {
	Network *InitWiFi `json:"network,omitempty"`
}

// IsAppliance reports whether this system is an appliance image: it has RootInitConfig.
func IsAppliance() bool {
	_, err := os.Stat(RootInitConfig)
	return err == nil
}

// BootModules are the kernel modules the appliance loads at boot (the kernel has no udev to load
// them on demand): uvcvideo, the USB Video Class driver for USB webcams. Everything else the
// appliance needs (squashfs, vfat, the boards' Ethernet, USB) is built into the kernel.
var BootModules = []string{"uvcvideo"}

// kernelModules returns the files of the named modules and of their dependencies, from
// lib/modules/VERSION/ of the kernel directory, and the order to load them in (dependencies
// first), as paths in the root file system.
func kernelModules(kernelDir string, names []string) ([]fileSpec, []string, error) {
	vers, _ := filepath.Glob(filepath.Join(kernelDir, "lib", "modules", "*", "modules.dep"))
	if len(vers) != 1 {
		return nil, nil, fmt.Errorf("firmware: want one lib/modules/*/modules.dep in %s, found %d", kernelDir, len(vers))
	}
	dep, err := os.ReadFile(vers[0])
	if err != nil {
		return nil, nil, fmt.Errorf("firmware: %w", err)
	}
	modDir := filepath.Dir(vers[0])
	deps := map[string][]string{} // kernel/.../x.ko -> its dependencies
	byName := map[string]string{} // x -> kernel/.../x.ko
	for _, line := range strings.Split(string(dep), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		base := path.Base(mod)
		base = base[:strings.Index(base, ".ko")]
		byName[strings.ReplaceAll(base, "-", "_")] = mod
	}
	var order []string
	seen := map[string]bool{}
	var visit func(mod string)
	visit = func(mod string) {
		if seen[mod] {
			return
		}
		seen[mod] = true
		for _, d := range deps[mod] {
			visit(d)
		}
		order = append(order, mod)
	}
	for _, n := range names {
		mod, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			return nil, nil, fmt.Errorf("firmware: kernel module %s is not in %s", n, vers[0])
		}
		visit(mod)
	}
	rootDir := "/lib/modules/" + filepath.Base(modDir)
	var files []fileSpec
	var paths []string
	for _, mod := range order {
		files = append(files, fileSpec{dst: rootDir + "/" + mod, src: filepath.Join(modDir, filepath.FromSlash(mod)), mode: 0o644})
		paths = append(paths, rootDir+"/"+mod)
	}
	return files, paths, nil
}

func (o *ApplianceOptions) check() error {
	if o.Board.Name == "" {
		return errors.New("firmware: no board")
	}
	if o.WiFi != nil {
		n, err := o.WiFi.network()
		if err != nil {
			return err
		}
		o.wifiNet = &n
	}
	for _, s := range o.NTPServers {
		if _, err := ntpAddr(s); err != nil {
			return err
		}
	}
	if err := o.Payload.check(o.Board); err != nil {
		return err
	}
	if o.Broker != "" && o.Credentials != nil {
		return errors.New("firmware: a broker and credentials: the credentials guard the embedded broker, which an image with a broker does not start")
	}
	if c := o.Credentials; c != nil {
		if err := c.Validate("ApplianceOptions.Credentials"); err != nil {
			return fmt.Errorf("firmware: %w", err)
		}
	}
	if o.DataSize == 0 {
		o.DataSize = DefaultDataSize
	}
	if o.DataSize < minDataSize {
		return fmt.Errorf("firmware: image too small: the data partition needs at least %d MiB, got %d bytes", minDataSize/mib, o.DataSize)
	}
	if o.Size%sectorSize != 0 || o.Size < 0 {
		return fmt.Errorf("firmware: image size %d is not a positive multiple of %d bytes", o.Size, sectorSize)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// check reports whether p can go on an image for board: a binary for the board, a model, and a
// valid hostname.
func (p *Payload) check(board Board) error {
	if p.Binary == "" {
		return errors.New("firmware: no edgeinfer binary")
	}
	if err := CheckBinary(p.Binary, board); err != nil {
		return err
	}
	if p.Model == "" {
		return errors.New("firmware: no model (pass --model FILE, or set model: in the configuration)")
	}
	return checkHostname(p.Hostname)
}

func checkHostname(h string) error {
	if h == "" {
		return nil
	}
	if len(h) > 63 {
		return fmt.Errorf("firmware: hostname %q is longer than 63 characters", h)
	}
	for i, r := range h {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' && i > 0 && i < len(h)-1
		if !ok {
			return fmt.Errorf("firmware: hostname %q: only letters, digits and inner '-' are allowed", h)
		}
	}
	return nil
}

// payloadFiles returns the files of p for the root file system (or the boot partition's payload
// directory in Raspberry Pi OS mode) under binDst, modelDir and cfgDst, with the model's path.
func (p Payload) files(binDst, modelDir, cfgDst string) (files []fileSpec, modelPath, labelsPath string) {
	files = append(files, fileSpec{dst: binDst, src: p.Binary, mode: 0o755})
	modelPath = path.Join(modelDir, filepath.Base(p.Model))
	files = append(files, fileSpec{dst: modelPath, src: p.Model, mode: 0o644})
	if p.Labels != "" {
		labelsPath = path.Join(modelDir, "labels.txt")
		files = append(files, fileSpec{dst: labelsPath, src: p.Labels, mode: 0o644})
	}
	files = append(files, fileSpec{dst: cfgDst, data: p.config(), mode: 0o644})
	return files, modelPath, labelsPath
}

// config returns the edgeinfer.yaml to write: p.Config, or DefaultConfig when there is none.
func (p Payload) config() []byte {
	if p.Config == nil {
		return []byte(DefaultConfig)
	}
	return p.Config
}

func (p Payload) hostname() string {
	if p.Hostname == "" {
		return DefaultHostname
	}
	return p.Hostname
}

// BuildAppliance writes the appliance image for o.Board to out: an MBR with a FAT32 boot
// partition (firmware, kernel, device trees, config.txt, cmdline.txt), a squashfs root with
// edgeinfer as init, and a FAT32 data partition mounted at /data.
func BuildAppliance(ctx context.Context, out string, o ApplianceOptions) (*Summary, error) {
	start := time.Now()
	if err := o.check(); err != nil {
		return nil, err
	}
	log := o.Log
	var err error
	if o.KernelDir == "" {
		log.Info("firmware: locating kernel", "module", KernelModule+"@"+KernelVersion)
		if o.KernelDir, err = ModuleDir(ctx, KernelModule, KernelVersion); err != nil {
			return nil, err
		}
	}
	if o.FirmwareDir == "" && len(o.Board.Firmware) > 0 {
		log.Info("firmware: locating Raspberry Pi firmware", "module", FirmwareModule+"@"+FirmwareVersion)
		if o.FirmwareDir, err = ModuleDir(ctx, FirmwareModule, FirmwareVersion); err != nil {
			return nil, err
		}
	}
	epoch := Epoch()

	// Root file system.
	rootFiles, modelPath, labelsPath := o.Payload.files(RootBinary, RootModelDir, RootConfig)
	modNames := BootModules
	var wifiSupport *InitWiFiSupport
	if o.WiFi != nil || o.WiFiFirmware != "" {
		dir, err := WiFiFirmwareDir(ctx, o.WiFiFirmware, log)
		if err != nil {
			return nil, err
		}
		fw, err := wifiRootFiles(dir)
		if err != nil {
			return nil, err
		}
		rootFiles = append(rootFiles, fw...)
		modNames = append(append([]string(nil), modNames...), WiFiModules...)
		wifiSupport = &InitWiFiSupport{Network: o.wifiNet}
	}
	modFiles, modOrder, err := kernelModules(o.KernelDir, modNames)
	if err != nil {
		return nil, err
	}
	rootFiles = append(rootFiles, modFiles...)
	initCfg := InitConfig{Hostname: o.hostname(), Model: modelPath, Labels: labelsPath, Config: RootConfig,
		DHCP: []string{"eth", "usb", "en"}, Modules: modOrder, WiFi: wifiSupport, NTP: o.NTPServers}
	if o.NTPServers == nil {
		initCfg.NTP = DefaultNTPServers
	}
	dataFiles := []fileSpec{{dst: "/README.txt", mode: 0o644, data: []byte(dataReadme)}}
	switch {
	case o.Broker != "":
		initCfg.Broker = o.Broker
	case o.Credentials != nil:
		initCfg.Listen, initCfg.MQTTListen, initCfg.Credentials = ApplianceListen, ApplianceMQTTListen, DataCredentials
		dataFiles = append(dataFiles, fileSpec{dst: "/" + path.Base(DataCredentials), mode: 0o600,
			data: o.Credentials.Marshal(CredentialsNote)})
	}
	ij, _ := json.MarshalIndent(initCfg, "", "  ")
	rootFiles = append(rootFiles,
		fileSpec{dst: RootInitConfig, data: append(ij, '\n'), mode: 0o644},
		// Empty: init bind-mounts /run/resolv.conf (written by DHCP) over it.
		fileSpec{dst: "/etc/resolv.conf", data: nil, mode: 0o644},
		fileSpec{dst: "/etc/hostname", data: []byte(o.hostname() + "\n"), mode: 0o644},
		fileSpec{dst: "/etc/hosts", data: []byte("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t" + o.hostname() + "\n"), mode: 0o644},
	)
	bootFiles, err := o.bootFiles()
	if err != nil {
		return nil, err
	}

	// Everything the image depends on, for its IDs.
	ih := newInputHash()
	ih.str(o.Board.Name)
	ih.str(fmt.Sprint(o.Size, o.DataSize, epoch.Unix()))
	for _, set := range [][]fileSpec{bootFiles, rootFiles, dataFiles} {
		for _, f := range set {
			if err := f.hash(ih); err != nil {
				return nil, err
			}
		}
	}
	diskID := ih.id32("mbr")
	cmdline := fmt.Sprintf("console=serial0,115200 console=tty1 root=PARTUUID=%08x-02 rootfstype=squashfs ro rootwait init=%s panic=10 oops=panic\n", diskID, RootBinary)
	bootFiles = append(bootFiles, fileSpec{dst: "/cmdline.txt", data: []byte(cmdline), mode: 0o644})

	tmpDir, err := os.MkdirTemp("", "edgeinfer-firmware-")
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	log.Info("firmware: writing root file system (squashfs)", "files", len(rootFiles))
	sqPath := filepath.Join(tmpDir, "root.squashfs")
	sqSize, err := writeSquashfs(ctx, sqPath, tmpDir, rootFiles, epoch)
	if err != nil {
		return nil, err
	}

	// Layout.
	var bootBytes int64
	for _, f := range bootFiles {
		n, err := f.size()
		if err != nil {
			return nil, err
		}
		bootBytes += n + 4096
	}
	bootSize := max(int64(minBootSize), roundUp(bootBytes+bootBytes/8+8*mib, mib))
	bootStart := int64(partAlign)
	rootStart := bootStart + bootSize
	rootSize := roundUp(sqSize, mib)
	dataStart := rootStart + rootSize
	dataSize := o.DataSize
	total := dataStart + dataSize
	if o.Size != 0 {
		if o.Size < total {
			return nil, fmt.Errorf("firmware: image too small: the contents need %.1f MiB (boot %d MiB, root %d MiB, data %d MiB), the size asked for is %.1f MiB",
				float64(total)/mib, bootSize/mib, rootSize/mib, dataSize/mib, float64(o.Size)/mib)
		}
		dataSize += o.Size - total
		total = o.Size
	}
	parts := []PartitionInfo{
		{1, "boot", "vfat", bootStart, fat32FitSize(bootSize)},
		{2, "root", "squashfs", rootStart, rootSize},
		{3, "data", "vfat", dataStart, fat32FitSize(dataSize)},
	}

	tmpOut := out + ".tmp"
	os.Remove(tmpOut)
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpOut)
		}
	}()
	log.Info("firmware: writing image", "path", out, "MiB", total/mib)
	d, err := diskfs.Create(tmpOut, total, diskfs.SectorSize512)
	if err != nil {
		return nil, fmt.Errorf("firmware: creating %s: %w", tmpOut, err)
	}
	table := &mbr.Table{LogicalSectorSize: sectorSize, PhysicalSectorSize: sectorSize}
	for _, p := range parts {
		typ := mbr.Fat32LBA
		if p.FS == "squashfs" {
			typ = mbr.Linux
		}
		table.Partitions = append(table.Partitions, &mbr.Partition{Index: p.Index, Bootable: p.Index == 1, Type: typ,
			Start: uint32(p.Start / sectorSize), Size: uint32(p.Size / sectorSize)})
	}
	err = d.Partition(table)
	if err == nil {
		err = withEpoch(epoch, func() error {
			log.Info("firmware: writing boot partition (FAT32)", "files", len(bootFiles))
			if err := writeFAT(ctx, d, 1, bootLabel, bootFiles, epoch); err != nil {
				return err
			}
			log.Info("firmware: writing data partition (FAT32)")
			return writeFAT(ctx, d, 3, dataLabel, dataFiles, epoch)
		})
	}
	if err == nil {
		var sq *os.File
		if sq, err = os.Open(sqPath); err == nil {
			// go-diskfs wants the whole partition: the squashfs, then zeros.
			zeros := io.LimitReader(zeroReader{}, rootSize-sqSize)
			_, err = d.WritePartitionContents(2, io.MultiReader(io.LimitReader(sq, sqSize), zeros))
			sq.Close()
		}
	}
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("firmware: writing %s: %w", tmpOut, err)
	}
	if err := patchImage(tmpOut, func(f *os.File) error {
		if err := patchUint32(f, mbrDiskSignatureOff, diskID); err != nil {
			return err
		}
		if err := setFAT32VolumeID(f, bootStart, ih.id32("boot")); err != nil {
			return err
		}
		return setFAT32VolumeID(f, dataStart, ih.id32("data"))
	}); err != nil {
		return nil, err
	}
	if err := os.Rename(tmpOut, out); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	ok = true

	s := &Summary{Image: out, Board: o.Board.Name, Mode: "appliance", Size: total, Partitions: parts, DiskID: diskID}
	for _, set := range []struct {
		part  string
		files []fileSpec
	}{{"boot", bootFiles}, {"root", rootFiles}, {"data", dataFiles}} {
		for _, f := range set.files {
			p, err := f.placement(set.part)
			if err != nil {
				return nil, err
			}
			s.Files = append(s.Files, p)
		}
	}
	s.Elapsed = time.Since(start)
	log.Info("firmware: done", "path", out, "MiB", fmt.Sprintf("%.1f", float64(total)/mib), "seconds", fmt.Sprintf("%.1f", s.Elapsed.Seconds()))
	return s, nil
}

const dataReadme = `edgeinfer data partition (mounted at /data on the appliance).

Put an edgeinfer.yaml here to replace the configuration built into the image. The model stays the
one in the image unless that file names another one (model: /data/other.tflite, with labels:
/data/labels.txt unless the model carries its labels). Pulled models are cached in /data/cache.

WiFi (images built with --wifi-ssid or --wifi-firmware): a wifi.json here replaces the network
built into the image, e.g.
  {"ssid": "My network", "psk": "my passphrase", "country": "GB"}
(psk: the passphrase, 8 to 63 characters, or the 64 hex digits wpa_passphrase prints; country: the
two-letter code of the country the device is in). It is read at boot.

credentials.yaml (images built without --broker): the username and password that the MQTT broker
(port 1883) and the status page (http://DEVICE:9108/) ask for. To change them, edit both lines
(password: at least 12 characters) and restart the device.
`

// CredentialsNote is the comment of DataCredentials that says what the credentials are for.
const CredentialsNote = "For the MQTT broker (port 1883) and the status page and /metrics (http://DEVICE:9108/)."

// fat32FitSize returns the largest size <= size (in whole sectors) for which go-diskfs v1.9.4 makes
// a FAT big enough for all clusters. Its closed-form sectors-per-FAT leaves out the two reserved
// FAT entries, so at some sizes the FAT is 2 entries short ("has N clusters but only space for N-2
// FAT entries", says fsck.fat). The partition keeps the size returned; the few sectors cut off stay
// unused. TestFAT32Geometry reads the result back from every image.
func fat32FitSize(size int64) int64 {
	for s := size; s > size-64*sectorSize; s -= sectorSize {
		if fat32GeometryOK(s) {
			return s
		}
	}
	return size
}

// fat32GeometryOK repeats go-diskfs v1.9.4's FAT32 geometry (fat32.Create) for size bytes.
func fat32GeometryOK(size int64) bool {
	var clusterBytes int64
	switch {
	case size <= 260*mib:
		clusterBytes = 512
	case size <= 8<<30:
		clusterBytes = 4096
	case size <= 16<<30:
		clusterBytes = 8192
	case size <= 32<<30:
		clusterBytes = 16384
	default:
		clusterBytes = 32768
	}
	spc := max(clusterBytes/sectorSize, 1)
	total := size / sectorSize
	const reserved = 32
	denom := sectorSize*spc + 8
	spf := (4*(total-reserved) + denom - 1) / denom
	clusters := (total - reserved - 2*spf) / spc
	return spf*(sectorSize/4) >= clusters+2
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// bootFiles lists the boot partition of the appliance, without cmdline.txt.
func (o *ApplianceOptions) bootFiles() ([]fileSpec, error) {
	var files []fileSpec
	add := func(dir, name, dst string) error {
		src := filepath.Join(dir, name)
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("firmware: %s is missing (kernel or firmware directory incomplete?)", src)
		}
		files = append(files, fileSpec{dst: dst, src: src, mode: 0o644})
		return nil
	}
	for _, name := range o.Board.Firmware {
		if err := add(o.FirmwareDir, name, "/"+name); err != nil {
			return nil, err
		}
	}
	if err := add(o.KernelDir, "vmlinuz", "/vmlinuz"); err != nil {
		return nil, err
	}
	for _, name := range o.Board.DTBs {
		if err := add(o.KernelDir, name, "/"+name); err != nil {
			return nil, err
		}
	}
	for _, lic := range []struct{ dir, name, dst string }{
		{o.KernelDir, "LICENSE.linux", "/LICENSE.linux.txt"},
		{o.FirmwareDir, "LICENSE.broadcom", "/LICENSE.broadcom.txt"},
	} {
		if lic.dir != "" {
			if _, err := os.Stat(filepath.Join(lic.dir, lic.name)); err == nil {
				_ = add(lic.dir, lic.name, lic.dst)
			}
		}
	}
	files = append(files, fileSpec{dst: "/config.txt", data: []byte(configTxt(o.Board)), mode: 0o644})
	return files, nil
}

func configTxt(b Board) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# edgeinfer appliance image for the %s (written by edgeinfer firmware build).\n", b.Title)
	s.WriteString("# Linux from github.com/gokrazy/kernel.rpi@" + KernelVersion + ", 64-bit.\n")
	s.WriteString("arm_64bit=1\nkernel=vmlinuz\n")
	s.WriteString("# Serial console on GPIO 14/15 (header pins 8 and 10), 115200 8N1.\nenable_uart=1\n")
	s.WriteString("disable_splash=1\n")
	return s.String()
}

// writeFAT creates a FAT32 file system on partition part of d and writes files to it, sorted,
// each stamped with epoch.
func writeFAT(ctx context.Context, d *disk.Disk, part int, label string, files []fileSpec, epoch time.Time) error {
	fsys, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: part, FSType: filesystem.TypeFat32, VolumeLabel: label, Reproducible: true})
	if err != nil {
		return fmt.Errorf("partition %d: creating FAT32: %w", part, err)
	}
	return writeFiles(ctx, fsys, files, epoch, fmt.Sprintf("partition %d", part))
}

// writeFiles writes files into a go-diskfs file system, creating directories as needed, in
// sorted order, and sets their times to epoch.
func writeFiles(ctx context.Context, fsys filesystem.FileSystem, files []fileSpec, epoch time.Time, where string) error {
	sorted := append([]fileSpec(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].dst < sorted[j].dst })
	made := map[string]bool{"/": true}
	for _, f := range sorted {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := path.Dir(f.dst)
		if !made[dir] {
			if err := fsys.Mkdir(dir); err != nil {
				return fmt.Errorf("%s: mkdir %s: %w", where, dir, err)
			}
			made[dir] = true
			_ = fsys.Chtimes(dir, epoch, epoch, epoch)
		}
		r, err := f.open()
		if err != nil {
			return err
		}
		w, err := fsys.OpenFile(f.dst, os.O_CREATE|os.O_RDWR|os.O_TRUNC)
		if err != nil {
			r.Close()
			return fmt.Errorf("%s: creating %s: %w", where, f.dst, err)
		}
		_, err = io.Copy(w, r)
		r.Close()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: writing %s: %w", where, f.dst, err)
		}
		if err := fsys.Chtimes(f.dst, epoch, epoch, epoch); err != nil {
			return fmt.Errorf("%s: setting the time of %s: %w", where, f.dst, err)
		}
	}
	return nil
}

// Directories of the appliance's root file system (mount points and the like).
var rootDirs = []struct {
	path string
	mode fs.FileMode
}{
	{"dev", 0o755}, {"proc", 0o555}, {"sys", 0o555}, {"run", 0o755}, {"tmp", 0o777 | fs.ModeSticky}, {"var", 0o755},
	{"data", 0o755}, {"etc", 0o755}, {"usr", 0o755}, {"usr/bin", 0o755}, {"usr/share", 0o755},
}

// writeSquashfs writes files as a squashfs image to dst and returns its size in bytes.
func writeSquashfs(ctx context.Context, dst, tmpDir string, files []fileSpec, epoch time.Time) (int64, error) {
	var total int64
	for _, f := range files {
		n, err := f.size()
		if err != nil {
			return 0, err
		}
		total += n
	}
	capacity := total + total/4 + 16*mib
	out, err := os.Create(dst)
	if err != nil {
		return 0, fmt.Errorf("firmware: %w", err)
	}
	defer out.Close()
	if err := out.Truncate(capacity); err != nil {
		return 0, fmt.Errorf("firmware: %w", err)
	}
	sq, err := squashfs.Create(file.New(out, false), capacity, 0, 4096)
	if err != nil {
		return 0, fmt.Errorf("firmware: squashfs: %w", err)
	}
	ws := sq.Workspace()
	defer os.RemoveAll(ws)
	// Fill the workspace directly: go-diskfs finalizes from it, taking modes and times from it.
	for _, d := range rootDirs {
		if err := os.MkdirAll(filepath.Join(ws, d.path), 0o755); err != nil {
			return 0, fmt.Errorf("firmware: %w", err)
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p := filepath.Join(ws, filepath.FromSlash(f.dst))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, fmt.Errorf("firmware: %w", err)
		}
		r, err := f.open()
		if err != nil {
			return 0, err
		}
		w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err == nil {
			_, err = io.Copy(w, r)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		r.Close()
		if err != nil {
			return 0, fmt.Errorf("firmware: squashfs workspace: %w", err)
		}
	}
	modes := map[string]fs.FileMode{}
	for _, d := range rootDirs {
		modes[d.path] = d.mode | fs.ModeDir
	}
	for _, f := range files {
		modes[strings.TrimPrefix(f.dst, "/")] = f.mode
	}
	// Modes and times, deepest first so that setting a directory's time is not undone.
	var paths []string
	if err := filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("firmware: %w", err)
	}
	for i := len(paths) - 1; i >= 0; i-- {
		p := paths[i]
		rel, _ := filepath.Rel(ws, p)
		rel = filepath.ToSlash(rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return 0, fmt.Errorf("firmware: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return 0, fmt.Errorf("firmware: squashfs workspace: %s is a symlink (go-diskfs v1.9.4 reads link targets relative to the working directory)", rel)
		}
		m, ok := modes[rel]
		switch {
		case ok:
		case fi.IsDir():
			m = 0o755
		default:
			m = 0o644
		}
		if err := os.Chmod(p, m.Perm()|m&fs.ModeSticky); err != nil {
			return 0, fmt.Errorf("firmware: %w", err)
		}
		if err := os.Chtimes(p, epoch, epoch); err != nil {
			return 0, fmt.Errorf("firmware: %w", err)
		}
	}
	root := uint32(0)
	if err := sq.Finalize(squashfs.FinalizeOptions{Compression: &squashfs.CompressorGzip{CompressionLevel: 6}, FileUID: &root, FileGID: &root}); err != nil {
		return 0, fmt.Errorf("firmware: squashfs: %w", err)
	}
	// bytes_used, and the creation time go-diskfs took from the clock.
	var sb [96]byte
	if _, err := out.ReadAt(sb[:], 0); err != nil {
		return 0, fmt.Errorf("firmware: squashfs superblock: %w", err)
	}
	if string(sb[:4]) != "hsqs" {
		return 0, errors.New("firmware: squashfs superblock: bad magic after finalize")
	}
	used := int64(binary.LittleEndian.Uint64(sb[squashfsBytesUsed:]))
	if err := patchUint32(out, squashfsMkfsTimeOff, uint32(epoch.Unix())); err != nil {
		return 0, err
	}
	// The image is padded to 4 KiB by go-diskfs; keep the padding.
	return roundUp(used, 4096), nil
}

func patchImage(path string, f func(*os.File) error) error {
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("firmware: %w", err)
	}
	if err := f(fh); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("firmware: %w", err)
	}
	return fh.Close()
}

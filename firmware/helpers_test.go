package firmware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
	"github.com/diskfs/go-diskfs/partition/mbr"
	"github.com/edgeinfer/edgeinfer/internal/racemode"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binTime time.Duration
)

// testBinary cross-compiles edgeinfer for linux/arm64 once per test process (the Go build cache
// makes later runs quick).
func testBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		wd, _ := os.Getwd()
		root := FindModuleRoot(wd)
		if root == "" {
			binErr = os.ErrNotExist
			return
		}
		dir, err := os.MkdirTemp("", "edgeinfer-firmware-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "edgeinfer")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute*racemode.Slowdown)
		defer cancel()
		start := time.Now()
		binErr = BuildBinary(ctx, root, boards["pi3"], binPath)
		binTime = time.Since(start)
	})
	if binErr != nil {
		t.Fatalf("building edgeinfer for linux/arm64: %v", binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// testModel is a stand-in model file: the image writer copies models without reading them.
func testModel(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny_quant.tflite")
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	copy(data[4:], "TFL3")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testContext is a context that ends after d (times racemode.Slowdown under the race detector).
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d*racemode.Slowdown)
	t.Cleanup(cancel)
	return ctx
}

// image is a written image opened read-only with go-diskfs.
type image struct {
	t     *testing.T
	path  string
	d     *disk.Disk
	table *mbr.Table
}

func openImage(t *testing.T, path string) *image {
	t.Helper()
	d, err := diskfs.Open(path, diskfs.WithOpenMode(diskfs.ReadOnly), diskfs.WithSectorSize(diskfs.SectorSize512))
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	tbl, err := d.GetPartitionTable()
	if err != nil {
		t.Fatalf("%s: partition table: %v", path, err)
	}
	mt, ok := tbl.(*mbr.Table)
	if !ok {
		t.Fatalf("%s: partition table is %s, want MBR", path, tbl.Type())
	}
	return &image{t: t, path: path, d: d, table: mt}
}

func (im *image) fs(part int, want filesystem.Type) filesystem.FileSystem {
	im.t.Helper()
	var fsys filesystem.FileSystem
	var err error
	if want == filesystem.TypeSquashfs {
		// disk.GetFilesystem passes the 512-byte sector size as squashfs block size, which
		// squashfs.Read rejects: read it directly.
		p := im.table.Partitions[part-1]
		fsys, err = squashfs.Read(im.d.Backend, int64(p.Size)*sectorSize, int64(p.Start)*sectorSize, 0)
	} else {
		fsys, err = im.d.GetFilesystem(part)
	}
	if err != nil {
		im.t.Fatalf("%s: partition %d: %v", im.path, part, err)
	}
	if fsys.Type() != want {
		im.t.Fatalf("%s: partition %d is %v, want %v", im.path, part, fsys.Type(), want)
	}
	return fsys
}

func readFS(t *testing.T, fsys filesystem.FileSystem, p string) []byte {
	t.Helper()
	b, err := readFile(fsys, p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return b
}

// fsPath turns /a/b into the io/fs form a/b that go-diskfs's squashfs (and FAT ReadDir) want.
func fsPath(p string) string {
	if p = strings.TrimPrefix(p, "/"); p == "" {
		return "."
	}
	return p
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	return fileSum(t, a) == fileSum(t, b)
}

// checkFAT32Geometry reads the boot sector of the FAT32 file system at start and checks that the
// FAT holds an entry for every cluster plus the two reserved ones, and that the volume ID is set.
func checkFAT32Geometry(t *testing.T, path string, start int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bs [512]byte
	if _, err := f.ReadAt(bs[:], start); err != nil {
		t.Fatal(err)
	}
	bps := int64(binary.LittleEndian.Uint16(bs[11:]))
	spc := int64(bs[13])
	reserved := int64(binary.LittleEndian.Uint16(bs[14:]))
	nfats := int64(bs[16])
	total := int64(binary.LittleEndian.Uint32(bs[32:]))
	spf := int64(binary.LittleEndian.Uint32(bs[36:]))
	if bps != 512 || spc == 0 || nfats != 2 || string(bs[82:90]) != "FAT32   " || !bytes.Equal(bs[510:], []byte{0x55, 0xaa}) {
		t.Fatalf("%s at %d: not a FAT32 boot sector (bps %d, spc %d, fats %d, type %q)", path, start, bps, spc, nfats, bs[82:90])
	}
	clusters := (total - reserved - nfats*spf) / spc
	if spf*bps/4 < clusters+2 {
		t.Errorf("%s at %d: FAT has %d entries for %d clusters (+2 reserved)", path, start, spf*bps/4, clusters)
	}
	if binary.LittleEndian.Uint32(bs[fat32VolumeIDOff:]) == 0 {
		t.Errorf("%s at %d: volume ID is 0", path, start)
	}
}

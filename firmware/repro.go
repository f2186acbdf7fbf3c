package firmware

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Reproducibility: the same inputs give the same image, byte for byte.
//   - Every timestamp is Epoch(): SOURCE_DATE_EPOCH when set, else the commit time of the kernel
//     module (an input of every image).
//   - go-diskfs takes FAT timestamps from SOURCE_DATE_EPOCH: the writers set it (process-wide,
//     under epochMu) while they run.
//   - The MBR disk signature and the FAT volume IDs are derived from a SHA-256 of all inputs;
//     the squashfs creation time is patched to Epoch().
//   - Directory entries are written in sorted order.

// Epoch returns the time stamped on every file and file system of an image.
func Epoch() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	t, _ := pseudoVersionTime(KernelVersion)
	return t.UTC()
}

var epochMu sync.Mutex

// withEpoch runs f with SOURCE_DATE_EPOCH set to epoch (go-diskfs reads it for FAT timestamps),
// restoring the variable afterwards. Builds in one process are serialised by it.
func withEpoch(epoch time.Time, f func() error) error {
	epochMu.Lock()
	defer epochMu.Unlock()
	old, had := os.LookupEnv("SOURCE_DATE_EPOCH")
	os.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(epoch.Unix(), 10))
	defer func() {
		if had {
			os.Setenv("SOURCE_DATE_EPOCH", old)
		} else {
			os.Unsetenv("SOURCE_DATE_EPOCH")
		}
	}()
	return f()
}

// inputHash accumulates everything an image depends on, to derive its IDs.
type inputHash struct{ h hash.Hash }

func newInputHash() *inputHash { return &inputHash{sha256.New()} }

func (ih *inputHash) str(s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	ih.h.Write(n[:])
	ih.h.Write([]byte(s))
}

func (ih *inputHash) file(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("firmware: %w", err)
	}
	defer f.Close()
	// The content only: the same files elsewhere (a temporary build directory) give the same IDs.
	if _, err := io.Copy(ih.h, f); err != nil {
		return fmt.Errorf("firmware: reading %s: %w", path, err)
	}
	return nil
}

// id32 returns a 32-bit ID for purpose, never 0.
func (ih *inputHash) id32(purpose string) uint32 {
	sum := ih.h.Sum([]byte(purpose))
	h := sha256.Sum256(sum)
	v := binary.LittleEndian.Uint32(h[:4])
	if v == 0 {
		v = 1
	}
	return v
}

// patchUint32 writes v little-endian at off in the file at path.
func patchUint32(f *os.File, off int64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	if _, err := f.WriteAt(b[:], off); err != nil {
		return fmt.Errorf("firmware: writing at offset %d of %s: %w", off, f.Name(), err)
	}
	return nil
}

// On-disk offsets patched after go-diskfs wrote the image.
const (
	mbrDiskSignatureOff = 440  // MBR: 32-bit disk signature (PARTUUID = signature-NN)
	fat32VolumeIDOff    = 0x43 // FAT32 boot sector: BS_VolID
	fat32BackupBootSec  = 6    // FAT32: sector of the backup boot sector
	squashfsMkfsTimeOff = 8    // squashfs superblock: mkfs_time
	squashfsBytesUsed   = 40   // squashfs superblock: bytes_used (uint64)
)

// setFAT32VolumeID writes id into the boot sector and its backup of the FAT32 file system that
// starts at byte start.
func setFAT32VolumeID(f *os.File, start int64, id uint32) error {
	if err := patchUint32(f, start+fat32VolumeIDOff, id); err != nil {
		return err
	}
	return patchUint32(f, start+fat32BackupBootSec*sectorSize+fat32VolumeIDOff, id)
}

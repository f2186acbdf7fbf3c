package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
)

// packMagic starts a CIFAR-10 JPEG pack: then per image 1 label byte, a 2-byte little-endian
// length and that many bytes of JPEG (the layout of ../shared/data/cifar10/train_jpeg.pack).
const packMagic = "C10JPEG1"

// Pack is a CIFAR-10 JPEG pack held in memory; images decode on demand (with Go's JPEG decoder,
// whose pixels can differ from libjpeg's by a level or two: fine for calibration).
type Pack struct {
	path    string
	data    []byte
	offs    []int // offset of each record's label byte
	classes []string
}

// OpenPack reads a CIFAR-10 JPEG pack and indexes its records.
func OpenPack(path string) (*Pack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if !bytes.HasPrefix(data, []byte(packMagic)) {
		return nil, fmt.Errorf("dataset: %s: not a CIFAR-10 JPEG pack (no %q magic)", path, packMagic)
	}
	p := &Pack{path: path, data: data}
	for off := len(packMagic); off < len(data); {
		if off+3 > len(data) {
			return nil, fmt.Errorf("dataset: %s: record %d at offset %d is truncated", path, len(p.offs), off)
		}
		n := int(binary.LittleEndian.Uint16(data[off+1:]))
		if data[off] > 9 || off+3+n > len(data) {
			return nil, fmt.Errorf("dataset: %s: record %d at offset %d: label %d, %d bytes of JPEG (file has %d more)", path, len(p.offs), off, data[off], n, len(data)-off-3)
		}
		p.offs = append(p.offs, off)
		off += 3 + n
	}
	if len(p.offs) == 0 {
		return nil, fmt.Errorf("dataset: %s: %w", path, ErrEmpty)
	}
	if names, err := readLines(filepath.Join(filepath.Dir(path), "batches.meta.txt")); err == nil && len(names) == 10 {
		p.classes = names
	}
	return p, nil
}

func (p *Pack) Len() int          { return len(p.offs) }
func (p *Pack) Classes() []string { return p.classes }
func (p *Pack) Name() string      { return p.path }

// Image decodes record i.
func (p *Pack) Image(i int) (image.Image, int, error) {
	if i < 0 || i >= len(p.offs) {
		return nil, -1, fmt.Errorf("dataset: %s: record %d out of range (%d records)", p.path, i, len(p.offs))
	}
	off := p.offs[i]
	n := int(binary.LittleEndian.Uint16(p.data[off+1:]))
	img, err := jpeg.Decode(bytes.NewReader(p.data[off+3 : off+3+n]))
	if err != nil {
		return nil, -1, fmt.Errorf("dataset: %s: record %d (offset %d): %w", p.path, i, off, err)
	}
	return img, int(p.data[off]), nil
}

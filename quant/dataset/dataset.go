package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edgeinfer/edgeinfer/camera"
)

// Set is a labelled image set.
type Set interface {
	Len() int
	// Image returns image i and its class index (-1 when unlabelled).
	Image(i int) (image.Image, int, error)
	// Classes names the class indices (may be nil).
	Classes() []string
	// Name says where the set comes from, for messages.
	Name() string
}

// ErrEmpty is wrapped by the error for a set without images.
var ErrEmpty = errors.New("no images")

// Open opens a directory holding .bin files as CIFAR-10 binary batches (OpenCIFAR10Dir), any other
// directory as an image folder, a file starting with "C10JPEG1" as a CIFAR-10 JPEG pack, and any
// other file as a CIFAR-10 binary batch.
func Open(path string) (Set, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if st.IsDir() {
		bins, err := filepath.Glob(filepath.Join(path, "*.bin"))
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if len(bins) > 0 {
			return OpenCIFAR10Dir(path)
		}
		return OpenFolder(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	head := make([]byte, len(packMagic))
	n, _ := f.Read(head)
	f.Close()
	if string(head[:n]) == packMagic {
		return OpenPack(path)
	}
	return OpenCIFAR10(path)
}

// Spread returns count indices spread evenly over [0, n) (all of them when count <= 0 or
// count >= n): sets ordered by class, such as CIFAR-10's test batch, give every class.
func Spread(n, count int) []int {
	if count <= 0 || count > n {
		count = n
	}
	idx := make([]int, count)
	for i := range idx {
		idx[i] = int(int64(i) * int64(n) / int64(count))
	}
	return idx
}

// CIFAR10 is a CIFAR-10 binary batch held in memory.
type CIFAR10 struct {
	path    string
	data    []byte
	classes []string
}

const cifarRecord = 1 + 3*32*32

// OpenCIFAR10 reads a CIFAR-10 binary batch.
func OpenCIFAR10(path string) (*CIFAR10, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("dataset: %s: %w", path, ErrEmpty)
	}
	if len(data)%cifarRecord != 0 {
		return nil, fmt.Errorf("dataset: %s: truncated or not a CIFAR-10 batch: %d bytes is not a whole number of CIFAR-10 records of %d bytes (1 label + 32x32x3 pixels)", path, len(data), cifarRecord)
	}
	c := &CIFAR10{path: path, data: data}
	for i := range c.Len() {
		if l := data[i*cifarRecord]; l > 9 {
			return nil, fmt.Errorf("dataset: %s: record %d (offset %d) has label %d, CIFAR-10 has 0 to 9", path, i, i*cifarRecord, l)
		}
	}
	if names, err := readLines(filepath.Join(filepath.Dir(path), "batches.meta.txt")); err == nil && len(names) == 10 {
		c.classes = names
	}
	return c, nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

func (c *CIFAR10) Len() int              { return len(c.data) / cifarRecord }
func (c *CIFAR10) Classes() []string     { return c.classes }
func (c *CIFAR10) Name() string          { return c.path }
func (c *CIFAR10) recordAt(i int) []byte { return c.data[i*cifarRecord : (i+1)*cifarRecord] }

// Image returns record i as a 32x32 RGBA image.
func (c *CIFAR10) Image(i int) (image.Image, int, error) {
	if i < 0 || i >= c.Len() {
		return nil, -1, fmt.Errorf("dataset: %s: record %d out of range (%d records)", c.path, i, c.Len())
	}
	r := c.recordAt(i)
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for p := range 1024 {
		img.Pix[4*p] = r[1+p]
		img.Pix[4*p+1] = r[1+1024+p]
		img.Pix[4*p+2] = r[1+2048+p]
		img.Pix[4*p+3] = 255
	}
	return img, int(r[0]), nil
}

// CIFAR10Batches is a directory of CIFAR-10 binary batches read as one set, in file name order.
type CIFAR10Batches struct {
	dir     string
	batches []*CIFAR10
	start   []int // start[k] is the index of batches[k]'s first record
	n       int
	classes []string
}

// OpenCIFAR10Dir reads the CIFAR-10 binary batches in dir: data_batch_*.bin when there are any
// (the training batches of CIFAR-10's cifar-10-batches-bin, so that test_batch.bin beside them
// stays held out), else every *.bin file. The class names come from batches.meta.txt in dir when
// it has 10 lines.
func OpenCIFAR10Dir(dir string) (*CIFAR10Batches, error) {
	files, err := filepath.Glob(filepath.Join(dir, "data_batch_*.bin"))
	if err == nil && len(files) == 0 {
		files, err = filepath.Glob(filepath.Join(dir, "*.bin"))
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset: %s: %w (want CIFAR-10 .bin batches)", dir, ErrEmpty)
	}
	sort.Strings(files)
	b := &CIFAR10Batches{dir: dir}
	for _, f := range files {
		c, err := OpenCIFAR10(f)
		if err != nil {
			return nil, err
		}
		b.batches = append(b.batches, c)
		b.start = append(b.start, b.n)
		b.n += c.Len()
		if b.classes == nil {
			b.classes = c.classes
		}
	}
	return b, nil
}

func (b *CIFAR10Batches) Len() int          { return b.n }
func (b *CIFAR10Batches) Classes() []string { return b.classes }
func (b *CIFAR10Batches) Name() string      { return b.dir }

// Files lists the batch files read, in order.
func (b *CIFAR10Batches) Files() []string {
	names := make([]string, len(b.batches))
	for k, c := range b.batches {
		names[k] = c.path
	}
	return names
}

// Image returns record i of the batches taken one after the other.
func (b *CIFAR10Batches) Image(i int) (image.Image, int, error) {
	if i < 0 || i >= b.n {
		return nil, -1, fmt.Errorf("dataset: %s: record %d out of range (%d records)", b.dir, i, b.n)
	}
	k := sort.Search(len(b.start), func(k int) bool { return b.start[k] > i }) - 1
	return b.batches[k].Image(i - b.start[k])
}

// Folder is an ImageFolder: root/CLASS/IMAGE, classes in sorted order.
type Folder struct {
	root    string
	classes []string
	files   []string
	labels  []int
}

var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".gif": true}

// OpenFolder lists an image folder. Images directly in root, without a class directory, are
// unlabelled (-1).
func OpenFolder(root string) (*Folder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	f := &Folder{root: root}
	for _, e := range entries {
		if e.IsDir() {
			f.classes = append(f.classes, e.Name())
		}
	}
	sort.Strings(f.classes)
	for _, e := range entries {
		if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			f.files = append(f.files, filepath.Join(root, e.Name()))
			f.labels = append(f.labels, -1)
		}
	}
	for ci, c := range f.classes {
		sub, err := os.ReadDir(filepath.Join(root, c))
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		for _, e := range sub {
			if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				f.files = append(f.files, filepath.Join(root, c, e.Name()))
				f.labels = append(f.labels, ci)
			}
		}
	}
	if len(f.files) == 0 {
		return nil, fmt.Errorf("dataset: %s: %w (want CLASS/IMAGE.jpg|png|bmp, or a CIFAR-10 .bin file)", root, ErrEmpty)
	}
	return f, nil
}

func (f *Folder) Len() int          { return len(f.files) }
func (f *Folder) Classes() []string { return f.classes }
func (f *Folder) Name() string      { return f.root }

// Image decodes image i.
func (f *Folder) Image(i int) (image.Image, int, error) {
	if i < 0 || i >= len(f.files) {
		return nil, -1, fmt.Errorf("dataset: %s: image %d out of range (%d images)", f.root, i, len(f.files))
	}
	img, err := camera.LoadImage(f.files[i])
	if err != nil {
		return nil, -1, fmt.Errorf("dataset: %w", err)
	}
	return img, f.labels[i], nil
}

package dataset

import (
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

func TestCIFAR10(t *testing.T) {
	path := shareddata.Path(t, "cifar10/test_batch.bin")
	set, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 10000 || len(set.Classes()) != 10 || set.Classes()[3] != "cat" {
		t.Fatalf("%d records, classes %v", set.Len(), set.Classes())
	}
	// Ordered by class: spread indices see every class.
	seen := map[int]bool{}
	for _, i := range Spread(set.Len(), 50) {
		_, l, err := set.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		seen[l] = true
	}
	if len(seen) != 10 {
		t.Errorf("50 spread images cover %d classes", len(seen))
	}
	img, _, err := set.Image(0)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 32, 32) {
		t.Errorf("bounds %v", img.Bounds())
	}
}

func TestPack(t *testing.T) {
	set, err := Open(shareddata.Path(t, "cifar10/train_jpeg.pack"))
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 50000 || len(set.Classes()) != 10 {
		t.Fatalf("%d records, classes %v", set.Len(), set.Classes())
	}
	img, l, err := set.Image(49999)
	if err != nil || img.Bounds() != image.Rect(0, 0, 32, 32) || l < 0 || l > 9 {
		t.Fatalf("last record: %v, label %d, %v", img, l, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pack")
	os.WriteFile(bad, []byte("C10JPEG1\x03\xff\x00abc"), 0o644)
	if _, err := Open(bad); err == nil {
		t.Error("truncated pack accepted")
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty folder: %v", err)
	}
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, make([]byte, 3074), 0o644)
	if _, err := Open(bad); err == nil || err.Error() != "dataset: "+bad+": truncated or not a CIFAR-10 batch: 3074 bytes is not a whole number of CIFAR-10 records of 3073 bytes (1 label + 32x32x3 pixels)" {
		t.Errorf("truncated batch: %v", err)
	}
	rec := make([]byte, 3073)
	rec[0] = 12
	os.WriteFile(bad, rec, 0o644)
	if _, err := Open(bad); err == nil {
		t.Error("label 12 accepted")
	}
}

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"dog", "cat"} {
		os.MkdirAll(filepath.Join(dir, c), 0o755)
		f, err := os.Create(filepath.Join(dir, c, "a.png"))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, image.NewRGBA(image.Rect(0, 0, 5, 4)))
		f.Close()
	}
	os.WriteFile(filepath.Join(dir, "cat", "notes.txt"), []byte("x"), 0o644)
	set, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 || set.Classes()[0] != "cat" {
		t.Fatalf("%d images, classes %v", set.Len(), set.Classes())
	}
	if _, l, err := set.Image(1); err != nil || l != 1 {
		t.Errorf("image 1: label %d, %v", l, err)
	}
}

// A directory of CIFAR-10 batches is one set: the training batches in name order, test_batch.bin
// left out, class names from batches.meta.txt.
func TestCIFAR10Dir(t *testing.T) {
	dir := t.TempDir()
	batch := func(name string, labels ...byte) {
		var data []byte
		for _, l := range labels {
			rec := make([]byte, cifarRecord)
			rec[0] = l
			rec[1] = 10 * l // first pixel's red value marks the record
			data = append(data, rec...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	batch("data_batch_2.bin", 3, 4)
	batch("data_batch_1.bin", 0, 1, 2)
	batch("test_batch.bin", 9, 9, 9, 9)
	set, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 5 || set.Classes() != nil || set.Name() != dir {
		t.Fatalf("%d records, classes %v, name %q", set.Len(), set.Classes(), set.Name())
	}
	for i := range 5 {
		img, l, err := set.Image(i)
		if err != nil || l != i || img.(*image.RGBA).Pix[0] != byte(10*i) {
			t.Errorf("record %d: label %d, %v", i, l, err)
		}
	}
	if _, _, err := set.Image(5); err == nil {
		t.Error("record 5 of 5 accepted")
	}
	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	os.WriteFile(filepath.Join(dir, "batches.meta.txt"), []byte(names), 0o644)
	if set, err = Open(dir); err != nil || len(set.Classes()) != 10 || set.Classes()[3] != "cat" {
		t.Fatalf("with batches.meta.txt: classes %v, %v", set.Classes(), err)
	}
	// Without training batches, every .bin file.
	os.Remove(filepath.Join(dir, "data_batch_1.bin"))
	os.Remove(filepath.Join(dir, "data_batch_2.bin"))
	if set, err = Open(dir); err != nil || set.Len() != 4 {
		t.Fatalf("test batch only: %v, %v", set, err)
	}
}

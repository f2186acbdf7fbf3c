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
	if _, err := Open(bad); err == nil || err.Error() != "dataset: "+bad+": 3074 bytes is not a whole number of CIFAR-10 records of 3073 bytes (1 label + 32x32x3 pixels)" {
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

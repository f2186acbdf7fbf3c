package zoo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeinfer/edgeinfer/internal/download"
)

// DefaultBaseURL is where the public models are downloaded from: the Coral project's test data
// repository (Apache-2.0).
const DefaultBaseURL = "https://github.com/google-coral/test_data/raw/master/"

// Default is the public model that run, classify and firmware build use when no model is named:
// ImageNet's 1000 classes (and the built-in label groups, see GROUPS.md). It is pulled into the
// cache on first use; when that fails the embedded Fallback is used instead.
const Default = "mobilenet_v2_1.0_224_quant"

// Fallback is the embedded model used when Default cannot be fetched (offline).
const Fallback = DefaultModel

// Entry is a model that can be pulled by name.
type Entry struct {
	Name        string
	File        string // file name under the base URL and in the cache
	SHA256      string
	Labels      string // labels file under the base URL, stored as <Name>.labels.txt
	LabelsSHA   string
	Description string
}

const (
	imagenetLabels    = "imagenet_labels.txt"
	imagenetLabelsSHA = "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1"
)

// Public lists the models `edgeinfer models pull` knows.
var Public = []Entry{
	{"mobilenet_v1_0.25_128_quant", "mobilenet_v1_0.25_128_quant.tflite", "cb273c23ee76374b05b9583177e28aa19744858a7679c56a250e83d0333da785", imagenetLabels, imagenetLabelsSHA, "MobileNetV1 0.25 128x128, uint8, ImageNet (1001 classes), 0.5 MB"},
	{"mobilenet_v1_0.5_160_quant", "mobilenet_v1_0.5_160_quant.tflite", "3cc6d2ca460abd2e0f699a6d0d2550c6b61c6e3b0e27a3616e384ea74cb86f43", imagenetLabels, imagenetLabelsSHA, "MobileNetV1 0.5 160x160, uint8, ImageNet, 1.4 MB"},
	{"mobilenet_v1_0.75_192_quant", "mobilenet_v1_0.75_192_quant.tflite", "41daeb22fdcf947e0e5ec32373aa9df7c31f3ef45dbd0ef7b5940fbce3c20f6a", imagenetLabels, imagenetLabelsSHA, "MobileNetV1 0.75 192x192, uint8, ImageNet, 2.7 MB"},
	{"mobilenet_v2_1.0_224_quant", "mobilenet_v2_1.0_224_quant.tflite", "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", imagenetLabels, imagenetLabelsSHA, "MobileNetV2 1.0 224x224, uint8, ImageNet, 3.6 MB"},
}

// Lookup finds a public model by name (with or without ".tflite").
func Lookup(name string) (Entry, bool) {
	name = strings.TrimSuffix(name, ".tflite")
	for _, e := range Public {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// CacheDir is where pulled models live: $EDGEINFER_CACHE/models, or the user cache directory
// (~/.cache/edgeinfer/models on Linux).
func CacheDir() (string, error) {
	d, err := download.CacheDir("models")
	if err != nil {
		return "", fmt.Errorf("zoo: %w", err)
	}
	return d, nil
}

// Paths returns where the entry's model and labels are stored in dir.
func (e Entry) Paths(dir string) (model, labels string) {
	return filepath.Join(dir, e.File), filepath.Join(dir, e.Name+".labels.txt")
}

// Cached returns the path of a pulled model in dir, if it is there.
func (e Entry) Cached(dir string) (string, bool) {
	p, _ := e.Paths(dir)
	_, err := os.Stat(p)
	return p, err == nil
}

// ErrChecksum is wrapped by Pull when a download does not have the expected SHA-256.
var ErrChecksum = download.ErrChecksum

// Verified reports whether the entry's model and labels are in dir with their SHA-256, and returns
// the model's path.
func (e Entry) Verified(dir string) (string, bool) {
	model, labels := e.Paths(dir)
	if sum, err := download.FileSHA256(model); err != nil || sum != e.SHA256 {
		return model, false
	}
	if e.Labels != "" {
		if sum, err := download.FileSHA256(labels); err != nil || sum != e.LabelsSHA {
			return model, false
		}
	}
	return model, true
}

// Pull fetches the entry's model and labels from base into dir, verifying their SHA-256, and
// returns the model's path. base is an http(s):// URL, a file:// URL or a plain directory (a
// mirror: a copy of the files under their names). Files already present with the right hash are
// not fetched again. progress, if not nil, receives one line per file.
func Pull(ctx context.Context, e Entry, base, dir string, progress io.Writer) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("zoo: %w", err)
	}
	model, labels := e.Paths(dir)
	if err := download.File(ctx, download.Join(base, e.File), model, e.SHA256, progress); err != nil {
		return "", fmt.Errorf("zoo: %w", err)
	}
	if e.Labels != "" {
		if err := download.File(ctx, download.Join(base, e.Labels), labels, e.LabelsSHA, progress); err != nil {
			return "", fmt.Errorf("zoo: %w", err)
		}
	}
	return model, nil
}

package zoo

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

// The project's own models are trained by models/train (train.py on CIFAR-10, then zoo.sh quantizes
// them with `edgeinfer quantize`) and committed here; models/zoo/RESULTS.md has their measured
// accuracy. The MobileNetV2 (0.9 MB) ships inside the binary, so that `edgeinfer run` and `classify`
// work with no download; the RepVGG-A0 (7.1 MB) stays a file in this directory, to keep the binary
// small: pass --model models/zoo/cifar10_repvgg_a0.eim.
//
//go:embed cifar10_mobilenetv2_0.5.eim
var builtinFS embed.FS

// Builtin is a model embedded in the binary.
type Builtin struct {
	Name        string
	File        string // in the embedded file system and, once written out, in the cache
	Description string
}

// Builtins lists the embedded models.
var Builtins = []Builtin{
	{"cifar10_mobilenetv2_0.5", "cifar10_mobilenetv2_0.5.eim", "MobileNetV2 0.5 32x32, int8, CIFAR-10 (10 classes), trained and quantized by this project (models/train)"},
}

// DefaultModel is the model used when none is named: the embedded MobileNetV2.
const DefaultModel = "cifar10_mobilenetv2_0.5"

// LookupBuiltin finds an embedded model by name (with or without ".eim").
func LookupBuiltin(name string) (Builtin, bool) {
	for _, b := range Builtins {
		if b.Name == name || b.File == name {
			return b, true
		}
	}
	return Builtin{}, false
}

// Bytes returns the embedded model file.
func (b Builtin) Bytes() ([]byte, error) {
	data, err := builtinFS.ReadFile(b.File)
	if err != nil {
		return nil, fmt.Errorf("zoo: embedded model %s: %w", b.Name, err)
	}
	return data, nil
}

// Path writes the embedded model to dir (unless a file with the same contents is already there)
// and returns its path, so that it is opened (memory-mapped) like any other model file.
func (b Builtin) Path(dir string) (string, error) {
	data, err := b.Bytes()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, b.File)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("zoo: %w", err)
	}
	// Through a temporary file and a rename, as fetch does: a concurrent reader never sees half a file.
	tmp, err := os.CreateTemp(dir, ".builtin-*")
	if err != nil {
		return "", fmt.Errorf("zoo: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("zoo: writing the embedded model %s: %w", b.Name, err)
	}
	return path, nil
}

// Package load opens a model from any file edgeinfer reads: its own model file (models/FORMAT.md)
// or a TensorFlow Lite flatbuffer, told apart by their magic bytes, not by file name.
package load

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/tflite"
)

// Format names what a file holds.
type Format string

// Formats Model recognises.
const (
	FormatEdgeinfer Format = "edgeinfer"
	FormatTFLite    Format = "tflite"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// Sniff reads the first bytes of path and says which format it is.
func Sniff(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case len(head) >= 8 && bytes.Equal(head[4:8], []byte("TFL3")):
		return FormatTFLite, nil
	case bytes.HasPrefix(head, []byte(models.Magic)):
		return FormatEdgeinfer, nil
	}
	return "", fmt.Errorf("load: %s: neither an edgeinfer model file nor a TensorFlow Lite model (first bytes % x)", path, head)
}

// Model opens the model at path. Close the returned Closer when done with the model: an edgeinfer
// file's weights stay memory-mapped until then.
func Model(path string) (*models.Model, io.Closer, error) {
	format, err := Sniff(path)
	if err != nil {
		return nil, nil, err
	}
	if format == FormatTFLite {
		m, err := tflite.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		return m, nopCloser{}, nil
	}
	f, err := models.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f.Model, f, nil
}

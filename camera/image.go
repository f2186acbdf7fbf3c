package camera

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // decoders registered for LoadImage
	_ "image/png"
	"io"
	"os"

	_ "golang.org/x/image/bmp"
)

// MaxImagePixels bounds the images LoadImage decodes (a 64-megapixel photo is fine; a forged header
// asking for gigabytes is not).
const MaxImagePixels = 1 << 26

// LoadImage decodes a JPEG, PNG or BMP file of at most MaxImagePixels.
func LoadImage(path string) (image.Image, error) { return loadImage(path, MaxImagePixels) }

// loadImage decodes a JPEG, PNG or BMP file, refusing one of more than maxPixels before decoding.
func loadImage(path string, maxPixels int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	defer f.Close()
	// Refuse absurd dimensions before decoding allocates for them.
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return nil, decodeError(path, f, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("camera: %s: image of %dx%d pixels is larger than the %d allowed (max_pixels)", path, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	img, format, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, decodeError(path, f, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("camera: %s: empty %s image", path, format)
	}
	return img, nil
}

// decodeError describes the failed decoding of the image file f at path: not an image format at
// all, "truncated" when the file ends before its image does (truncatedImage), else the decoder's
// complaint.
func decodeError(path string, f *os.File, err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return fmt.Errorf("camera: %s: cannot decode image: not a JPEG, PNG or BMP file", path)
	case truncatedImage(f, err):
		return fmt.Errorf("camera: %s: cannot decode image: truncated (%w)", path, err)
	}
	return fmt.Errorf("camera: %s: cannot decode image (JPEG, PNG and BMP are supported): %w", path, err)
}

// truncatedImage reports whether the image file f was cut short: its decoder met the end of the
// data, a JPEG lacks its end-of-image marker, a PNG its IEND chunk, or a BMP is shorter than its
// header says.
func truncatedImage(f *os.File, err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	st, serr := f.Stat()
	if serr != nil || st.Size() < 8 {
		return serr == nil
	}
	var head, tail [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return false
	}
	if _, err := f.ReadAt(tail[:], st.Size()-8); err != nil {
		return false
	}
	switch {
	case head[0] == 0xff && head[1] == 0xd8: // JPEG: ends with FF D9 (perhaps padded)
		return !bytes.Contains(tail[:], []byte{0xff, 0xd9})
	case string(head[:8]) == "\x89PNG\r\n\x1a\n": // PNG: ends with the IEND chunk and its CRC
		return string(tail[:]) != "IEND\xaeB`\x82"
	case head[0] == 'B' && head[1] == 'M': // BMP: the header's file size
		return int64(binary.LittleEndian.Uint32(head[2:6])) > st.Size()
	}
	return false
}

// toRGBA returns img as *image.RGBA, converting into buf (reused when large enough).
func toRGBA(img image.Image, buf *image.RGBA) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	b := img.Bounds()
	if buf == nil || buf.Rect.Dx() != b.Dx() || buf.Rect.Dy() != b.Dy() {
		buf = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	}
	draw.Draw(buf, buf.Rect, img, b.Min, draw.Src)
	return buf
}

package camera

import (
	"bufio"
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
		return nil, fmt.Errorf("camera: %s: cannot decode image (JPEG, PNG and BMP are supported): %w", path, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("camera: %s: image of %dx%d pixels is larger than the %d allowed (max_pixels)", path, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	img, format, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("camera: %s: cannot decode image (JPEG, PNG and BMP are supported): %w", path, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("camera: %s: empty %s image", path, format)
	}
	return img, nil
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

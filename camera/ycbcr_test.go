package camera

import (
	"image"
	"image/draw"
	"math/rand"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// Decoded JPEGs (*image.YCbCr) are read directly; the result is the RGBA path's within rounding,
// for each chroma subsampling and for sub-images.
func TestFillYCbCrMatchesRGBA(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440} {
		full := image.NewYCbCr(image.Rect(0, 0, 67, 45), ratio)
		for _, b := range [][]byte{full.Y, full.Cb, full.Cr} {
			rng.Read(b)
		}
		for _, img := range []*image.YCbCr{full, full.SubImage(image.Rect(5, 3, 60, 41)).(*image.YCbCr)} {
			rgba := image.NewRGBA(image.Rect(0, 0, img.Rect.Dx(), img.Rect.Dy()))
			draw.Draw(rgba, rgba.Rect, img, img.Rect.Min, draw.Src)
			for _, method := range []string{"bilinear", "nearest", "area"} {
				pre, err := NewPreprocessor(models.UInt8, []int{1, 24, 24, 3}, nil, &models.Preprocess{Raw: true, Resize: method}, "")
				if err != nil {
					t.Fatal(err)
				}
				a, b := make([]byte, 24*24*3), make([]byte, 24*24*3)
				if err := pre.Fill(a, img); err != nil {
					t.Fatal(err)
				}
				if err := pre.Fill(b, rgba); err != nil {
					t.Fatal(err)
				}
				for i := range a {
					if d := int(a[i]) - int(b[i]); d < -2 || d > 2 {
						t.Fatalf("%v %v %s: byte %d is %d from YCbCr, %d from RGBA", ratio, img.Rect, method, i, a[i], b[i])
					}
				}
			}
		}
	}
}

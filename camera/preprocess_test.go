package camera

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"os"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models"
)

// The nearest-neighbour resize must give exactly the bytes PIL's Image.NEAREST gave for the
// reference inputs of real TensorFlow Lite.
func TestNearestMatchesPIL(t *testing.T) {
	for _, img := range []string{"grace_hopper", "cat", "bird"} {
		for _, n := range []int{96, 128, 160, 192, 224} {
			t.Run(fmt.Sprintf("%s_%d", img, n), func(t *testing.T) {
				want, err := os.ReadFile(shareddata.Path(t, fmt.Sprintf("reference/%s_%d_nearest.rgb", img, n)))
				if err != nil {
					t.Fatal(err)
				}
				src, err := LoadImage(shareddata.Path(t, "imagenet/"+img+".bmp"))
				if err != nil {
					t.Fatal(err)
				}
				p, err := NewPreprocessor(models.UInt8, []int{1, n, n, 3}, nil, nil, Nearest)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, n*n*3)
				if err := p.Fill(got, src); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					diff := 0
					for i := range got {
						if got[i] != want[i] {
							diff++
						}
					}
					t.Fatalf("%d of %d bytes differ from PIL's nearest resize", diff, len(got))
				}
			})
		}
	}
}

func TestNormaliseAndQuantize(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := 0; i < 4; i++ {
		img.Set(i%2, i/2, color.RGBA{255, 0, 128, 255})
	}
	// torchvision-style mean/std; int8 input with scale 1/64, zero point -10.
	pp := &models.Preprocess{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.5, 1}}
	q := &models.Quant{Scale: []float32{1.0 / 64}, ZeroPoint: []int32{-10}}
	p, err := NewPreprocessor(models.Int8, []int{1, 2, 2, 3}, q, pp, Bilinear)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 12)
	if err := p.Fill(dst, img); err != nil {
		t.Fatal(err)
	}
	// R: (1-0.5)/0.25 = 2 -> 128-10 = 118; G: (0-0.5)/0.5 = -1 -> -64-10 = -74;
	// B: (128/255-0.5)/1 = 0.00196 -> round(0.125)=0 -> -10.
	want := []int8{118, -74, -10}
	for px := 0; px < 4; px++ {
		for c := 0; c < 3; c++ {
			if got := int8(dst[px*3+c]); got != want[c] {
				t.Fatalf("pixel %d channel %d = %d, want %d", px, c, got, want[c])
			}
		}
	}
	if n := testing.AllocsPerRun(10, func() { _ = p.Fill(dst, img) }); n != 0 {
		t.Errorf("Fill allocates %v times per image", n)
	}
}

func TestPreprocessorErrors(t *testing.T) {
	for _, c := range []struct {
		shape []int
		typ   models.DType
		want  string
	}{
		{[]int{1, 8, 8, 1}, models.UInt8, "not an image"},
		{[]int{1, 8, 8, 3}, models.Float32, "not supported"},
	} {
		_, err := NewPreprocessor(c.typ, c.shape, nil, nil, "")
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("NewPreprocessor(%v, %v) error %v, want %q", c.typ, c.shape, err, c.want)
		}
	}
	if _, err := NewPreprocessor(models.UInt8, []int{1, 8, 8, 3}, nil, nil, "cubic"); err == nil {
		t.Error("unknown resize method accepted")
	}
}

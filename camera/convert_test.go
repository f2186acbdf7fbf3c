package camera

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

// The fixed-point conversion stays within one unit of the real-valued formulas, for every Y, U, V.
func TestYUVMatrixAgainstFloat(t *testing.T) {
	type coef struct{ kr, kb float64 }
	for cs, c := range map[ColorSpace]coef{BT601: {0.299, 0.114}, BT709: {0.2126, 0.0722}, JPEG: {0.299, 0.114}} {
		m := &matrices[cs]
		kg := 1 - c.kr - c.kb
		worst := 0.0
		for y := 0; y < 256; y++ {
			for u := 0; u < 256; u++ {
				for v := 0; v < 256; v += 3 {
					yf, cb, cr := float64(y), float64(u)-128, float64(v)-128
					if cs != JPEG {
						yf, cb, cr = (yf-16)*255/219, cb*255/224, cr*255/224
					}
					want := [3]float64{
						yf + 2*(1-c.kr)*cr,
						yf - 2*(1-c.kb)*c.kb/kg*cb - 2*(1-c.kr)*c.kr/kg*cr,
						yf + 2*(1-c.kb)*cb,
					}
					r, g, b := m.rgb(byte(y), byte(u), byte(v))
					for i, got := range [3]byte{r, g, b} {
						w := math.Max(0, math.Min(255, want[i]))
						worst = math.Max(worst, math.Abs(float64(got)-w))
					}
				}
			}
		}
		if worst > 0.51 { // rounding, plus what 16 fraction bits lose
			t.Errorf("colour space %d: fixed point is %.3f from the real-valued conversion", cs, worst)
		}
		if cs == JPEG { // and Go's own JFIF conversion agrees to one unit
			for i := 0; i < 100000; i++ {
				y, u, v := byte(rand.IntN(256)), byte(rand.IntN(256)), byte(rand.IntN(256))
				r, g, b := m.rgb(y, u, v)
				r2, g2, b2 := color.YCbCrToRGB(y, u, v)
				if d := max(absd(r, r2), absd(g, g2), absd(b, b2)); d > 1 {
					t.Fatalf("YCbCr %d %d %d: %d %d %d, image/color says %d %d %d", y, u, v, r, g, b, r2, g2, b2)
				}
			}
		}
	}
}

func absd(a, b byte) int { return max(int(a)-int(b), int(b)-int(a)) }

// randomFrame makes a frame with random pixels, pad extra bytes a line and garbage after the end.
func randomFrame(rng *rand.Rand, format PixelFormat, w, h, pad int) *Frame {
	stride := MinStride(format, w) + pad
	f := &Frame{Format: format, Width: w, Height: h, Stride: stride}
	f.Data = make([]byte, FrameSize(format, w, h, stride)+7)
	for i := range f.Data {
		f.Data[i] = byte(rng.Uint32())
	}
	return f
}

// refConvert converts a whole frame to RGBA pixel by pixel, addressing each plane as the format's
// definition says: the straightforward implementation that the gatherers are checked against.
func refConvert(f *Frame) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	m := &matrices[f.ColorSpace]
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			var r, g, b byte
			switch f.Format {
			case YUYV:
				pair := y*f.Stride + (x/2)*4
				r, g, b = m.rgb(f.Data[pair+(x%2)*2], f.Data[pair+1], f.Data[pair+3])
			case YU12:
				ySize := f.Stride * f.Height
				cStride := f.Stride / 2
				cSize := cStride * ((f.Height + 1) / 2)
				ci := (y/2)*cStride + x/2
				r, g, b = m.rgb(f.Data[y*f.Stride+x], f.Data[ySize+ci], f.Data[ySize+cSize+ci])
			case NV12:
				ci := f.Stride*f.Height + (y/2)*f.Stride + (x/2)*2
				r, g, b = m.rgb(f.Data[y*f.Stride+x], f.Data[ci], f.Data[ci+1])
			case RGB24:
				i := y*f.Stride + 3*x
				r, g, b = f.Data[i], f.Data[i+1], f.Data[i+2]
			}
			img.SetRGBA(x, y, color.RGBA{r, g, b, 255})
		}
	}
	return img
}

// refBilinear resizes the crop r of img to h x w, half-pixel centres, in float64: the real-valued
// interpolation of the converted pixels, before rounding and normalisation.
func refBilinear(img *image.RGBA, r image.Rectangle, h, w int) []float64 {
	out := make([]float64, 0, h*w*3)
	fy, fx := float64(r.Dy())/float64(h), float64(r.Dx())/float64(w)
	at := func(x, y, c int) float64 {
		x = max(0, min(r.Dx()-1, x))
		y = max(0, min(r.Dy()-1, y))
		return float64(img.Pix[img.PixOffset(r.Min.X+x, r.Min.Y+y)+c])
	}
	for y := 0; y < h; y++ {
		sy := (float64(y)+0.5)*fy - 0.5
		y0 := int(math.Floor(sy))
		wy := sy - float64(y0)
		for x := 0; x < w; x++ {
			sx := (float64(x)+0.5)*fx - 0.5
			x0 := int(math.Floor(sx))
			wx := sx - float64(x0)
			for c := 0; c < 3; c++ {
				t := at(x0, y0, c)*(1-wx) + at(x0+1, y0, c)*wx
				b := at(x0, y0+1, c)*(1-wx) + at(x0+1, y0+1, c)*wx
				out = append(out, t*(1-wy)+b*wy)
			}
		}
	}
	return out
}

// checkNear fails unless each byte of got is within 0.51 of the real value want (0.5 of rounding,
// 0.01 for the fixed-point weights and intermediate rounding).
func checkNear(t *testing.T, name string, got []byte, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", name, len(got), len(want))
	}
	for i, v := range want {
		if math.Abs(float64(got[i])-v) > 0.51 {
			t.Fatalf("%s: byte %d is %d, real value %.4f", name, i, got[i], v)
		}
	}
}

// refArea averages, in float64, the source area under each output pixel.
func refArea(img *image.RGBA, r image.Rectangle, h, w int) []float64 {
	out := make([]float64, 0, h*w*3)
	fy, fx := float64(r.Dy())/float64(h), float64(r.Dx())/float64(w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var sum [3]float64
			for sy := int(float64(y) * fy); float64(sy) < float64(y+1)*fy && sy < r.Dy(); sy++ {
				wy := math.Min(float64(y+1)*fy, float64(sy+1)) - math.Max(float64(y)*fy, float64(sy))
				for sx := int(float64(x) * fx); float64(sx) < float64(x+1)*fx && sx < r.Dx(); sx++ {
					wx := math.Min(float64(x+1)*fx, float64(sx+1)) - math.Max(float64(x)*fx, float64(sx))
					i := img.PixOffset(r.Min.X+sx, r.Min.Y+sy)
					for c := 0; c < 3; c++ {
						sum[c] += wx * wy * float64(img.Pix[i+c])
					}
				}
			}
			for c := 0; c < 3; c++ {
				out = append(out, sum[c]/(fx*fy))
			}
		}
	}
	return out
}

var testFormats = []PixelFormat{YUYV, YU12, NV12, RGB24}

// Fused conversion+crop+resize+quantization equals conversion, then resize, then quantization, for
// odd sizes and padded strides, every format, colour space and resize method.
func TestFusedMatchesSeparateSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pp := &models.Preprocess{Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}
	q := &models.Quant{Scale: []float32{0.0187}, ZeroPoint: []int32{-14}}
	sizes := [][2]int{{1, 1}, {2, 2}, {7, 5}, {33, 17}, {161, 99}, {640, 480}}
	outs := [][2]int{{1, 1}, {5, 3}, {24, 24}, {224, 224}}
	for _, format := range testFormats {
		for _, sz := range sizes {
			for _, pad := range []int{0, 2, 14} {
				f := randomFrame(rng, format, sz[0], sz[1], pad)
				f.ColorSpace = ColorSpace(rng.IntN(3))
				ref := refConvert(f)
				for _, o := range outs {
					for _, crop := range []float32{0, 0.875} {
						name := fmt.Sprintf("%s/%dx%d+%d/to%dx%d/crop%g", format, sz[0], sz[1], pad, o[0], o[1], crop)
						ppc := *pp
						ppc.CropFraction = crop
						// Bilinear in raw mode: within 0.51 of the real-valued interpolation; normalised:
						// the raw bytes through the channels' tables.
						p, err := NewPreprocessor(models.Int8, []int{1, o[1], o[0], 3}, q, &ppc, Bilinear)
						if err != nil {
							t.Fatal(err)
						}
						pr, _ := NewPreprocessor(models.UInt8, []int{1, o[1], o[0], 3}, nil, &models.Preprocess{Raw: true, CropFraction: crop}, Bilinear)
						got, raw := make([]byte, o[0]*o[1]*3), make([]byte, o[0]*o[1]*3)
						if err := p.FillFrame(got, f); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if err := pr.FillFrame(raw, f); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						checkNear(t, name+"/bilinear", raw, refBilinear(ref, p.cropRect(f.Width, f.Height), o[1], o[0]))
						for i := range raw {
							if want := p.lut[i%3][raw[i]]; got[i] != want {
								t.Fatalf("%s: normalised bilinear byte %d is %d, the table gives %d", name, i, int8(got[i]), int8(want))
							}
						}
						// Nearest: the same as Fill of the converted image (PIL-exact, TestNearestMatchesPIL).
						pn, _ := NewPreprocessor(models.Int8, []int{1, o[1], o[0], 3}, q, &ppc, Nearest)
						pn.FillFrame(got, f)
						want2 := make([]byte, len(got))
						pn2, _ := NewPreprocessor(models.Int8, []int{1, o[1], o[0], 3}, q, &ppc, Nearest)
						pn2.Fill(want2, ref)
						if d := firstDiff(got, want2); d >= 0 {
							t.Fatalf("%s: nearest byte %d differs", name, d)
						}
						// Area in raw mode: within one unit of the exact box average.
						pa, _ := NewPreprocessor(models.UInt8, []int{1, o[1], o[0], 3}, nil, &models.Preprocess{Raw: true, CropFraction: crop}, Area)
						if err := pa.FillFrame(got, f); err != nil {
							t.Fatal(err)
						}
						for i, v := range refArea(ref, pa.cropRect(f.Width, f.Height), o[1], o[0]) {
							if math.Abs(float64(got[i])-v) > 0.51 {
								t.Fatalf("%s: area byte %d is %d, box average %.3f", name, i, got[i], v)
							}
						}
					}
				}
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func TestRegionOfInterest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := randomFrame(rng, YUYV, 64, 48, 4)
	p, _ := NewPreprocessor(models.UInt8, []int{1, 8, 8, 3}, nil, nil, Bilinear)
	roi := image.Rect(10, 5, 42, 37)
	p.SetRegion(roi)
	got := make([]byte, 8*8*3)
	if err := p.FillFrame(got, f); err != nil {
		t.Fatal(err)
	}
	checkNear(t, "region", got, refBilinear(refConvert(f), roi, 8, 8))
}

func TestBadFrames(t *testing.T) {
	p, _ := NewPreprocessor(models.UInt8, []int{1, 8, 8, 3}, nil, nil, Bilinear)
	dst := make([]byte, 8*8*3)
	good := randomFrame(rand.New(rand.NewPCG(5, 6)), YUYV, 16, 16, 0)
	for _, c := range []struct {
		name string
		edit func(f *Frame)
		want string
	}{
		{"stride too small", func(f *Frame) { f.Stride = 30 }, "stride 30 is less than the 32 bytes"},
		{"short data", func(f *Frame) { f.Data = f.Data[:100] }, "100 bytes of data, want 512"},
		{"unsupported", func(f *Frame) { f.Format = fourcc('H', '2', '6', '4') }, "unsupported pixel format H264"},
		{"no size", func(f *Frame) { f.Width = 0 }, "0x16 pixels"},
		{"truncated MJPEG", func(f *Frame) { f.Format = MJPEG; f.Data = []byte{0xff, 0xd8, 0xff, 0xdb, 0, 0x43} }, "MJPEG frame 0:"},
		{"odd YU12 stride", func(f *Frame) { f.Format = YU12; f.Stride = 17 }, "stride 17 is odd"},
	} {
		f := *good
		c.edit(&f)
		err := p.FillFrame(dst, &f)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "camera: ") {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		// The next good frame goes through.
		if err := p.FillFrame(dst, good); err != nil {
			t.Errorf("after %s: %v", c.name, err)
		}
	}
}

func TestFillFrameAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, method := range []string{Bilinear, Nearest, Area} {
		for _, format := range testFormats {
			p, _ := NewPreprocessor(models.Int8, []int{1, 224, 224, 3}, &models.Quant{Scale: []float32{1. / 128}, ZeroPoint: []int32{0}},
				&models.Preprocess{Mean: [3]float32{.5, .5, .5}, Std: [3]float32{.5, .5, .5}, CropFraction: 0.875}, method)
			f := randomFrame(rng, format, 320, 240, 6)
			dst := make([]byte, 224*224*3)
			p.FillFrame(dst, f)
			if n := testing.AllocsPerRun(5, func() { p.FillFrame(dst, f) }); n != 0 {
				t.Errorf("%s %s: %v allocations per frame", method, format, n)
			}
		}
	}
}

// BenchmarkPreprocess measures the fused path from camera-sized frames to a 224x224 int8 tensor;
// fps is frames per second on one core.
func BenchmarkPreprocess(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct {
		format PixelFormat
		w, h   int
	}{{YUYV, 640, 480}, {YU12, 1280, 720}, {NV12, 1280, 720}, {RGB24, 640, 480}} {
		for _, method := range []string{Bilinear, Area, Nearest} {
			b.Run(fmt.Sprintf("%s_%dx%d/%s", c.format, c.w, c.h, method), func(b *testing.B) {
				p, _ := NewPreprocessor(models.Int8, []int{1, 224, 224, 3}, &models.Quant{Scale: []float32{1. / 128}, ZeroPoint: []int32{0}},
					&models.Preprocess{Mean: [3]float32{.5, .5, .5}, Std: [3]float32{.5, .5, .5}}, method)
				f := randomFrame(rng, c.format, c.w, c.h, 0)
				dst := make([]byte, 224*224*3)
				b.ReportAllocs()
				for b.Loop() {
					if err := p.FillFrame(dst, f); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fps")
			})
		}
	}
}

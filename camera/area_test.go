package camera

import (
	"fmt"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/edgeinfer/edgeinfer/models"
)

func TestVaccMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(31, 32))
	for it := 0; it < 200; it++ {
		n := 16 * rng.IntN(12)
		p := make([]byte, n+1)
		fillRand(rng, p)
		w := uint32(rng.IntN(1 << 16))
		a, b := make([]uint32, n+guard), make([]uint32, n+guard)
		for i := range a {
			a[i] = rng.Uint32() >> 8
			b[i] = a[i]
		}
		vaccNEON(&a[0], &p[0], n, w)
		vaccGeneric(&b[0], &p[0], n, w)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("n %d w %d: acc[%d] is %d from NEON, %d from Go", n, w, i, a[i], b[i])
			}
		}
	}
}

// The row conversions against their twins, every colour space, 0 to 5 blocks of 32 pixels.
func TestRowConvertMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(33, 34))
	for it := 0; it < 300; it++ {
		n := rng.IntN(6)
		k := matrices[rng.IntN(3)].consts()
		src := make([][]byte, 3)
		for i := range src {
			src[i] = make([]byte, 64*n+1)
			fillRand(rng, src[i])
		}
		var out [2][3][]byte
		for v := range out {
			for c := range out[v] {
				out[v][c] = make([]byte, 32*n+guard)
				for i := range out[v][c] {
					out[v][c][i] = byte(i)
				}
			}
		}
		kind := it % 3
		for v, neon := range []bool{true, false} {
			o := &out[v]
			switch {
			case kind == 0 && neon:
				rowYUYVNEON(&o[0][0], &o[1][0], &o[2][0], &src[0][0], n, &k)
			case kind == 0:
				rowYUYVGeneric(&o[0][0], &o[1][0], &o[2][0], &src[0][0], n, &k)
			case kind == 1 && neon:
				rowYU12NEON(&o[0][0], &o[1][0], &o[2][0], &src[0][0], &src[1][0], &src[2][0], n, &k)
			case kind == 1:
				rowYU12Generic(&o[0][0], &o[1][0], &o[2][0], &src[0][0], &src[1][0], &src[2][0], n, &k)
			case neon:
				rowNV12NEON(&o[0][0], &o[1][0], &o[2][0], &src[0][0], &src[1][0], n, &k)
			default:
				rowNV12Generic(&o[0][0], &o[1][0], &o[2][0], &src[0][0], &src[1][0], n, &k)
			}
		}
		for c := 0; c < 3; c++ {
			if d := firstDiff(out[0][c], out[1][c]); d >= 0 {
				t.Fatalf("kind %d, %d blocks: channel %d byte %d is %d from NEON, %d from Go", kind, n, c, d, out[0][c][d], out[1][c][d])
			}
		}
	}
}

// areaBoth fills with the area resize on the NEON and Go paths and fails unless they agree.
func areaBoth(t *testing.T, name string, p *Preprocessor, f *Frame, img image.Image) []byte {
	t.Helper()
	h, w := p.Size()
	var ref []byte
	for _, neon := range []bool{false, true} {
		if neon && !useNEON {
			continue
		}
		got := make([]byte, 3*h*w)
		var err error
		withNEON(neon, func() {
			if f != nil {
				err = p.FillFrame(got, f)
			} else {
				err = p.Fill(got, img)
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ref == nil {
			ref = got
		} else if d := firstDiff(got, ref); d >= 0 {
			t.Fatalf("%s: byte %d is %d from NEON, %d from Go", name, d, got[d], ref[d])
		}
	}
	return ref
}

// Whole frames: the NEON and Go area paths agree for every format, odd sizes and offsets, crops,
// regions and BGR, and are within 0.51 of the exact box average (raw mode) or its table.
func TestAreaPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	q := &models.Quant{Scale: []float32{0.0187}, ZeroPoint: []int32{-14}}
	for it := 0; it < 80; it++ {
		format := testFormats[rng.IntN(len(testFormats))]
		fw, fh := 1+rng.IntN(300), 1+rng.IntN(100)
		if it < 8 {
			fw, fh = []int{640, 1280}[it%2], []int{480, 720}[it%2]
			format = testFormats[it/2]
		}
		ow, oh := 1+rng.IntN(120), 1+rng.IntN(40)
		f := randomFrame(rng, format, fw, fh, rng.IntN(9)*2)
		f.ColorSpace = ColorSpace(rng.IntN(3))
		pp := &models.Preprocess{Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}, BGR: rng.IntN(2) == 0}
		if rng.IntN(3) == 0 {
			pp.CropFraction = 0.5 + rng.Float32()/2
		}
		name := fmt.Sprintf("%s %dx%d to %dx%d crop %g bgr %v", format, fw, fh, ow, oh, pp.CropFraction, pp.BGR)
		p, err := NewPreprocessor(models.Int8, []int{1, oh, ow, 3}, q, pp, Area)
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(4) == 0 {
			x0, y0 := rng.IntN(fw), rng.IntN(fh)
			p.SetRegion(image.Rect(x0, y0, x0+1+rng.IntN(fw), y0+1+rng.IntN(fh)))
		}
		got := areaBoth(t, name, p, f, nil)
		raw, _ := NewPreprocessor(models.UInt8, []int{1, oh, ow, 3}, nil, &models.Preprocess{Raw: true, CropFraction: pp.CropFraction}, Area)
		raw.roi = p.roi
		rb := areaBoth(t, name+" raw", raw, f, nil)
		checkNear(t, name, rb, refArea(refConvert(f), raw.cropRect(fw, fh), oh, ow))
		for i := range got {
			c := i % 3
			src := rb[i]
			if pp.BGR {
				src = rb[i-c+2-c]
			}
			if want := p.lut[c][src]; got[i] != want {
				t.Fatalf("%s: byte %d is %d, the table of the raw byte gives %d", name, i, got[i], want)
			}
		}
	}
}

// FuzzArea compares the area paths and the exact box average on fuzzed geometry.
func FuzzArea(f *testing.F) {
	f.Add(uint16(640), uint16(480), uint8(224), uint8(224), uint8(0), uint8(0), uint64(1))
	f.Add(uint16(1280), uint16(720), uint8(224), uint8(224), uint8(1), uint8(4), uint64(2))
	f.Add(uint16(65), uint16(3), uint8(9), uint8(1), uint8(2), uint8(1), uint64(3))
	f.Fuzz(func(t *testing.T, fw, fh uint16, ow, oh, fmtSel, pad uint8, seed uint64) {
		if fw == 0 || fh == 0 || ow == 0 || oh == 0 || int(fw)*int(fh) > 1<<21 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 37))
		format := testFormats[int(fmtSel)%len(testFormats)]
		fr := randomFrame(rng, format, int(fw), int(fh), int(pad%16)*2)
		fr.ColorSpace = ColorSpace(seed % 3)
		p, err := NewPreprocessor(models.UInt8, []int{1, int(oh), int(ow), 3}, nil, nil, Area)
		if err != nil {
			t.Fatal(err)
		}
		if seed%5 == 0 {
			p.SetRegion(image.Rect(int(seed>>8)%int(fw), int(seed>>20)%int(fh), int(fw), int(fh)))
		}
		got := areaBoth(t, "fuzz", p, fr, nil)
		if fw <= 256 && fh <= 256 {
			checkNear(t, "fuzz", got, refArea(refConvert(fr), p.cropRect(fr.Width, fr.Height), int(oh), int(ow)))
		}
	})
}

// The horizontal sums against their twin: real coverage weights for random widths, sums as large
// as the vertical pass makes them.
func TestHsumMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(38, 39))
	for it := 0; it < 300; it++ {
		dx, w := 1+rng.IntN(2000), 1+rng.IntN(300)
		dy := 1 + rng.IntN(3000)
		var xw []uint32
		xf, xn := make([]int32, w+1), make([]int32, w+1)
		for x := 0; x < w; x++ {
			var f, n int
			f, n, xw = coverage(x, w, dx, xw)
			xf[x], xn[x] = int32(f), int32(n)
		}
		xw = append(xw, 0)
		var planes [3][]uint32
		for c := range planes {
			planes[c] = make([]uint32, dx)
			for i := range planes[c] {
				planes[c][i] = uint32(rng.IntN(255*dy + 1))
			}
		}
		var tab [3][256]byte
		for c := range tab {
			fillRand(rng, tab[c][:])
		}
		a, b := make([]byte, 3*w+guard), make([]byte, 3*w+guard)
		fillRand(rng, a)
		copy(b, a)
		d := uint64(dx) * uint64(dy)
		hsumNEON(&a[0], &planes[0][0], &planes[1][0], &planes[2][0], &xf[0], &xn[0], &xw[0], w, d, &tab)
		hsumGeneric(&b[0], &planes[0][0], &planes[1][0], &planes[2][0], &xf[0], &xn[0], &xw[0], w, d, &tab)
		if i := firstDiff(a, b); i >= 0 {
			t.Fatalf("%d columns to %d, d %d: byte %d is %d from the assembly, %d from Go", dx, w, d, i, a[i], b[i])
		}
	}
}

// The constants the kernels take give convert.go's conversion: yuvPixel's arithmetic (what the
// NEON kernels compute) equals the tables for every colour space, Y, U and V.
func TestYUVConstsMatchTables(t *testing.T) {
	for cs := range matrices {
		m := &matrices[cs]
		for y := 0; y < 256; y++ {
			for u := 0; u < 256; u++ {
				for v := 0; v < 256; v += 5 {
					r, g, b := yuvPixel(nil, &m.k, byte(y), byte(u), byte(v))
					r2, g2, b2 := m.rgb(byte(y), byte(u), byte(v))
					if r != r2 || g != g2 || b != b2 {
						t.Fatalf("colour space %d, YUV %d %d %d: %d %d %d from the constants, %d %d %d from the tables", cs, y, u, v, r, g, b, r2, g2, b2)
					}
				}
			}
		}
	}
}

// Images (RGBA and decoded JPEGs) take the planar and windowed paths without allocating per image.
func TestFillImagesAllocateNothing(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 320, 240))
	ycc := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	for _, method := range []string{Bilinear, Area} {
		for _, img := range []image.Image{rgba, ycc} {
			p, _ := NewPreprocessor(models.Int8, []int{1, 96, 96, 3}, &models.Quant{Scale: []float32{1. / 128}, ZeroPoint: []int32{0}},
				&models.Preprocess{Mean: [3]float32{.5, .5, .5}, Std: [3]float32{.5, .5, .5}}, method)
			dst := make([]byte, 96*96*3)
			if err := p.Fill(dst, img); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(5, func() { p.Fill(dst, img) }); n != 0 {
				t.Errorf("%s %T: %v allocations per image", method, img, n)
			}
		}
	}
}

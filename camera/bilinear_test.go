package camera

import (
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models"
)

// The assembly reads bilGroup at fixed offsets.
func TestBilGroupLayout(t *testing.T) {
	var g bilGroup
	if s, i, w := unsafe.Sizeof(g), unsafe.Offsetof(g.idx), unsafe.Offsetof(g.w); s != 80 || i != 16 || w != 64 {
		t.Fatalf("bilGroup: size %d, idx at %d, w at %d; the assembly wants 80, 16, 64", s, i, w)
	}
}

// TestExpectPath checks, under qemu, that the NEON kernels are what runs (EDGEINFER_EXPECT_PATH=neon)
// or that GODEBUG turned them off, so a run of the tests on a CPU model covers the path it claims.
func TestExpectPath(t *testing.T) {
	want := os.Getenv("EDGEINFER_EXPECT_PATH")
	if want == "" {
		t.Skip("EDGEINFER_EXPECT_PATH not set")
	}
	got := "generic"
	if useNEON {
		got = "neon"
	}
	if want == "sdot" { // the camera kernels have one NEON path for every core
		want = "neon"
	}
	if got != want {
		t.Fatalf("camera kernels run the %s path, want %s", got, want)
	}
}

func needAsm(t *testing.T) {
	t.Helper()
	if !useNEON {
		t.Skip("no NEON kernels on this architecture (run under qemu-aarch64: see camera/README or scripts/test)")
	}
}

// withNEON runs f with useNEON set to on, restoring it after.
func withNEON(on bool, f func()) {
	old := useNEON
	useNEON = on
	defer func() { useNEON = old }()
	f()
}

const guard = 64 // bytes of guard band after each output, which no kernel may write

func fillRand(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// The horizontal kernel against its twin: random windows, indices, weights (with 0 and 65535),
// every colour space's constants, group counts 0 to 9.
func TestHrowYUVMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for it := 0; it < 400; it++ {
		n := rng.IntN(10)
		rowLen := 64 + rng.IntN(200)
		rows := make([][]byte, 3)
		for i := range rows {
			rows[i] = make([]byte, rowLen)
			fillRand(rng, rows[i])
		}
		gs := make([]bilGroup, n+1)
		for i := range gs[:n] {
			for pl := 0; pl < 3; pl++ {
				gs[i].base[pl] = int32(rng.IntN(rowLen - 63))
				for j := range gs[i].idx[pl] {
					gs[i].idx[pl][j] = uint8(rng.IntN(64))
				}
			}
			for j := range gs[i].w {
				switch rng.IntN(4) {
				case 0:
					gs[i].w[j] = 0
				case 1:
					gs[i].w[j] = 65535
				default:
					gs[i].w[j] = uint16(rng.Uint32())
				}
			}
		}
		k := matrices[rng.IntN(3)].consts()
		a, b := make([]uint16, 24*n+guard), make([]uint16, 24*n+guard)
		for i := range a {
			a[i] = uint16(i * 7)
			b[i] = a[i]
		}
		hrowYUVNEON(&a[0], &rows[0][0], &rows[1][0], &rows[2][0], &gs[0], n, &k)
		hrowYUVGeneric(&b[0], &rows[0][0], &rows[1][0], &rows[2][0], &gs[0], n, &k)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("iteration %d (%d groups): h[%d] is %d from NEON, %d from Go", it, n, i, a[i], b[i])
			}
		}
	}
}

// The vertical kernel and table against its twin, over the range the horizontal pass gives
// (0 to 65280), with the extremes and random weights and tables.
func TestVlutMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(13, 14))
	for it := 0; it < 400; it++ {
		n := rng.IntN(10)
		top, bot := make([]uint16, 24*n+8), make([]uint16, 24*n+8)
		for i := range top {
			switch rng.IntN(5) {
			case 0:
				top[i], bot[i] = 65280, 65280
			case 1:
				top[i], bot[i] = 0, 65280
			default:
				top[i], bot[i] = uint16(rng.IntN(65281)), uint16(rng.IntN(65281))
			}
		}
		var tab [256]byte
		fillRand(rng, tab[:])
		wy := uint(rng.IntN(65536))
		if it%7 == 0 {
			wy = uint(it % 2 * 65535)
		}
		a, b := make([]byte, 24*n+guard), make([]byte, 24*n+guard)
		fillRand(rng, a)
		copy(b, a)
		vlutNEON(&a[0], &top[0], &bot[0], n, wy, &tab)
		vlutGeneric(&b[0], &top[0], &bot[0], n, wy, &tab)
		if d := firstDiff(a, b); d >= 0 {
			t.Fatalf("iteration %d (%d groups, wy %d): byte %d is %d from NEON, %d from Go", it, n, wy, d, a[d], b[d])
		}
	}
}

func TestInterleave3MatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for n := 0; n < 20; n++ {
		src := make([]byte, 24*n+1)
		fillRand(rng, src)
		a, b := make([]byte, 24*n+guard), make([]byte, 24*n+guard)
		fillRand(rng, a)
		copy(b, a)
		interleave3NEON(&a[0], &src[0], n)
		interleave3Generic(&b[0], &src[0], n)
		if d := firstDiff(a, b); d >= 0 {
			t.Fatalf("%d groups: byte %d is %d from NEON, %d from Go", n, d, a[d], b[d])
		}
	}
}

// bilinearBoth fills dst with the preprocessor on both paths (NEON and Go, windows and gathering)
// and fails unless all give the same bytes.
func bilinearBoth(t *testing.T, name string, p *Preprocessor, f *Frame, img image.Image) []byte {
	t.Helper()
	h, w := p.Size()
	var ref []byte
	for _, c := range []struct{ neon, win bool }{{false, false}, {false, true}, {true, true}, {true, false}} {
		if c.neon && !useNEON {
			continue
		}
		got := make([]byte, 3*h*w)
		old := useWindows
		useWindows = c.win
		p.bil.key = resizeKey{} // tables again, with or without windows
		var err error
		withNEON(c.neon, func() {
			if f != nil {
				err = p.FillFrame(got, f)
			} else {
				err = p.Fill(got, img)
			}
		})
		useWindows = old
		p.bil.key = resizeKey{}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ref == nil {
			ref = got
		} else if d := firstDiff(got, ref); d >= 0 {
			t.Fatalf("%s (neon %v, windows %v): byte %d is %d, the Go path without windows gives %d", name, c.neon, c.win, d, got[d], ref[d])
		}
	}
	return ref
}

// Whole frames: NEON and Go give the same bytes for every format, colour space, odd and small
// sizes, padded strides, crops, regions and BGR; and the bytes are within 0.51 of the real-valued
// interpolation (raw mode) or the table of those bytes.
func TestBilinearPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	q := &models.Quant{Scale: []float32{0.0187}, ZeroPoint: []int32{-14}}
	for it := 0; it < 120; it++ {
		format := testFormats[rng.IntN(len(testFormats))]
		fw, fh := 1+rng.IntN(300), 1+rng.IntN(120)
		if it < 8 { // camera sizes, every format
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
		p, err := NewPreprocessor(models.Int8, []int{1, oh, ow, 3}, q, pp, Bilinear)
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(4) == 0 {
			x0, y0 := rng.IntN(fw), rng.IntN(fh)
			p.SetRegion(image.Rect(x0, y0, x0+1+rng.IntN(fw), y0+1+rng.IntN(fh)))
		}
		got := bilinearBoth(t, name, p, f, nil)
		raw, _ := NewPreprocessor(models.UInt8, []int{1, oh, ow, 3}, nil, &models.Preprocess{Raw: true, CropFraction: pp.CropFraction}, Bilinear)
		raw.roi = p.roi
		rb := bilinearBoth(t, name+" raw", raw, f, nil)
		checkNear(t, name, rb, refBilinear(refConvert(f), raw.cropRect(fw, fh), oh, ow))
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

// Decoded JPEGs (every chroma subsampling, sub-images at odd and even columns) take the same paths.
func TestBilinearYCbCrPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		full := image.NewYCbCr(image.Rect(0, 0, 333, 97), ratio)
		for _, b := range [][]byte{full.Y, full.Cb, full.Cr} {
			fillRand(rng, b)
		}
		for _, img := range []*image.YCbCr{full, full.SubImage(image.Rect(5, 3, 301, 90)).(*image.YCbCr), full.SubImage(image.Rect(6, 3, 301, 90)).(*image.YCbCr), full.SubImage(image.Rect(1, 1, 40, 20)).(*image.YCbCr)} {
			name := fmt.Sprintf("%v %v", ratio, img.Rect)
			p, _ := NewPreprocessor(models.UInt8, []int{1, 29, 57, 3}, nil, nil, Bilinear)
			bilinearBoth(t, name, p, nil, img)
			// Area: NEON and Go, and the row conversion against the gathering (useWindows off).
			pa, _ := NewPreprocessor(models.UInt8, []int{1, 29, 57, 3}, nil, nil, Area)
			a := areaBoth(t, name+" area", pa, nil, img)
			useWindows = false
			pa.ar.key = resizeKey{}
			b := areaBoth(t, name+" area, gathered", pa, nil, img)
			useWindows = true
			pa.ar.key = resizeKey{}
			if d := firstDiff(a, b); d >= 0 {
				t.Fatalf("%s area: byte %d is %d from the row conversion, %d gathered", name, d, a[d], b[d])
			}
		}
	}
}

// FuzzBilinear compares the paths on fuzzed geometry.
func FuzzBilinear(f *testing.F) {
	f.Add(uint16(640), uint16(480), uint8(224), uint8(224), uint8(0), uint8(0), uint64(1))
	f.Add(uint16(1280), uint16(720), uint8(224), uint8(224), uint8(1), uint8(4), uint64(2))
	f.Add(uint16(65), uint16(3), uint8(9), uint8(1), uint8(2), uint8(1), uint64(3))
	f.Fuzz(func(t *testing.T, fw, fh uint16, ow, oh, fmtSel, pad uint8, seed uint64) {
		if fw == 0 || fh == 0 || ow == 0 || oh == 0 || int(fw)*int(fh) > 1<<21 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 21))
		format := testFormats[int(fmtSel)%len(testFormats)]
		fr := randomFrame(rng, format, int(fw), int(fh), int(pad%16)*2)
		fr.ColorSpace = ColorSpace(seed % 3)
		p, err := NewPreprocessor(models.UInt8, []int{1, int(oh), int(ow), 3}, nil, nil, Bilinear)
		if err != nil {
			t.Fatal(err)
		}
		if seed%5 == 0 {
			p.SetRegion(image.Rect(int(seed>>8)%int(fw), int(seed>>20)%int(fh), int(fw), int(fh)))
		}
		got := bilinearBoth(t, "fuzz", p, fr, nil)
		if fw <= 256 && fh <= 256 {
			checkNear(t, "fuzz", got, refBilinear(refConvert(fr), p.cropRect(fr.Width, fr.Height), int(oh), int(ow)))
		}
	})
}

func TestHrowPlanarMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(41, 42))
	for it := 0; it < 300; it++ {
		n := rng.IntN(10)
		rowLen := 64 + rng.IntN(200)
		rows := make([][]byte, 3)
		for i := range rows {
			rows[i] = make([]byte, rowLen)
			fillRand(rng, rows[i])
		}
		gs := make([]bilGroup, n+1)
		for i := range gs[:n] {
			for pl := 0; pl < 3; pl++ {
				gs[i].base[pl] = int32(rng.IntN(rowLen - 63))
				for j := range gs[i].idx[pl] {
					gs[i].idx[pl][j] = uint8(rng.IntN(64))
				}
			}
			for j := range gs[i].w {
				gs[i].w[j] = uint16(rng.Uint32())
			}
		}
		a, b := make([]uint16, 24*n+guard), make([]uint16, 24*n+guard)
		for i := range a {
			a[i] = uint16(i * 5)
			b[i] = a[i]
		}
		hrowPlanarNEON(&a[0], &rows[0][0], &rows[1][0], &rows[2][0], &gs[0], n)
		hrowPlanarGeneric(&b[0], &rows[0][0], &rows[1][0], &rows[2][0], &gs[0], n)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("iteration %d (%d groups): h[%d] is %d from NEON, %d from Go", it, n, i, a[i], b[i])
			}
		}
	}
}

func TestDeinterleaveMatchesGeneric(t *testing.T) {
	needAsm(t)
	rng := rand.New(rand.NewPCG(43, 44))
	for n := 0; n < 12; n++ {
		for _, bpp := range []int{3, 4} {
			src := make([]byte, 16*bpp*n+1)
			fillRand(rng, src)
			var out [2][3][]byte
			for v := range out {
				for c := range out[v] {
					out[v][c] = make([]byte, 16*n+guard)
				}
			}
			o, g := &out[0], &out[1]
			if bpp == 3 {
				deinterleave3NEON(&o[0][0], &o[1][0], &o[2][0], &src[0], n)
				deinterleave3Generic(&g[0][0], &g[1][0], &g[2][0], &src[0], n)
			} else {
				deinterleave4NEON(&o[0][0], &o[1][0], &o[2][0], &src[0], n)
				deinterleave4Generic(&g[0][0], &g[1][0], &g[2][0], &src[0], n)
			}
			for c := 0; c < 3; c++ {
				if d := firstDiff(o[c], g[c]); d >= 0 {
					t.Fatalf("%d bytes a pixel, %d blocks: channel %d byte %d differs", bpp, n, c, d)
				}
			}
		}
	}
}

// Images (RGBA, as Fill converts other images to) take the planar paths of both resizes.
func TestRGBAImagePathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	for it := 0; it < 30; it++ {
		img := image.NewRGBA(image.Rect(0, 0, 1+rng.IntN(400), 1+rng.IntN(90)))
		fillRand(rng, img.Pix)
		ow, oh := 1+rng.IntN(130), 1+rng.IntN(30)
		for _, method := range []string{Bilinear, Area} {
			p, _ := NewPreprocessor(models.UInt8, []int{1, oh, ow, 3}, nil, nil, method)
			name := fmt.Sprintf("RGBA %v to %dx%d %s", img.Rect, ow, oh, method)
			if method == Bilinear {
				checkNear(t, name, bilinearBoth(t, name, p, nil, img), refBilinear(img, img.Rect, oh, ow))
			} else {
				checkNear(t, name, areaBoth(t, name, p, nil, img), refArea(img, img.Rect, oh, ow))
			}
		}
	}
}

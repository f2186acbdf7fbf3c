package camera

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"github.com/edgeinfer/edgeinfer/models"
)

// Resize methods.
const (
	Bilinear = "bilinear"
	Nearest  = "nearest"
	Area     = "area" // box filter: each output pixel averages the source pixels it covers
)

// Preprocessor writes frames and images into a model input tensor of shape [1, H, W, 3] in one pass:
// the source pixels a resize needs are converted to RGB (from YUYV, YU12, NV12, RGB24), cropped,
// resized, normalised and quantized straight into the tensor's bytes, and no other pixel is touched.
// It keeps its tables and buffers: after the first frame of a given size, FillFrame and Fill (of
// *image.RGBA) allocate nothing. MJPEG frames and other image types are decoded or converted first,
// which allocates. Not safe for concurrent use.
type Preprocessor struct {
	h, w   int
	typ    models.DType
	bgr    bool
	crop   float32
	roi    image.Rectangle // region of interest in frame coordinates; empty: centre crop
	method string
	lut    [3][256]byte // pixel value -> stored byte, per channel
	rgba   *image.RGBA
	img    Frame // the frame Fill makes of an image

	// Geometry for the last frame size and crop rectangle.
	geo     geoKey
	xs      []int32 // nearest: source columns gathered for each output row
	ys      []int32 // nearest: source row
	rowA    []byte  // gathered RGB row
	rowAy   int
	gathers gatherFunc
	bil     bilState  // the bilinear resize's tables and rows (bilinear.go)
	ar      areaState // the area resize's (area.go)
}

type geoKey struct {
	w, h int
	r    image.Rectangle
}

// resizeKey is what the bilinear and area resizes' tables depend on: the frame's size and crop
// rectangle, its pixel format and, for a decoded JPEG, its chroma subsampling and origin.
type resizeKey struct {
	geo    geoKey
	format PixelFormat
	ratio  image.YCbCrSubsampleRatio
	min    image.Point
}

func resizeKeyOf(f *Frame, r image.Rectangle) resizeKey {
	k := resizeKey{geo: geoKey{f.Width, f.Height, r}, format: f.Format}
	if f.ycc != nil {
		k.ratio, k.min = f.ycc.SubsampleRatio, f.ycc.Rect.Min
	}
	return k
}

// NewPreprocessor prepares for an input tensor of the given type, shape and quantization.
// pp == nil means raw pixels. method is Bilinear, Nearest, Area, or empty for pp's (or bilinear).
func NewPreprocessor(typ models.DType, shape []int, q *models.Quant, pp *models.Preprocess, method string) (*Preprocessor, error) {
	if len(shape) != 4 || shape[0] != 1 || shape[3] != 3 || shape[1] <= 0 || shape[2] <= 0 {
		return nil, fmt.Errorf("camera: model input shape %v is not an image [1, H, W, 3]", shape)
	}
	if typ != models.UInt8 && typ != models.Int8 {
		return nil, fmt.Errorf("camera: model input type %s is not supported (uint8 or int8)", typ)
	}
	p := &Preprocessor{h: shape[1], w: shape[2], typ: typ}
	if pp == nil {
		pp = &models.Preprocess{Raw: true}
	}
	p.bgr, p.crop = pp.BGR, pp.CropFraction
	p.method = method
	if p.method == "" {
		p.method = pp.Resize
	}
	if p.method == "" {
		p.method = Bilinear
	}
	if p.method != Bilinear && p.method != Nearest && p.method != Area {
		return nil, fmt.Errorf("camera: unknown resize method %q (bilinear, nearest or area)", p.method)
	}
	if p.crop < 0 || p.crop > 1 {
		return nil, fmt.Errorf("camera: crop fraction %g outside (0, 1]", p.crop)
	}
	var scale float32 = 1
	var zero int32
	if !pp.Raw {
		if q == nil || len(q.Scale) != 1 || !(q.Scale[0] > 0) {
			return nil, fmt.Errorf("camera: model input needs per-tensor quantization to normalise pixels")
		}
		scale, zero = q.Scale[0], q.ZeroAt(0)
	}
	lo, hi := int32(0), int32(255)
	if typ == models.Int8 {
		lo, hi = -128, 127
	}
	for c := 0; c < 3; c++ {
		if !pp.Raw && !(pp.Std[c] != 0) {
			return nil, fmt.Errorf("camera: preprocessing std[%d] is zero", c)
		}
		for v := 0; v < 256; v++ {
			var q int32
			if pp.Raw {
				q = int32(v)
				if typ == models.Int8 {
					q -= 128
				}
			} else {
				real := (float32(v)/255 - pp.Mean[c]) / pp.Std[c]
				q = int32(math.Round(float64(real/scale))) + zero
			}
			q = max(lo, min(hi, q))
			p.lut[c][v] = byte(q)
		}
	}
	p.rowAy = -1
	return p, nil
}

// Size is the input tensor's height and width.
func (p *Preprocessor) Size() (h, w int) { return p.h, p.w }

// SetRegion sets the region of interest, in frame pixels, that is resized into the tensor instead of
// the centre crop; an empty rectangle restores the centre crop. The region is clipped to each frame.
func (p *Preprocessor) SetRegion(r image.Rectangle) { p.roi = r.Canon() }

// Fill writes img, cropped and resized, into dst (the input tensor's bytes, H*W*3).
func (p *Preprocessor) Fill(dst []byte, img image.Image) error {
	if c, ok := img.(*image.YCbCr); ok && !c.Rect.Empty() {
		// A decoded JPEG is read as it is: no RGBA copy of the whole image to keep.
		p.img = Frame{Format: ycbcr, Width: c.Rect.Dx(), Height: c.Rect.Dy(), ColorSpace: JPEG, ycc: c}
		err := p.FillFrame(dst, &p.img)
		p.img.ycc = nil
		return err
	}
	src := toRGBA(img, p.rgba)
	if src != img {
		p.rgba = src
	}
	r := src.Rect
	p.img = Frame{Format: rgba32, Width: r.Dx(), Height: r.Dy(), Stride: src.Stride, Data: src.Pix[src.PixOffset(r.Min.X, r.Min.Y):]}
	err := p.FillFrame(dst, &p.img)
	p.img.Data = nil
	return err
}

// FillFrame writes frame f, converted, cropped and resized, into dst (the input tensor's bytes,
// H*W*3). A frame whose stride, size or format is wrong gives an error and leaves dst unspecified.
func (p *Preprocessor) FillFrame(dst []byte, f *Frame) error {
	if len(dst) != p.h*p.w*3 {
		return fmt.Errorf("camera: input buffer has %d bytes, want %d", len(dst), p.h*p.w*3)
	}
	if err := f.check(); err != nil {
		return err
	}
	if f.Format == MJPEG {
		img, err := jpeg.Decode(bytes.NewReader(f.Data))
		if err != nil {
			return fmt.Errorf("camera: MJPEG frame %d: %w", f.Sequence, err)
		}
		return p.Fill(dst, img)
	}
	r := p.cropRect(f.Width, f.Height)
	p.gathers = gatherer(f.Format)
	switch p.method {
	case Bilinear:
		p.bilinear(dst, f, r)
		return nil
	case Area:
		p.area(dst, f, r)
		return nil
	}
	if k := (geoKey{f.Width, f.Height, r}); k != p.geo || p.xs == nil {
		p.prepare(r)
		p.geo = k
	}
	p.rowAy = -1
	p.nearest(dst, f)
	return nil
}

// cropRect is the part of a w x h frame that is resized: the region of interest, else the centre
// crop of the model's preprocessing, else the whole frame.
func (p *Preprocessor) cropRect(w, h int) image.Rectangle {
	full := image.Rect(0, 0, w, h)
	if !p.roi.Empty() {
		if r := p.roi.Intersect(full); !r.Empty() {
			return r
		}
	}
	if p.crop > 0 && p.crop < 1 {
		side := int(float32(min(w, h)) * p.crop)
		side = max(side, 1)
		x0, y0 := (w-side)/2, (h-side)/2
		return image.Rect(x0, y0, x0+side, y0+side)
	}
	return full
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// prepare computes the nearest-neighbour sampling tables for crop rectangle r.
func (p *Preprocessor) prepare(r image.Rectangle) {
	// The source coordinate steps by repeated addition in float64 from s/2 (s = in/out) and is
	// truncated, as PIL's Image.NEAREST does (Imaging's ImagingScaleAffine), so that the bytes
	// equal those PIL gives.
	p.xs, p.ys = grow(p.xs, p.w), grow(p.ys, p.h)
	sx, sy := float64(r.Dx())/float64(p.w), float64(r.Dy())/float64(p.h)
	xo := sx * 0.5
	for x := range p.xs {
		p.xs[x] = int32(r.Min.X + min(int(xo), r.Dx()-1))
		xo += sx
	}
	yo := sy * 0.5
	for y := range p.ys {
		p.ys[y] = int32(r.Min.Y + min(int(yo), r.Dy()-1))
		yo += sy
	}
	p.rowA = grow(p.rowA, 3*p.w)
}

func (p *Preprocessor) put(d []byte, r, g, b byte) {
	if p.bgr {
		r, b = b, r
	}
	d[0], d[1], d[2] = p.lut[0][r], p.lut[1][g], p.lut[2][b]
}

func (p *Preprocessor) nearest(dst []byte, f *Frame) {
	for y := 0; y < p.h; y++ {
		if int(p.ys[y]) != p.rowAy {
			p.gathers(f, int(p.ys[y]), p.xs, p.rowA)
			p.rowAy = int(p.ys[y])
		}
		out := dst[3*p.w*y : 3*p.w*(y+1)]
		row := p.rowA[:3*p.w]
		for x := 0; x < 3*p.w; x += 3 {
			p.put(out[x:x+3:x+3], row[x], row[x+1], row[x+2])
		}
	}
}

package camera

import (
	"fmt"
	"image"
	"math"

	"github.com/edgeinfer/edgeinfer/models"
)

// Resize methods.
const (
	Bilinear = "bilinear"
	Nearest  = "nearest"
)

// Preprocessor writes images into a model input tensor of shape [1, H, W, 3]. It keeps its buffers:
// after the first image of a given size, Fill allocates nothing. Not safe for concurrent use.
type Preprocessor struct {
	h, w   int
	typ    models.DType
	bgr    bool
	crop   float32
	method string
	lut    [3][256]byte // pixel value -> stored byte, per channel
	rgba   *image.RGBA
}

// NewPreprocessor prepares for an input tensor of the given type, shape and quantization.
// pp == nil means raw pixels. method is Bilinear, Nearest, or empty for pp's (or bilinear).
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
	if p.method != Bilinear && p.method != Nearest {
		return nil, fmt.Errorf("camera: unknown resize method %q (bilinear or nearest)", p.method)
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
	return p, nil
}

// Fill writes img, cropped and resized, into dst (the input tensor's bytes, H*W*3).
func (p *Preprocessor) Fill(dst []byte, img image.Image) error {
	if len(dst) != p.h*p.w*3 {
		return fmt.Errorf("camera: input buffer has %d bytes, want %d", len(dst), p.h*p.w*3)
	}
	src := toRGBA(img, p.rgba)
	if src != img {
		p.rgba = src
	}
	r := src.Rect
	if p.crop > 0 && p.crop < 1 {
		side := int(float32(min(r.Dx(), r.Dy())) * p.crop)
		side = max(side, 1)
		x0 := r.Min.X + (r.Dx()-side)/2
		y0 := r.Min.Y + (r.Dy()-side)/2
		r = image.Rect(x0, y0, x0+side, y0+side)
	}
	if p.method == Nearest {
		p.nearest(dst, src, r)
	} else {
		p.bilinear(dst, src, r)
	}
	return nil
}

func (p *Preprocessor) put(dst []byte, o int, r, g, b byte) {
	if p.bgr {
		r, b = b, r
	}
	dst[o], dst[o+1], dst[o+2] = p.lut[0][r], p.lut[1][g], p.lut[2][b]
}

// nearest samples the source pixel whose centre is closest to the output pixel's centre, stepping
// the source coordinate by repeated addition in float64 from s/2 (s = in/out) and truncating, as PIL's
// Image.NEAREST does (Imaging's ImagingScaleAffine), so that the bytes equal those PIL gives.
func (p *Preprocessor) nearest(dst []byte, src *image.RGBA, r image.Rectangle) {
	sx, sy := float64(r.Dx())/float64(p.w), float64(r.Dy())/float64(p.h)
	yo := sy * 0.5
	for y := 0; y < p.h; y++ {
		iy := min(int(yo), r.Dy()-1)
		yo += sy
		xo := sx * 0.5
		for x := 0; x < p.w; x++ {
			ix := min(int(xo), r.Dx()-1)
			xo += sx
			i := src.PixOffset(r.Min.X+ix, r.Min.Y+iy)
			px := src.Pix[i : i+3 : i+3]
			p.put(dst, (y*p.w+x)*3, px[0], px[1], px[2])
		}
	}
}

// bilinear interpolates with half-pixel centres, rounding each channel to 8 bits before
// normalisation (as if the image had been resized first).
func (p *Preprocessor) bilinear(dst []byte, src *image.RGBA, r image.Rectangle) {
	fy := float32(r.Dy()) / float32(p.h)
	fx := float32(r.Dx()) / float32(p.w)
	for y := 0; y < p.h; y++ {
		sy := (float32(y)+0.5)*fy - 0.5
		y0 := int(math.Floor(float64(sy)))
		wy := sy - float32(y0)
		y1 := min(y0+1, r.Dy()-1)
		y0 = max(y0, 0)
		y1 = max(y1, 0)
		for x := 0; x < p.w; x++ {
			sx := (float32(x)+0.5)*fx - 0.5
			x0 := int(math.Floor(float64(sx)))
			wx := sx - float32(x0)
			x1 := min(x0+1, r.Dx()-1)
			x0 = max(x0, 0)
			x1 = max(x1, 0)
			a := src.PixOffset(r.Min.X+x0, r.Min.Y+y0)
			b := src.PixOffset(r.Min.X+x1, r.Min.Y+y0)
			c := src.PixOffset(r.Min.X+x0, r.Min.Y+y1)
			d := src.PixOffset(r.Min.X+x1, r.Min.Y+y1)
			var px [3]byte
			for ch := 0; ch < 3; ch++ {
				top := float32(src.Pix[a+ch])*(1-wx) + float32(src.Pix[b+ch])*wx
				bot := float32(src.Pix[c+ch])*(1-wx) + float32(src.Pix[d+ch])*wx
				v := top*(1-wy) + bot*wy + 0.5
				px[ch] = byte(max(0, min(255, v)))
			}
			p.put(dst, (y*p.w+x)*3, px[0], px[1], px[2])
		}
	}
}

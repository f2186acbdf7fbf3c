package camera

import "math"

// YUV to RGB conversion in 16.16 fixed point: with y' = (Y - yOff) * cy,
//
//	R = (y' + crR*(V-128)) >> 16
//	G = (y' - cbG*(U-128) - crG*(V-128)) >> 16
//	B = (y' + cbB*(U-128)) >> 16
//
// each rounded (half a unit is added to y') and clamped to [0, 255]. The coefficients are those of
// ITU-R BT.601 and BT.709 for limited range (Y in [16, 235], chroma in [16, 240]) and of JFIF for full
// range.
type yuvMatrix struct {
	yOff                   int32
	cy, crR, cbG, crG, cbB int32
	// The products, tabulated: yt[Y] = (Y-yOff)*cy + 1<<15, rv[V] = crR*(V-128),
	// gu[U] = -cbG*(U-128), gv[V] = -crG*(V-128), bu[U] = cbB*(U-128).
	yt, rv, gu, gv, bu [256]int32
	k                  yuvConsts // the coefficients as the NEON kernels take them
}

var matrices [3]yuvMatrix

func init() {
	fx := func(v float64) int32 { return int32(math.Round(v * 65536)) }
	// Limited range: 255/219 for luma, 255/224 for chroma, times the matrix's coefficients.
	limited := func(kr, kb float64) yuvMatrix {
		kg := 1 - kr - kb
		c := 255.0 / 224
		return yuvMatrix{yOff: 16, cy: fx(255.0 / 219),
			crR: fx(2 * (1 - kr) * c), cbG: fx(2 * (1 - kb) * kb / kg * c),
			crG: fx(2 * (1 - kr) * kr / kg * c), cbB: fx(2 * (1 - kb) * c)}
	}
	matrices[BT601] = limited(0.299, 0.114)
	matrices[BT709] = limited(0.2126, 0.0722)
	kr, kb := 0.299, 0.114
	kg := 1 - kr - kb
	matrices[JPEG] = yuvMatrix{yOff: 0, cy: fx(1), crR: fx(2 * (1 - kr)), cbG: fx(2 * (1 - kb) * kb / kg),
		crG: fx(2 * (1 - kr) * kr / kg), cbB: fx(2 * (1 - kb))}
	for i := range matrices {
		m := &matrices[i]
		for v := int32(0); v < 256; v++ {
			m.yt[v] = (v-m.yOff)*m.cy + 1<<15
			m.rv[v] = m.crR * (v - 128)
			m.gu[v] = -m.cbG * (v - 128)
			m.gv[v] = -m.crG * (v - 128)
			m.bu[v] = m.cbB * (v - 128)
		}
		m.k = m.consts()
	}
}

func clamp8(v int32) byte {
	if uint32(v) > 255 {
		return byte(^(v >> 31) & 255)
	}
	return byte(v)
}

// clampTab[(v+clampOff)&1023] is clamp8(v) for v in [-clampOff, 1023-clampOff], which holds every
// (y' + chroma term) >> 16 above: a lookup instead of a branch that random chroma mispredicts.
const clampOff = 384

var clampTab = func() (t [1024]byte) {
	for i := range t {
		t[i] = clamp8(int32(i - clampOff))
	}
	return t
}()

// rgb converts one pixel.
func (m *yuvMatrix) rgb(y, u, v byte) (r, g, b byte) {
	yy := m.yt[y] + clampOff<<16
	return clampTab[((yy+m.rv[v])>>16)&1023], clampTab[((yy+m.gu[u]+m.gv[v])>>16)&1023], clampTab[((yy+m.bu[u])>>16)&1023]
}

// gatherFunc converts the pixels (xs[i], y) of a frame into dst[3i:3i+3] as R, G, B. The frame has
// been checked and xs lie in [0, Width).
type gatherFunc func(f *Frame, y int, xs []int32, dst []byte)

func gatherer(format PixelFormat) gatherFunc {
	switch format {
	case YUYV:
		return gatherYUYV
	case YU12:
		return gatherYU12
	case NV12:
		return gatherNV12
	case RGB24:
		return gatherRGB24
	case rgba32:
		return gatherRGBA
	case ycbcr:
		return gatherYCbCr
	}
	return nil
}

// matrix is the colour conversion of frame f: its colour space (decoded JPEG frames are always
// full-range JPEG).
func (f *Frame) matrix() *yuvMatrix {
	if f.Format == ycbcr {
		return &matrices[JPEG]
	}
	return &matrices[f.ColorSpace%3]
}

// yuvRows returns, for frame row y of a YUV frame, the bytes each plane's samples of the row are read
// from, starting at the row's first pixel and as long as may be read:
//
//   - YUYV: the packed row, as all three (Y of column x at 2x, U at 4(x>>1)+1, V at 4(x>>1)+3);
//   - YU12: the Y row and the U and V rows of half the width (column x's chroma at x>>1);
//   - NV12: the Y row and the interleaved chroma row as both u and v (U at 2(x>>1), V at 2(x>>1)+1);
//   - a decoded JPEG: the Y row and the Cb and Cr rows from the first pixel's chroma sample to the
//     last one's (at any subsampling).
//
// Other formats have none.
func (f *Frame) yuvRows(y int) (yr, ur, vr []byte) {
	w, s := f.Width, f.Stride
	switch f.Format {
	case YUYV:
		yr = f.Data[y*s : y*s+2*(w+w%2)]
		return yr, yr, yr
	case YU12:
		cs, cw := s/2, (w+1)/2
		uOff := s*f.Height + (y>>1)*cs
		vOff := uOff + cs*((f.Height+1)/2)
		return f.Data[y*s : y*s+w], f.Data[uOff : uOff+cw], f.Data[vOff : vOff+cw]
	case NV12:
		cOff := s*f.Height + (y>>1)*s
		c := f.Data[cOff : cOff+w+w%2]
		return f.Data[y*s : y*s+w], c, c
	case ycbcr:
		c := f.ycc
		x0, y0 := c.Rect.Min.X, c.Rect.Min.Y+y
		yi, ci := c.YOffset(x0, y0), c.COffset(x0, y0)
		cn := c.COffset(c.Rect.Max.X-1, y0) - ci + 1
		return c.Y[yi : yi+w], c.Cb[ci : ci+cn], c.Cr[ci : ci+cn]
	}
	return nil, nil, nil
}

func gatherYUYV(f *Frame, y int, xs []int32, dst []byte) {
	m := f.matrix()
	row, _, _ := f.yuvRows(y)
	dst = dst[:3*len(xs)]
	for i, x := range xs {
		p := row[4*(x>>1) : 4*(x>>1)+4 : 4*(x>>1)+4]
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = m.rgb(p[2*(x&1)], p[1], p[3])
	}
}

func gatherYU12(f *Frame, y int, xs []int32, dst []byte) {
	m := f.matrix()
	yrow, urow, vrow := f.yuvRows(y)
	dst = dst[:3*len(xs)]
	for i, x := range xs {
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = m.rgb(yrow[x], urow[x>>1], vrow[x>>1])
	}
}

func gatherNV12(f *Frame, y int, xs []int32, dst []byte) {
	m := f.matrix()
	yrow, crow, _ := f.yuvRows(y)
	dst = dst[:3*len(xs)]
	for i, x := range xs {
		c := crow[2*(x>>1) : 2*(x>>1)+2 : 2*(x>>1)+2]
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = m.rgb(yrow[x], c[0], c[1])
	}
}

func gatherRGB24(f *Frame, y int, xs []int32, dst []byte) {
	row := f.Data[y*f.Stride : y*f.Stride+3*f.Width]
	dst = dst[:3*len(xs)]
	for i, x := range xs {
		p := row[3*x : 3*x+3 : 3*x+3]
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = p[0], p[1], p[2]
	}
}

// gatherYCbCr converts from a decoded JPEG (JFIF: full range BT.601) without converting the whole
// image to RGBA first.
func gatherYCbCr(f *Frame, y int, xs []int32, dst []byte) {
	m := &matrices[JPEG]
	c := f.ycc
	x0, y0 := c.Rect.Min.X, c.Rect.Min.Y+y
	dst = dst[:3*len(xs)]
	for i, x := range xs {
		yi, ci := c.YOffset(x0+int(x), y0), c.COffset(x0+int(x), y0)
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = m.rgb(c.Y[yi], c.Cb[ci], c.Cr[ci])
	}
}

func gatherRGBA(f *Frame, y int, xs []int32, dst []byte) {
	row := f.Data[y*f.Stride : y*f.Stride+4*f.Width]
	dst = dst[:3*len(xs)]
	for i, x := range xs {
		p := row[4*x : 4*x+3 : 4*x+3]
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = p[0], p[1], p[2]
	}
}

package camera

import "image"

// The area (box) resize in exact integer arithmetic, as stages NEON runs:
//
//  1. each source row of the crop is converted to planar R, G, B bytes (rowYUYV, rowYU12, rowNV12;
//     RGB24 and RGBA split by deinterleave; decoded JPEGs with 4:2:0 or 4:2:2 chroma as YU12 rows,
//     others through their gatherFunc);
//  2. the rows under an output row are summed with their integer coverage weights into 32-bit
//     accumulators per source column (vacc);
//  3. each output pixel sums the accumulators under it with the columns' coverage weights and
//     divides by the footprint's area, rounding half up, then maps through the channel's table.
//
// Coverage weights are in units of 1/W of a source column (W the output width) and 1/H of a row:
// the footprint of output column x is [x*Dx, (x+1)*Dx) in those units, Dx the crop width, so every
// weight is an integer and the weights of a footprint sum to Dx (Dy for rows). The result is the
// exact box average rounded to nearest: S = sum(wy*wx*p), out = (2S + D) / 2D with D = Dx*Dy.

type areaState struct {
	key    resizeKey
	x0     int // first frame column converted (even, for the chroma pairs)
	span   int // columns converted, from x0 to the crop's right edge
	stride int // bytes per plane of the converted row: span rounded up to 32
	xs     []int32
	xf, xn []int32  // per output column: first column (from x0) and number of columns
	xw     []uint32 // their weights, in order
	yf, yn []int32  // per output row: first frame row and number of rows
	yw     []uint32
	row    []byte // the converted row: R, G, B planes of stride bytes
	rowY   int
	rgb    []byte
	acc    []uint32
	d      uint64
	m      *yuvMatrix // the frame's colour conversion (Frame.matrix)
}

// coverage appends the integer coverage weights of output i of n over src source units.
func coverage(i, n, src int, w []uint32) (first, count int, _ []uint32) {
	lo, hi := i*src, (i+1)*src
	first = lo / n
	for c := first; c*n < hi && c < src; c++ {
		w = append(w, uint32(min(hi, (c+1)*n)-max(lo, c*n)))
		count++
	}
	return first, count, w
}

func (s *areaState) prepare(p *Preprocessor, f *Frame, r image.Rectangle) {
	if k := resizeKeyOf(f, r); k != s.key || s.acc == nil {
		s.x0 = r.Min.X &^ 1
		s.span = r.Max.X - s.x0
		s.stride = (s.span + 31) &^ 31
		s.xs = grow(s.xs, s.span)
		for i := range s.xs {
			s.xs[i] = int32(s.x0 + i)
		}
		s.xf, s.xn, s.xw = grow(s.xf, p.w), grow(s.xn, p.w), s.xw[:0]
		for x := 0; x < p.w; x++ {
			var first, n int
			first, n, s.xw = coverage(x, p.w, r.Dx(), s.xw)
			s.xf[x], s.xn[x] = int32(r.Min.X-s.x0+first), int32(n)
		}
		s.yf, s.yn, s.yw = grow(s.yf, p.h), grow(s.yn, p.h), s.yw[:0]
		for y := 0; y < p.h; y++ {
			var first, n int
			first, n, s.yw = coverage(y, p.h, r.Dy(), s.yw)
			s.yf[y], s.yn[y] = int32(r.Min.Y+first), int32(n)
		}
		s.row = grow(s.row, 3*s.stride)
		s.rgb = grow(s.rgb, 3*s.span)
		s.acc = grow(s.acc, 3*s.stride)
		s.d = uint64(r.Dx()) * uint64(r.Dy())
		s.key = k
	}
	s.rowY = -1
	s.m = f.matrix()
}

// convert fills s.row with frame row y, columns x0 to x0+span, as R, G, B planes: YUV rows (decoded
// JPEGs with halfWidthChroma as YU12 rows) in whole blocks of 32 pixels by the kernels and the rest
// here, RGB24 and RGBA rows split by deinterleave, other rows gathered pixel by pixel.
func (s *areaState) convert(p *Preprocessor, f *Frame, y int) {
	if y == s.rowY {
		return
	}
	s.rowY = y
	st := s.stride
	rp, gp, bp := s.row[:st], s.row[st:2*st], s.row[2*st:]
	blocks := s.span / 32
	m := s.m
	switch {
	case f.Format == YUYV:
		yr, _, _ := f.yuvRows(y)
		row := yr[2*s.x0:]
		if blocks > 0 {
			rowYUYV(&rp[0], &gp[0], &bp[0], &row[0], blocks, &m.k)
		}
		for i := 32 * blocks; i < s.span; i++ {
			x := i &^ 1
			rp[i], gp[i], bp[i] = yuvPixel(m, &m.k, row[2*i], row[2*x+1], row[2*x+3])
		}
	case f.Format == YU12 || f.Format == NV12 || f.Format == ycbcr && useWindows && halfWidthChroma(f.ycc):
		yr, ur, vr := f.yuvRows(y)
		yr, step := yr[s.x0:], 1
		if f.Format == NV12 {
			ur, vr, step = ur[s.x0:], vr[s.x0+1:], 2
			if blocks > 0 {
				rowNV12(&rp[0], &gp[0], &bp[0], &yr[0], &ur[0], blocks, &m.k)
			}
		} else {
			ur, vr = ur[s.x0/2:], vr[s.x0/2:]
			if blocks > 0 {
				rowYU12(&rp[0], &gp[0], &bp[0], &yr[0], &ur[0], &vr[0], blocks, &m.k)
			}
		}
		for i := 32 * blocks; i < s.span; i++ {
			rp[i], gp[i], bp[i] = yuvPixel(m, &m.k, yr[i], ur[step*(i>>1)], vr[step*(i>>1)])
		}
	case f.Format == RGB24 || f.Format == rgba32:
		bpp := 3
		if f.Format == rgba32 {
			bpp = 4
		}
		deinterleave(rp[:s.span], gp[:s.span], bp[:s.span], f.Data[y*f.Stride+bpp*s.x0:], bpp)
	default:
		// Other formats, and decoded JPEGs with other chroma.
		p.gathers(f, y, s.xs, s.rgb)
		for i := 0; i < s.span; i++ {
			rp[i], gp[i], bp[i] = s.rgb[3*i], s.rgb[3*i+1], s.rgb[3*i+2]
		}
	}
}

// halfWidthChroma reports whether the rows of decoded JPEG c, from an even column x0 of the frame,
// convert as YU12 rows: chroma at half the width (4:2:0 or 4:2:2) from an even column of the image.
func halfWidthChroma(c *image.YCbCr) bool {
	return c.Rect.Min.X%2 == 0 && (c.SubsampleRatio == image.YCbCrSubsampleRatio420 || c.SubsampleRatio == image.YCbCrSubsampleRatio422)
}

// yuvPixel converts one pixel with the constants k: convert.go's arithmetic. With m, the colour
// space whose constants k are (matrixOf), it reads m's tables instead, which hold the same.
func yuvPixel(m *yuvMatrix, k *yuvConsts, y, u, v byte) (r, g, b byte) {
	if m != nil {
		return m.rgb(y, u, v)
	}
	d := int32(y) - k[0]
	yy := d<<16 + d*k[1] + 1<<15
	cu, cv := int32(u)-128, int32(v)-128
	return clamp8((yy + k[2]*cv) >> 16), clamp8((yy + k[3]*cu + k[4]*cv) >> 16), clamp8((yy + k[5]*cu) >> 16)
}

// matrixOf returns the colour space whose constants k are (a pointer to its k), or nil: for the
// Go twins, which take the kernels' arguments.
func matrixOf(k *yuvConsts) *yuvMatrix {
	for i := range matrices {
		if &matrices[i].k == k {
			return &matrices[i]
		}
	}
	return nil
}

// area averages, for each output pixel, the source pixels its footprint covers, weighted by the
// fraction covered (see the stages above).
func (p *Preprocessor) area(dst []byte, f *Frame, r image.Rectangle) {
	s := &p.ar
	s.prepare(p, f, r)
	st := s.stride
	yw := s.yw
	for y := 0; y < p.h; y++ {
		acc := s.acc[:3*st]
		clear(acc)
		n := int(s.yn[y])
		for k := 0; k < n; k++ {
			s.convert(p, f, int(s.yf[y])+k)
			vacc(&acc[0], &s.row[0], 3*st, yw[k])
		}
		yw = yw[n:]
		out := dst[3*p.w*y : 3*p.w*(y+1)]
		pl := [3]*uint32{&acc[0], &acc[st], &acc[2*st]}
		if p.bgr {
			pl[0], pl[2] = pl[2], pl[0]
		}
		hsum(&out[0], pl[0], pl[1], pl[2], &s.xf[0], &s.xn[0], &s.xw[0], p.w, s.d, &p.lut)
	}
}

// The kernels, dispatched on useNEON.

func vacc(acc *uint32, p *byte, n int, w uint32) {
	if useNEON && n%16 == 0 && w < 1<<16 {
		vaccNEON(acc, p, n, w)
		return
	}
	vaccGeneric(acc, p, n, w)
}

func rowYUYV(r, g, b, row *byte, n int, k *yuvConsts) {
	if useNEON {
		rowYUYVNEON(r, g, b, row, n, k)
		return
	}
	rowYUYVGeneric(r, g, b, row, n, k)
}

func rowYU12(r, g, b, y, u, v *byte, n int, k *yuvConsts) {
	if useNEON {
		rowYU12NEON(r, g, b, y, u, v, n, k)
		return
	}
	rowYU12Generic(r, g, b, y, u, v, n, k)
}

func rowNV12(r, g, b, y, uv *byte, n int, k *yuvConsts) {
	if useNEON {
		rowNV12NEON(r, g, b, y, uv, n, k)
		return
	}
	rowNV12Generic(r, g, b, y, uv, n, k)
}

func hsum(out *byte, rp, gp, bp *uint32, xf, xn *int32, xw *uint32, n int, d uint64, tab *[3][256]byte) {
	if useNEON {
		hsumNEON(out, rp, gp, bp, xf, xn, xw, n, d, tab)
		return
	}
	hsumGeneric(out, rp, gp, bp, xf, xn, xw, n, d, tab)
}

package camera

import "image"

// The bilinear resize in fixed point, as separable stages that NEON reproduces bit for bit:
//
//  1. per source row, for each output column x, the two source pixels x0 and x1 are converted to RGB
//     (convert.go's 16.16 arithmetic) and mixed horizontally with a 16-bit weight w (of x1):
//     h = (a*(65536-w) + b*w + 128) >> 8, 8 fraction bits kept (hrowYUV, hrowRGB);
//  2. per output row, the two rows of h are mixed vertically with a 16-bit weight wy and rounded:
//     v = (top*(65536-wy) + bot*wy + 1<<23) >> 24, then mapped through the channel's table
//     (normalisation and quantization) (vlut);
//  3. the planes of each group of 8 output pixels are interleaved into R, G, B bytes (interleave3).
//
// The weights are exact integer functions of the geometry (bilWeight), so every architecture gives
// the same bytes. Against the real-valued bilinear interpolation the 8-bit result is within 0.51
// (0.5 of rounding plus under 0.01 of weight and intermediate rounding), as the tests check.
//
// Output columns go in groups of 8 (the last one padded by repeating the last column). For frames
// whose rows are at least 64 pixels wide and whose groups each read within 64 bytes of a row (every
// downscale up to about 8x), a group gathers its 16 source pixels from three 64-byte windows, one
// of each plane's row (bilGroup): one NEON table lookup each. YUV frames are read in place and
// converted after the gather (hrowYUV); RGB24 and RGBA rows are split into planes first
// (deinterleave, hrowPlanar). Other frames gather the pixels with the format's gatherFunc and mix
// them in Go.

// bilGroup describes one group of 8 output columns for a source row: the window starts of the Y, U
// and V rows (bytes from the row's start), the offsets in the windows of the 16 samples of each
// plane (slots 0-7: the left neighbours x0 of the 8 columns, 8-15: the right ones x1) and the
// weights of the right neighbours. Its layout is read by the assembly: 80 bytes.
type bilGroup struct {
	base [4]int32
	idx  [3][16]uint8
	w    [8]uint16
}

// yuvConsts are the conversion constants the assembly reads: Y offset, cy-65536, crR, -cbG, -crG, cbB.
type yuvConsts [8]int32

func (m *yuvMatrix) consts() yuvConsts {
	return yuvConsts{m.yOff, m.cy - 65536, m.crR, -m.cbG, -m.crG, m.cbB}
}

// bilWeight gives, for output coordinate i of n over a source span of size src (half-pixel
// centres: s = (i+0.5)*src/n - 0.5), the left neighbour floor(s), unclamped, and the weight of the
// right one, round(frac(s) * 65536), in exact integer arithmetic. A weight that rounds to 65536
// moves to the next pair with weight 0.
func bilWeight(i, n, src int) (x0 int, w uint16) {
	num := int64(2*i+1)*int64(src) - int64(n) // s = num / 2n
	den := 2 * int64(n)
	q := num / den
	if num%den != 0 && num < 0 {
		q--
	}
	rem := num - q*den
	wt := (rem*65536 + int64(n)) / den
	if wt >= 65536 {
		q, wt = q+1, 0
	}
	return int(q), uint16(wt)
}

// bilGeom is the bilinear sampling of a crop rectangle: source columns and weights per output
// column, source rows and weights per output row.
type bilGeom struct {
	// Per group of 8 output columns, the frame columns of their left neighbours x0, then of the
	// right ones x1: the order of the gathered pixels.
	slots []int32
	wx    []uint16 // weight of x1, per output column (padded to groups of 8)
	y01   []int32  // frame rows y0, y1 per output row
	wy    []uint16 // weight of y1
}

func (g *bilGeom) prepare(r image.Rectangle, w, h int) {
	ng := (w + 7) / 8
	g.slots, g.wx = grow(g.slots, 16*ng), grow(g.wx, 8*ng)
	for x := 0; x < 8*ng; x++ {
		x0, wt := bilWeight(min(x, w-1), w, r.Dx())
		x1 := max(min(x0+1, r.Dx()-1), 0)
		x0 = max(min(x0, r.Dx()-1), 0)
		i := 16*(x/8) + x%8
		g.slots[i], g.slots[i+8], g.wx[x] = int32(r.Min.X+x0), int32(r.Min.X+x1), wt
	}
	g.y01, g.wy = grow(g.y01, 2*h), grow(g.wy, h)
	for y := 0; y < h; y++ {
		y0, wt := bilWeight(y, h, r.Dy())
		y1 := max(min(y0+1, r.Dy()-1), 0)
		y0 = max(min(y0, r.Dy()-1), 0)
		g.y01[2*y], g.y01[2*y+1], g.wy[y] = int32(r.Min.Y+y0), int32(r.Min.Y+y1), wt
	}
}

// planeCols gives the byte offset, from the start of a row of each plane (Y, U, V), of frame column
// x's samples, and the number of bytes of a row of each plane that may be read.
type planeCols struct {
	off  func(plane, x int) int
	rlen [3]int
}

func yuvCols(f *Frame) (planeCols, bool) {
	var off func(plane, x int) int
	switch f.Format {
	case YUYV:
		off = func(pl, x int) int {
			switch pl {
			case 0:
				return 2 * x
			case 1:
				return 4*(x>>1) + 1
			}
			return 4*(x>>1) + 3
		}
	case YU12:
		off = func(pl, x int) int {
			if pl == 0 {
				return x
			}
			return x >> 1
		}
	case NV12:
		off = func(pl, x int) int {
			switch pl {
			case 0:
				return x
			case 1:
				return 2 * (x >> 1)
			}
			return 2*(x>>1) + 1
		}
	case RGB24, rgba32: // read from the planes the row is split into first
		w := f.Width
		return planeCols{func(pl, x int) int { return x }, [3]int{w, w, w}}, true
	case ycbcr:
		c := f.ycc
		x0, y0 := c.Rect.Min.X, c.Rect.Min.Y
		c0 := c.COffset(x0, y0)
		off = func(pl, x int) int {
			if pl == 0 {
				return x
			}
			return c.COffset(x0+x, y0) - c0
		}
	default:
		return planeCols{}, false
	}
	yr, ur, vr := f.yuvRows(0) // every row's are as long
	return planeCols{off, [3]int{len(yr), len(ur), len(vr)}}, true
}

// windows fills one bilGroup per group of 8 output columns for frame f, or reports that some group
// does not fit the 64-byte windows (or the frame is not YUV).
func (g *bilGeom) windows(f *Frame, groups []bilGroup) bool {
	pc, ok := yuvCols(f)
	if !ok {
		return false
	}
	for pl := 0; pl < 3; pl++ {
		if pc.rlen[pl] < 64 {
			return false
		}
	}
	for i := range groups {
		gr := &groups[i]
		for pl := 0; pl < 3; pl++ {
			lo, hi := 1<<30, -1
			for _, x := range g.slots[16*i : 16*i+16] {
				o := pc.off(pl, int(x))
				lo, hi = min(lo, o), max(hi, o)
			}
			base := min(lo, pc.rlen[pl]-64)
			if hi-base >= 64 || hi >= pc.rlen[pl] {
				return false
			}
			gr.base[pl] = int32(base)
			for j, x := range g.slots[16*i : 16*i+16] {
				gr.idx[pl][j] = uint8(pc.off(pl, int(x)) - base)
			}
		}
		copy(gr.w[:], g.wx[8*i:8*i+8])
	}
	return true
}

// useWindows lets tests turn off the windowed path, to compare it with the gathering one.
var useWindows = true

// bilState is the bilinear resize's per-geometry state: tables, the two horizontal rows kept and
// the output row's planes.
type bilState struct {
	geom     bilGeom
	key      resizeKey
	groups   []bilGroup
	win      bool // groups hold windows for this frame layout
	rgb      []byte
	planes   []byte // an RGB24 or RGBA row split into R, G, B planes of Width bytes
	hA, hB   []uint16
	hAy, hBy int
	vout     []byte
	m        *yuvMatrix // the frame's colour conversion (Frame.matrix)
}

func (s *bilState) prepare(p *Preprocessor, f *Frame, r image.Rectangle) {
	if k := resizeKeyOf(f, r); k != s.key || s.groups == nil {
		ng := (p.w + 7) / 8
		s.geom.prepare(r, p.w, p.h)
		s.groups = grow(s.groups, ng)
		s.win = useWindows && s.geom.windows(f, s.groups)
		s.hA, s.hB = grow(s.hA, 24*ng), grow(s.hB, 24*ng)
		s.vout = grow(s.vout, 24*ng)
		s.rgb = grow(s.rgb, 48*ng)
		if f.Format == RGB24 || f.Format == rgba32 {
			s.planes = grow(s.planes, 3*f.Width)
		}
		s.key = k
	}
	s.hAy, s.hBy = -1, -1
	s.m = f.matrix()
}

// hrow returns the horizontal pass of source row y, reusing the two rows kept.
func (s *bilState) hrow(p *Preprocessor, f *Frame, y int) []uint16 {
	switch y {
	case s.hAy:
		return s.hA
	case s.hBy:
		return s.hB
	}
	s.hA, s.hB = s.hB, s.hA
	s.hAy, s.hBy = s.hBy, s.hAy
	s.hAy = y
	if !s.win {
		p.gathers(f, y, s.geom.slots, s.rgb)
		hrowRGB(s.hA, s.rgb, s.groups, s.geom.wx)
		return s.hA
	}
	if f.Format == RGB24 || f.Format == rgba32 {
		bpp := 3
		if f.Format == rgba32 {
			bpp = 4
		}
		w := f.Width
		rp, gp, bp := s.planes[:w], s.planes[w:2*w], s.planes[2*w:3*w]
		deinterleave(rp, gp, bp, f.Data[y*f.Stride:y*f.Stride+bpp*w], bpp)
		hrowPlanar(&s.hA[0], &rp[0], &gp[0], &bp[0], &s.groups[0], len(s.groups))
		return s.hA
	}
	yr, ur, vr := f.yuvRows(y)
	// The windows were checked against these lengths in windows(); the slices make Go check them.
	hrowYUV(&s.hA[0], &yr[0], &ur[0], &vr[0], &s.groups[0], len(s.groups), &s.m.k)
	return s.hA
}

// bilinear resizes with half-pixel centres (see the stages above).
func (p *Preprocessor) bilinear(dst []byte, f *Frame, r image.Rectangle) {
	s := &p.bil
	s.prepare(p, f, r)
	ng := len(s.groups)
	full := p.w / 8
	for y := 0; y < p.h; y++ {
		top := s.hrow(p, f, int(s.geom.y01[2*y]))
		bot := s.hrow(p, f, int(s.geom.y01[2*y+1]))
		wy := uint(s.geom.wy[y])
		for oc := 0; oc < 3; oc++ {
			sc := oc
			if p.bgr {
				sc = 2 - oc
			}
			vlut(&s.vout[8*oc], &top[8*sc], &bot[8*sc], ng, wy, &p.lut[oc])
		}
		out := dst[3*p.w*y : 3*p.w*(y+1)]
		if full > 0 {
			interleave3(&out[0], &s.vout[0], full)
		}
		for x := 8 * full; x < p.w; x++ {
			g, j := x/8, x%8
			o := s.vout[24*g+j : 24*g+j+17 : 24*g+j+17]
			out[3*x], out[3*x+1], out[3*x+2] = o[0], o[8], o[16]
		}
	}
}

// The kernels, dispatched on useNEON.

func hrowYUV(h *uint16, y, u, v *byte, g *bilGroup, n int, k *yuvConsts) {
	if useNEON {
		hrowYUVNEON(h, y, u, v, g, n, k)
		return
	}
	hrowYUVGeneric(h, y, u, v, g, n, k)
}

func vlut(out *byte, top, bot *uint16, n int, wy uint, tab *[256]byte) {
	if useNEON {
		vlutNEON(out, top, bot, n, wy, tab)
		return
	}
	vlutGeneric(out, top, bot, n, wy, tab)
}

func interleave3(dst, src *byte, n int) {
	if useNEON {
		interleave3NEON(dst, src, n)
		return
	}
	interleave3Generic(dst, src, n)
}

func hrowPlanar(h *uint16, rp, gp, bp *byte, grp *bilGroup, n int) {
	if useNEON {
		hrowPlanarNEON(h, rp, gp, bp, grp, n)
		return
	}
	hrowPlanarGeneric(h, rp, gp, bp, grp, n)
}

// deinterleave splits the pixels of an RGB24 (bpp 3) or RGBA (4) row into R, G, B planes.
func deinterleave(rp, gp, bp, src []byte, bpp int) {
	n := len(rp)
	blocks := n / 16
	if blocks > 0 {
		switch {
		case bpp == 3 && useNEON:
			deinterleave3NEON(&rp[0], &gp[0], &bp[0], &src[0], blocks)
		case bpp == 3:
			deinterleave3Generic(&rp[0], &gp[0], &bp[0], &src[0], blocks)
		case useNEON:
			deinterleave4NEON(&rp[0], &gp[0], &bp[0], &src[0], blocks)
		default:
			deinterleave4Generic(&rp[0], &gp[0], &bp[0], &src[0], blocks)
		}
	}
	s := src[:bpp*n]
	for i := 16 * blocks; i < n; i++ {
		rp[i], gp[i], bp[i] = s[bpp*i], s[bpp*i+1], s[bpp*i+2]
	}
}

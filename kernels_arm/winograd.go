package kernels

import (
	"os"
	"unsafe"
)

// Winograd F(2,3) for 3x3 stride-1 convolutions, in exact integer arithmetic.
//
// Per input channel, a 4x4 input tile d gives the 2x2 output tile Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of the
// 3x3 kernel g (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015), with
//
//	Bᵀ = | 1  0 -1  0 |   G = | 1    0    0  |   Aᵀ = | 1  1  1  0 |
//	     | 0  1  1  0 |       | 1/2  1/2  1/2|        | 0  1 -1 -1 |
//	     | 0 -1  1  0 |       | 1/2 -1/2  1/2|
//	     | 0  1  0 -1 |       | 0    0    1  |
//
// G has halves; G' = 2G is integer, so U = G' g G'ᵀ = 4·G g Gᵀ is an integer matrix and
// Aᵀ[U ⊙ V]A = 4·Y exactly, V = Bᵀ d B. Summed over the input channels:
//
//	4·Σ_ic Y_ic = Aᵀ[Σ_ic U_ic ⊙ V_ic]A.
//
// Why the int32 accumulator of every output equals the direct kernel's:
//   - d is the raw int8 input (InZero in the padding, exactly as the direct kernel reads it), g the
//     raw int8 weights. Bᵀ's rows have two entries ±1, so |V| ≤ 4·128 = 512: int16. A row of G' sums
//     to at most 3 in magnitude, so |U| ≤ 3·3·128 = 1152: int16. A product |U·V| ≤ 589,824 is exact
//     in int32 (SMLAL int16×int16 → int32).
//   - The sums over input channels and the output transform are additions, subtractions and the
//     products above: ring operations, so computing them in int32 with wrap-around (Go's int32, the
//     NEON ADD/SUB/SMLAL) gives 4·Σ_ic Y_ic modulo 2^32, whatever the intermediate values.
//   - The true value Σ_ic Y_ic = Σ a·w over the 3x3xInC window has |Σ a·w| ≤ 9·InC·128·128, so with
//     InC ≤ wgMaxInC (3640) |4·Σ a·w| < 2^31: the int32 modulo 2^32 is the value itself, and the
//     arithmetic shift right by 2 divides it exactly (it is a multiple of 4).
//   - The direct kernel computes Σ a·w exactly too (its int16 pair sums never wrap: tiles with a
//     -128 weight take the one-product loop) and adds the same folded bias bias - zi·Σw in int32.
//     acc = bias' + Σ a·w is then the same int32 on both, and the same epilogue (gemmEpilogue's
//     arithmetic, requant or requantFP32) gives the same byte.
//
// Only layers with no weight zero point (all WeightZero 0) take Winograd: with wz ≠ 0 the direct
// kernel also needs the window's row sums.
//
// Layout (one band of up to wg.band tile rows, nt tiles, padded to ntp = a multiple of 4):
//   - U (prepare time): [16 ξ][ocp/16][icp][16 oc] int16, ξ = 4·row + column of the 4x4 tile,
//     icp = InC rounded up to 8, ocp = OutC rounded up to 16, zeros in the padding;
//   - V (scratch): [16 ξ][ntp/4][icp/8][4 tiles][8 ic] int16 (wgInput);
//   - M (scratch): [ntp][ocp/4][16 ξ][4 oc] int32 (wgGEMM writes, wgOutput reads).
type wino struct {
	tw, th   int // tiles across, down: ceil(OutW/2), ceil(OutH/2)
	band     int // tile rows per band
	icp, ocp int
	u        []int16
	params   []int32 // [ocp/4][4 rows: bias', mult, rsh, lsh][4]
}

// wgMaxInC bounds InC so that |4·Σ a·w| < 2^31 (see above): 4·9·128·128·3640 < 2^31.
const wgMaxInC = 3640

// Winograd selection (tests set it): wgAuto takes Winograd on the SMLAL path where the cost model
// says it wins, wgOff never, wgForce for every eligible layer on every path (the Go twins too).
const (
	wgAuto = iota
	wgOff
	wgForce
)

var winogradUse = wgAuto

// EDGEINFER_WINOGRAD=off keeps every layer on the direct kernels, =force takes Winograd for every
// eligible layer on every path: to compare the two (outputs, instruction counts) on one binary.
func init() {
	switch os.Getenv("EDGEINFER_WINOGRAD") {
	case "off":
		winogradUse = wgOff
	case "force":
		winogradUse = wgForce
	}
}

// wgEligible reports whether the layer can take Winograd F(2,3) exactly.
func wgEligible(p *ConvParams) bool {
	if p.KH != 3 || p.KW != 3 || p.StrideH != 1 || p.StrideW != 1 || p.DilH != 1 || p.DilW != 1 || p.InC > wgMaxInC {
		return false
	}
	for _, z := range p.WeightZero {
		if z != 0 {
			return false
		}
	}
	return true
}

// wgWins reports whether Winograd takes fewer instructions than the direct kernel on the SMLAL path,
// by the model of wgCost.
func wgWins(p *ConvParams) bool {
	win, direct := wgCost(p)
	return win < direct
}

// wgCost is an instruction-count model of a 3x3 stride-1 layer on the SMLAL path: Winograd and the
// direct kernel. Its constants come from the kernels' loops (wgGEMM: 133 instructions per 8 input
// channels, 4 tiles and 16 output channels, about 40 per register tile beyond; wgGEMM1: 37 and 20;
// wgInput 64 per tile and 8 channels; wgOutput about 70 per tile and 4 channels; the direct 4x16
// SMLAL tile 201 per k-chunk and about 100 per tile, the 1x16 one 57 and 40), the direct ones
// scaled by 1.35, the ratio of measured to modelled counts. Measured against
// `kernels_arm/insncount.sh cortex-a72 conv3x3 100 :HW:InC:OutC:1` (direct) and `:2` (Winograd) for
// HW:InC:OutC = 1:64:64, 2:64:64, 3:32:32, 5:128:128, 14:192:192, 1:256:256: within 12% on both, and
// the choice right on each (README.md, "Winograd").
func wgCost(p *ConvParams) (win, direct float64) {
	tw, th := (p.OutW+1)/2, (p.OutH+1)/2
	band := wgBand(tw, th)
	icg, ob, oc4 := float64((p.InC+7)/8), float64((p.OutC+15)/16), float64((p.OutC+3)/4)
	for ty := 0; ty < th; ty += band {
		nt := min(band, th-ty) * tw
		ng, singles := float64(nt/4), float64(nt%4)
		gemm := 16 * ob * (ng*(icg*133+40) + singles*(icg*37+20))
		win += gemm + float64(nt)*(icg*64+oc4*70+60) + 1500
	}
	win += 500
	kc := float64((9*p.InC + 15) / 16)
	m := p.OutH * p.OutW
	direct = 1.35 * (float64(m/4)*(ob*(kc*201+100)+kc*20+100) + float64(m%4)*ob*(kc*57+40))
	return win, direct
}

// wgBand is the number of tile rows computed together: about 64 tiles, a multiple of 4 if one is
// near (wgGEMM takes 4 at a time, wgGEMM1 the rest one by one), the whole layer if it has fewer.
func wgBand(tw, th int) int {
	b := min(th, (64+tw-1)/tw)
	for c := b; c >= 1 && c >= b-2 && b < th; c-- {
		if c*tw%4 == 0 {
			return c
		}
	}
	return b
}

// newWino transforms the weights of an eligible layer (wgEligible) and folds its epilogue
// parameters.
func newWino(p *ConvParams) *wino {
	tw, th := (p.OutW+1)/2, (p.OutH+1)/2
	wg := &wino{tw: tw, th: th, band: wgBand(tw, th), icp: (p.InC + 7) / 8 * 8, ocp: (p.OutC + 15) / 16 * 16}
	icp, ocp := wg.icp, wg.ocp
	wg.u = make([]int16, 16*ocp*icp)
	wg.params = make([]int32, ocp*4)
	k := 9 * p.InC
	for o := 0; o < p.OutC; o++ {
		wo := p.Weights[o*k : (o+1)*k]
		var sum int32
		for ic := 0; ic < p.InC; ic++ {
			var g [3][3]int32
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					g[ky][kx] = int32(wo[(ky*3+kx)*p.InC+ic])
					sum += g[ky][kx]
				}
			}
			u := wgWeightTransform(&g)
			for xi := 0; xi < 16; xi++ {
				wg.u[((xi*ocp/16+o/16)*icp+ic)*16+o%16] = int16(u[xi/4][xi%4])
			}
		}
		var bias int32
		if p.Bias != nil {
			bias = p.Bias[o]
		}
		// wz is 0 (wgEligible): Σ (a - zi)·w = Σ a·w - zi·Σw.
		bias -= p.InZero * sum
		mult, rsh, lsh := chanQuant(p.Mult, p.Shift, p.Scale, o)
		pt := wg.params[o/4*16 : o/4*16+16]
		pt[o%4], pt[4+o%4], pt[8+o%4], pt[12+o%4] = bias, mult, rsh, lsh
	}
	return wg
}

// wgWeightTransform returns U = G' g G'ᵀ, G' = 2G = [2 0 0; 1 1 1; 1 -1 1; 0 0 2].
func wgWeightTransform(g *[3][3]int32) [4][4]int32 {
	var t [4][3]int32 // G' g
	for c := 0; c < 3; c++ {
		t[0][c] = 2 * g[0][c]
		t[1][c] = g[0][c] + g[1][c] + g[2][c]
		t[2][c] = g[0][c] - g[1][c] + g[2][c]
		t[3][c] = 2 * g[2][c]
	}
	var u [4][4]int32 // (G' g) G'ᵀ
	for r := 0; r < 4; r++ {
		u[r][0] = 2 * t[r][0]
		u[r][1] = t[r][0] + t[r][1] + t[r][2]
		u[r][2] = t[r][0] - t[r][1] + t[r][2]
		u[r][3] = 2 * t[r][2]
	}
	return u
}

// wgScratch is the scratch of one band: V and M, plus 16 bytes to align them.
func (c *Conv) wgScratch() int {
	wg := c.wg
	ntp := (wg.band*wg.tw + 3) / 4 * 4
	return 16*ntp*wg.icp*2 + ntp*16*wg.ocp*4 + 16 + wg.ocp
}

// wgBuffers returns V and M in scratch (wgScratch bytes), 16-byte aligned (the last OutC bytes of
// scratch are runWino's dummy output pixel).
func (c *Conv) wgBuffers(scratch []int8) ([]int16, []int32) {
	wg := c.wg
	ntp := (wg.band*wg.tw + 3) / 4 * 4
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(scratch))) & 15)
	vb := scratch[off : off+16*ntp*wg.icp*2]
	mb := scratch[off+len(vb) : off+len(vb)+ntp*16*wg.ocp*4]
	return unsafe.Slice((*int16)(unsafe.Pointer(&vb[0])), len(vb)/2), unsafe.Slice((*int32)(unsafe.Pointer(&mb[0])), len(mb)/4)
}

// Winograd reports whether the convolution was prepared for Winograd F(2,3) (winograd.go).
func (c *Conv) Winograd() bool { return c.wg != nil }

// runWino computes output rows [y0, y1) (already clamped) by Winograd F(2,3), band by band of tile
// rows. A tile row half inside the range is computed whole and only its rows inside are written.
func (c *Conv) runWino(dst, src, scratch []int8, y0, y1 int) {
	wg := c.wg
	ocp := wg.ocp
	v, m := c.wgBuffers(scratch)
	dummy := scratch[len(scratch)-wg.ocp:]
	// wgOutput (and its twin) stores whole groups of 4 channels with the fp32 epilogue.
	fast := c.flags&flagFP32 != 0 && c.outC%4 == 0
	for ty0 := y0 / 2; ty0 <= (y1-1)/2; ty0 += wg.band {
		ty1 := min(ty0+wg.band, (y1+1)/2)
		nt := c.wgBandM(v, m, src, ty0, ty1)
		// Output transform and epilogue, the rows of the range only.
		for t := 0; t < nt; t++ {
			ty, tx := ty0+t/wg.tw, t%wg.tw
			oy, ox := 2*ty, 2*tx
			r0, r1 := max(oy, y0), min(oy+2, y1)
			cw := min(2, c.outW-ox)
			mt := m[t*16*ocp : (t+1)*16*ocp]
			if !fast {
				c.wgOutputTile(dst, mt, oy, ox, r0-oy, r1-oy, cw)
				continue
			}
			// The 4 pixels of the tile; those outside the range or the output write to dummy.
			var d [4]*int8
			for i := range d {
				r, q := i/2, i%2
				d[i] = &dummy[0]
				if oy+r >= r0 && oy+r < r1 && q < cw {
					d[i] = &dst[((oy+r)*c.outW+ox+q)*c.outC]
				}
			}
			if c.path != pathGeneric {
				wgOutput(&mt[0], &wg.params[0], &c.hdr[0], &d, c.outC/4)
			} else {
				wgOutputGeneric(&mt[0], &wg.params[0], &c.hdr[0], &d, c.outC/4)
			}
		}
	}
}

// wgBandM computes M of the tiles of tile rows [ty0, ty1) (at most wg.band) and returns their
// number: the input transform into v (zero tiles up to a multiple of 4), then the 16 GEMMs
// M[t][oc/4][ξ][4] = Σ_ic V[ξ][t][ic]·U[ξ][ic][oc].
func (c *Conv) wgBandM(v []int16, m []int32, src []int8, ty0, ty1 int) int {
	wg := c.wg
	icp, ocp := wg.icp, wg.ocp
	nt := (ty1 - ty0) * wg.tw
	ntp := (nt + 3) / 4 * 4
	for t := 0; t < nt; t++ {
		ty, tx := ty0+t/wg.tw, t%wg.tw
		iy, ix := 2*ty-c.pt, 2*tx-c.pl
		if c.inC%8 != 0 {
			c.wgInputTile(v, ntp, src, t, iy, ix)
			continue
		}
		// The 16 pixels of the patch (the row of InZero outside the input), 8 channels per step.
		var ptrs [16]*int8
		if iy >= 0 && iy+4 <= c.inH && ix >= 0 && ix+4 <= c.inW {
			px := src[(iy*c.inW+ix)*c.inC:]
			rs := c.inW * c.inC
			_ = px[3*rs+4*c.inC-1]
			for r := 0; r < 4; r++ {
				for q := 0; q < 4; q++ {
					ptrs[4*r+q] = &px[r*rs+q*c.inC]
				}
			}
		} else {
			for r := 0; r < 4; r++ {
				for q := 0; q < 4; q++ {
					ptrs[4*r+q] = &c.zrow[0]
					if y, x := iy+r, ix+q; y >= 0 && y < c.inH && x >= 0 && x < c.inW {
						ptrs[4*r+q] = &src[(y*c.inW+x)*c.inC]
					}
				}
			}
		}
		vt := &v[t/4*icp*4+t%4*8]
		if c.path != pathGeneric {
			wgInput(&ptrs, vt, 2*ntp*icp, icp/8)
		} else {
			wgInputGeneric(&ptrs, vt, 2*ntp*icp, icp/8)
		}
	}
	// Groups of 4 tiles by wgGEMM, the last nt%4 tiles one by one by wgGEMM1 (their slots in the
	// last group of V: the others are not read).
	ng := nt / 4
	for xi := 0; xi < 16; xi++ {
		vp, up, mp := v[xi*ntp*icp:], &wg.u[xi*ocp*icp], m[xi*4:]
		if ng > 0 {
			if c.path != pathGeneric {
				wgGEMM(&vp[0], up, &mp[0], ng, icp/8, ocp/16, 16*ocp)
			} else {
				wgGEMMGeneric(&vp[0], up, &mp[0], ng, icp/8, ocp/16, 16*ocp)
			}
		}
		for t := 4 * ng; t < nt; t++ {
			v1, m1 := &vp[ng*icp*4+t%4*8], &mp[t*16*ocp]
			if c.path != pathGeneric {
				wgGEMM1(v1, up, m1, icp/8, ocp/16)
			} else {
				wgGEMM1Generic(v1, up, m1, icp/8, ocp/16)
			}
		}
	}
	return nt
}

// wgInputTile writes V = Bᵀ d B of tile t for every input channel, d the 4x4 input patch with
// corner (iy, ix), InZero outside the input (and zeros for the channels beyond InC).
func (c *Conv) wgInputTile(v []int16, ntp int, src []int8, t, iy, ix int) {
	icp := c.wg.icp
	var rows [4][4][]int8 // the patch's pixels: InC bytes, or the row of InZero
	for r := 0; r < 4; r++ {
		for q := 0; q < 4; q++ {
			y, x := iy+r, ix+q
			if y >= 0 && y < c.inH && x >= 0 && x < c.inW {
				rows[r][q] = src[(y*c.inW+x)*c.inC:][:c.inC]
			} else {
				rows[r][q] = c.zrow[:c.inC]
			}
		}
	}
	base := t/4*icp*4 + t%4*8
	for ic := 0; ic < icp; ic++ {
		var d [4][4]int32
		if ic < c.inC {
			for r := 0; r < 4; r++ {
				for q := 0; q < 4; q++ {
					d[r][q] = int32(rows[r][q][ic])
				}
			}
		}
		vt := wgInputTransform(&d) // zero for the padding channels ic >= InC (d is zero there)
		o := base + ic/8*32 + ic%8
		for xi := 0; xi < 16; xi++ {
			v[xi*ntp*icp+o] = int16(vt[xi/4][xi%4])
		}
	}
}

// wgInputTransform returns Bᵀ d B.
func wgInputTransform(d *[4][4]int32) [4][4]int32 {
	var t [4][4]int32 // Bᵀ d
	for q := 0; q < 4; q++ {
		t[0][q] = d[0][q] - d[2][q]
		t[1][q] = d[1][q] + d[2][q]
		t[2][q] = d[2][q] - d[1][q]
		t[3][q] = d[1][q] - d[3][q]
	}
	var v [4][4]int32 // (Bᵀ d) B
	for r := 0; r < 4; r++ {
		v[r][0] = t[r][0] - t[r][2]
		v[r][1] = t[r][1] + t[r][2]
		v[r][2] = t[r][2] - t[r][1]
		v[r][3] = t[r][1] - t[r][3]
	}
	return v
}

// wgOutputTransform returns Aᵀ m A (int32, wrapping).
func wgOutputTransform(m *[4][4]int32) [2][2]int32 {
	var s [2][4]int32
	for q := 0; q < 4; q++ {
		s[0][q] = m[0][q] + m[1][q] + m[2][q]
		s[1][q] = m[1][q] - m[2][q] - m[3][q]
	}
	var y [2][2]int32
	for r := 0; r < 2; r++ {
		y[r][0] = s[r][0] + s[r][1] + s[r][2]
		y[r][1] = s[r][1] - s[r][2] - s[r][3]
	}
	return y
}

// wgOutputTile writes rows [ra, rb) and columns [0, cw) of the 2x2 output tile at (oy, ox) from the
// tile's M ([ocp/4][16 ξ][4]): acc = bias' + (Aᵀ M A) >> 2, then the layer's epilogue.
func (c *Conv) wgOutputTile(dst []int8, mt []int32, oy, ox, ra, rb, cw int) {
	H := c.hdr[:3]
	for o := 0; o < c.outC; o++ {
		var mm [4][4]int32
		g := mt[o/4*64:]
		for xi := 0; xi < 16; xi++ {
			mm[xi/4][xi%4] = g[xi*4+o%4]
		}
		y := wgOutputTransform(&mm)
		pt := c.wg.params[o/4*16:]
		bias, mult, rsh, lsh := pt[o%4], pt[4+o%4], pt[8+o%4], pt[12+o%4]
		for r := ra; r < rb; r++ {
			for q := 0; q < cw; q++ {
				acc := bias + y[r][q]>>2
				dst[((oy+r)*c.outW+ox+q)*c.outC+o] = gemmEpilogue(acc, c.flags&^flagWZ, nil, 0, mult, rsh, lsh, 0, H)
			}
		}
	}
}

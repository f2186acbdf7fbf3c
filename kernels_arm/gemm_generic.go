package kernels

import (
	"math"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/internal/fixedpoint"
)

// Packed layouts of the GEMM kernels (see README.md).
const (
	sdotNR     = 16       // output channels per SDOT column tile
	sdotParams = 5 * 16   // int32 per SDOT tile: bias, mult, rsh, lsh, wz
	mlalNR     = 16       // output channels per SMLAL column tile
	mlalParams = 4 + 5*16 // int32 per SMLAL tile: flags (and 3 unused), then as sdotParams

	flagLSH    = 1  // some channel has a left shift (lsh > 0)
	flagWZ     = 2  // some channel has a weight zero point: subtract wz*rowsum
	flagFastRQ = 4  // every channel shifts right by >= 1: the assembly's shorter epilogue is exact
	flagFP32   = 8  // XNNPACK's fp32 requantization: the mult slots hold float32 scales (bits)
	flagSafe   = 16 // SMLAL: some tile is flagged mlalTileSafe (without it the tile flags are not read)
	flagNoMin  = 32 // fast and fp32 epilogues: ActMin is -128, the clamp to it cannot bind (skipped)
	flagNoMax  = 64 // fast and fp32 epilogues: ActMax is 127, the clamp to it cannot bind (skipped)

	flagVNNI = 128 // amd64: gemmAVX2 takes its AVX-512 VNNI loop (set at prepare time when useVNNI)

	mlalTileSafe = 1 // SMLAL tile flag: a weight is -128, take the one-product-per-lane loop
)

// makeHdr is the header of the GEMM kernels: the output zero point and the activation bounds, then
// (for gemmSDOT6P's LD3R) the zero point as two int16 and each bound as four int8 in a word.
func makeHdr(oz, lo, hi int32) [8]int32 {
	rep8 := func(x int32) int32 { return int32(uint32(uint8(x)) * 0x01010101) }
	return [8]int32{oz, lo, hi, 0, int32(uint32(uint16(oz)) * 0x00010001), rep8(lo), rep8(hi), 0}
}

// requant is the epilogue every kernel fuses: TFLite's MultiplyByQuantizedMultiplier with the left
// and right parts of the shift kept apart (lsh >= 0 left, right >= 0 right; one of them is 0 for
// real parameters), then the output zero point and the activation clamp.
func requant(acc, mult int32, lsh, right int, oz, lo, hi int32) int8 {
	x := fixedpoint.SaturatingRoundingDoublingHighMul(acc*(1<<uint(lsh)), mult)
	x = fixedpoint.RoundingDivideByPOT(x, right) + oz
	return int8(fixedpoint.Clamp(x, lo, hi))
}

// requantFP32 is XNNPACK's fp32 requantization (xnn_qs8_requantize_fp32 and the fp32 GEMM
// epilogues): float32(acc) * scale, clamped to the output range less the zero point, rounded half to
// even, plus the zero point. Clamping first keeps the conversion in range; the bounds are integers,
// so it gives the same as rounding first.
func requantFP32(acc int32, scale float32, oz, lo, hi int32) int8 {
	v := float32(acc) * scale
	v = min(max(v, float32(lo-oz)), float32(hi-oz))
	return int8(int32(math.RoundToEven(float64(v))) + oz)
}

// gemmSDOTGeneric is the pure-Go twin of gemmSDOT4 (mr 4) and gemmSDOT1 (mr 1).
func gemmSDOTGeneric(mr int, a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	A := unsafe.Slice(a, kc*16*mr)
	W := unsafe.Slice(w, ntiles*kc*256)
	P := unsafe.Slice(p, ntiles*sdotParams)
	H := unsafe.Slice(hdr, 3)
	var R []int32
	if flags&flagWZ != 0 {
		R = unsafe.Slice(rs, mr)
	}
	rows := [4]*int8{c0, c1, c2, c3}
	wx := vnniXor(flags)
	for m := 0; m < mr; m++ {
		out := unsafe.Slice(rows[m], ntiles*sdotNR)
		for j := 0; j < ntiles; j++ {
			pt := P[j*sdotParams : (j+1)*sdotParams]
			wt := W[j*kc*256 : (j+1)*kc*256]
			var acc [sdotNR]int32
			copy(acc[:], pt[:sdotNR]) // the bias
			for c := 0; c < kc; c++ {
				ac := A[c*16*mr+m*16 : c*16*mr+m*16+16]
				for i := 0; i < 4; i++ { // SDOT group i: k = 16c + 4i + b, weights [16 columns][4 b]
					a0, a1, a2, a3 := int32(ac[4*i]), int32(ac[4*i+1]), int32(ac[4*i+2]), int32(ac[4*i+3])
					wg := wt[c*256+i*64 : c*256+i*64+64]
					for n := range acc {
						w4 := wg[4*n : 4*n+4]
						acc[n] += a0*int32(w4[0]^wx) + a1*int32(w4[1]^wx) + a2*int32(w4[2]^wx) + a3*int32(w4[3]^wx)
					}
				}
			}
			for n, v := range acc {
				out[j*sdotNR+n] = gemmEpilogue(v, flags, R, m, pt[16+n], pt[32+n], pt[48+n], pt[64+n], H)
			}
		}
	}
}

// vnniXor is what the SDOT layout's stored weights are xored with: 0x80 with flagVNNI (amd64's VNNI
// loop takes them as the unsigned operand w+128 of VPDPBUSD), 0 otherwise.
func vnniXor(flags int) int8 {
	if flags&flagVNNI != 0 {
		return math.MinInt8
	}
	return 0
}

func gemmEpilogue(acc int32, flags int, R []int32, m int, mult, rsh, lsh, wz int32, H []int32) int8 {
	if flags&flagWZ != 0 {
		acc -= wz * R[m]
	}
	if flags&flagFP32 != 0 {
		return requantFP32(acc, math.Float32frombits(uint32(mult)), H[0], H[1], H[2])
	}
	l := 0
	if flags&flagLSH != 0 {
		l = int(lsh)
	}
	return requant(acc, mult, l, int(-rsh), H[0], H[1], H[2])
}

// gemmMLALGeneric is the pure-Go twin of gemmMLAL4 (mr 4, the panel of packA4R) and gemmMLAL1
// (mr 1, a plain row), including the int16 wrap of the fast loop on tiles not flagged mlalTileSafe
// (all of them unless flags&flagSafe).
func gemmMLALGeneric(mr int, a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	A := unsafe.Slice(a, kc*16*mr*mr) // mr 4: four rotations per chunk
	W := unsafe.Slice(w, ntiles*kc*256)
	P := unsafe.Slice(p, ntiles*mlalParams)
	H := unsafe.Slice(hdr, 3)
	var R []int32
	if flags&flagWZ != 0 {
		R = unsafe.Slice(rs, mr)
	}
	rows := [4]*int8{c0, c1, c2, c3}
	for m := 0; m < mr; m++ {
		out := unsafe.Slice(rows[m], ntiles*mlalNR)
		for j := 0; j < ntiles; j++ {
			pt := P[j*mlalParams : (j+1)*mlalParams]
			safe := flags&flagSafe != 0 && pt[0]&mlalTileSafe != 0
			pt = pt[4:]
			wt := W[j*kc*256 : (j+1)*kc*256]
			for n := 0; n < mlalNR; n++ {
				v, u := n/4, n%4
				acc := pt[n]
				for c := 0; c < kc; c++ {
					for q := 0; q < 4; q++ { // rotation q of the row, weights [q][v][16]
						var ac [16]int8
						if mr == 4 {
							copy(ac[:], A[((c*4+q)*4+m)*16:])
						} else {
							for i := range ac {
								ac[i] = A[c*16+(i+2*q)%16]
							}
						}
						wc := wt[c*256+q*64+v*16 : c*256+q*64+v*16+16]
						for l := 2 * u; l < 2*u+2; l++ { // the int16 lanes SADALP adds into lane u
							s := int32(ac[l])*int32(wc[l]) + int32(ac[l+8])*int32(wc[l+8])
							if !safe {
								s = int32(int16(s))
							}
							acc += s
						}
					}
				}
				out[j*mlalNR+n] = gemmEpilogue(acc, flags, R, m, pt[16+n], pt[32+n], pt[48+n], pt[64+n], H)
			}
		}
	}
}

// gemmPanelsGeneric is the pure-Go twin of gemmSDOT4P (mlal false) and gemmMLAL4P (mlal true).
func gemmPanelsGeneric(mlal bool, src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	var rs [4]int32
	for q := 0; q < npanels; q++ {
		var a, c [4]*int8
		for r := range a {
			a[r] = (*int8)(unsafe.Add(unsafe.Pointer(src), (4*q+r)*inC))
			c[r] = (*int8)(unsafe.Add(unsafe.Pointer(dst), (4*q+r)*n))
		}
		var sums *int32
		if flags&flagWZ != 0 {
			sums = &rs[0]
		}
		if mlal {
			packA4RGeneric(panel, &a[0], 1, kc, sums)
			gemmMLALGeneric(4, panel, kc, w, p, hdr, &rs[0], c[0], c[1], c[2], c[3], ntiles, flags)
		} else {
			packA4Generic(panel, &a[0], 1, kc, sums)
			gemmSDOTGeneric(4, panel, kc, w, p, hdr, &rs[0], c[0], c[1], c[2], c[3], ntiles, flags)
		}
	}
}

// a6Off is the offset in a k-chunk of gemmSDOT6P's panel (96 bytes) of the 4 bytes of k-group kg
// (k = 4kg..4kg+3 of the chunk) of row m: [kg0 rows 0-3][kg1 rows 0-3][row 4 kg0, kg1, row 5 kg0,
// kg1], then the same for kg2, kg3.
func a6Off(kg, m int) int {
	if m < 4 {
		return 48*(kg/2) + 16*(kg%2) + 4*m
	}
	return 48*(kg/2) + 32 + 4*(kg%2) + 8*(m-4)
}

// packA6Generic packs the kc k-chunks of the 6 rows at ptrs into panel (kc*96 bytes, a6Off).
func packA6Generic(panel *int8, ptrs *[6]*int8, kc int) {
	P := unsafe.Slice(panel, kc*96)
	for m, p := range ptrs {
		row := unsafe.Slice(p, kc*16)
		for c := 0; c < kc; c++ {
			for kg := 0; kg < 4; kg++ {
				copy(P[c*96+a6Off(kg, m):][:4], row[c*16+4*kg:])
			}
		}
	}
}

// gemmSDOT6PGeneric is the pure-Go twin of gemmSDOT6P: gemmPanelsGeneric for panels of 6 pixels,
// packed by packA6Generic and computed from that layout.
func gemmSDOT6PGeneric(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	A := unsafe.Slice(panel, kc*96)
	W := unsafe.Slice(w, ntiles*kc*256)
	P := unsafe.Slice(p, ntiles*sdotParams)
	H := unsafe.Slice(hdr, 3)
	wx := vnniXor(flags)
	for q := 0; q < npanels; q++ {
		var a [6]*int8
		for r := range a {
			a[r] = (*int8)(unsafe.Add(unsafe.Pointer(src), (6*q+r)*inC))
		}
		packA6Generic(panel, &a, kc)
		var rs [6]int32 // the row sums, for flags&flagWZ
		for m, p := range a {
			for _, x := range unsafe.Slice(p, kc*16) {
				rs[m] += int32(x)
			}
		}
		for m := 0; m < 6; m++ {
			out := unsafe.Slice((*int8)(unsafe.Add(unsafe.Pointer(dst), (6*q+m)*n)), ntiles*sdotNR)
			for j := 0; j < ntiles; j++ {
				pt := P[j*sdotParams : (j+1)*sdotParams]
				wt := W[j*kc*256 : (j+1)*kc*256]
				var acc [sdotNR]int32
				copy(acc[:], pt[:sdotNR])
				for c := 0; c < kc; c++ {
					for kg := 0; kg < 4; kg++ {
						a4 := A[c*96+a6Off(kg, m):][:4]
						wg := wt[c*256+kg*64 : c*256+kg*64+64]
						for n := range acc {
							for b := 0; b < 4; b++ {
								acc[n] += int32(a4[b]) * int32(wg[4*n+b]^wx)
							}
						}
					}
				}
				for n, v := range acc {
					out[j*sdotNR+n] = gemmEpilogue(v, flags, rs[:], m, pt[16+n], pt[32+n], pt[48+n], pt[64+n], H)
				}
			}
		}
	}
}

package kernels

import (
	"math"
	"unsafe"
)

// dwParams is the number of int32 parameters per 16-channel block: bias, mult (or the float32 scale
// with flagFP32), rsh, lsh.
const dwParams = 4 * 16

// dwdot flags: the clamps that cannot bind (ActMin = -128, ActMax = 127) are skipped; with dwWZ the
// blocks whose parameters' fourth slot starts with a word not 0 add the products with the vectors
// (-wz, -wz, -wz, 0) of the third slot (weight zero point).
const (
	dwNoMin = 1
	dwNoMax = 2
	dwWZ    = 4
)

// dw3x3Generic is the pure-Go twin of dw3x3.
func dw3x3Generic(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dwTwin(out, &[5]*int16{r0, r1, r2}, w, p, hdr, 3, n, cin, s, cout, flags, nb)
}

// dw3x3bGeneric is the pure-Go twin of dw3x3b: dw3x3Generic on int8 rows and weights, summed in int32.
func dw3x3bGeneric(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	dwTwin(out, &[5]*int8{r0, r1, r2}, w, p, hdr, 3, n, cin, s, cout, flags, nb)
}

// dwTwin is the loop of the depthwise Go twins (dw3x3, dw3x3b, dw5x5): for nb blocks b of 16
// channels and n output pixels x, from k input rows (rows[:k]) and k·k taps t,
//
//	acc = bias + Σ_t rows[t/k][(s·x + t%k)·cin + 16b + ch] · w[(k·k·b + t)·16 + ch]   (int32)
//	out[x·cout + 16b + ch] = the GEMM twins' epilogue (gemmEpilogue) of acc
//
// with the block's parameters p[dwParams·b:] (bias, mult or the fp32 scale's bits, rsh, lsh; no
// weight zero point: it is folded into the weights).
func dwTwin[T int8 | int16](out *int8, rows *[5]*T, w *T, p *int32, hdr *int32, k, n, cin, s, cout, flags, nb int) {
	span := ((n-1)*s+k-1)*cin + 16*nb
	var R [5][]T
	for ky := range k {
		R[ky] = unsafe.Slice(rows[ky], span)
	}
	taps := k * k
	W := unsafe.Slice(w, nb*taps*16)
	P := unsafe.Slice(p, nb*dwParams)
	H := unsafe.Slice(hdr, 3)
	O := unsafe.Slice(out, (n-1)*cout+16*nb)
	flags &= flagFP32 | flagLSH // what the epilogue reads: the depthwise flags have no flagWZ
	for b := 0; b < nb; b++ {
		wb, pb := W[b*taps*16:(b+1)*taps*16], P[b*dwParams:(b+1)*dwParams]
		for x := 0; x < n; x++ {
			var acc [16]int32
			copy(acc[:], pb[:16]) // the bias
			for t := 0; t < taps; t++ {
				o := (s*x+t%k)*cin + 16*b
				in, wt := R[t/k][o:o+16], wb[t*16:t*16+16]
				for ch := range acc {
					acc[ch] += int32(in[ch]) * int32(wt[ch])
				}
			}
			for ch, v := range acc {
				O[x*cout+16*b+ch] = gemmEpilogue(v, flags, nil, 0, pb[16+ch], pb[32+ch], pb[48+ch], 0, H)
			}
		}
	}
}

// widen16Generic is the pure-Go twin of widen16.
func widen16Generic(dst *int16, src *int8, n int) {
	D, S := unsafe.Slice(dst, 16*n), unsafe.Slice(src, 16*n)
	for i, v := range S {
		D[i] = int16(v)
	}
}

// dwdotGeneric is the pure-Go twin of dwdot.
func dwdotGeneric(out *int8, r0, r1, r2 *int8, w *int8, p *int32, hdr *int32, n int, cout int, flags int, nb int) {
	rows := [3][]int8{unsafe.Slice(r0, 64*n*nb), unsafe.Slice(r1, 64*n*nb), unsafe.Slice(r2, 64*n*nb)}
	W := unsafe.Slice(w, 192*nb)
	P := unsafe.Slice(p, dwParams*nb)
	H := unsafe.Slice(hdr, 3)
	lo, hi := H[1], H[2]
	if flags&dwNoMin != 0 {
		lo = -128
	}
	if flags&dwNoMax != 0 {
		hi = 127
	}
	O := unsafe.Slice(out, (n-1)*cout+16*nb)
	for b := 0; b < nb; b++ {
		for x := 0; x < n; x++ {
			for ch := 0; ch < 16; ch++ {
				acc := P[dwParams*b+ch]
				wzv := uint32(P[dwParams*b+32+ch]) // 4 int8: (-wz, -wz, -wz, 0) with dwWZ
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 4; kx++ {
						a := int32(rows[ky][64*(n*b+x)+4*ch+kx])
						acc += a * int32(W[192*b+64*ky+4*ch+kx])
						if flags&dwWZ != 0 && P[dwParams*b+48] != 0 {
							acc += a * int32(int8(wzv>>(8*kx)))
						}
					}
				}
				scale := math.Float32frombits(uint32(P[dwParams*b+16+ch]))
				O[x*cout+16*b+ch] = requantFP32(acc, scale, H[0], lo, hi)
			}
		}
	}
}

// dwdot2Generic is the pure-Go twin of dwdot2.
func dwdot2Generic(out *int8, r0, r1, r2, r3 *int8, w *int8, p *int32, hdr *int32, n int, cout int, ostride int, flags int, nb int) {
	dwdotGeneric(out, r0, r1, r2, w, p, hdr, n, cout, flags, nb)
	dwdotGeneric((*int8)(unsafe.Add(unsafe.Pointer(out), ostride)), r1, r2, r3, w, p, hdr, n, cout, flags, nb)
}

// dwprepGeneric is the pure-Go twin of dwprep.
func dwprepGeneric(dst *int8, src *int8, n int, cin int, s int, nb int, bstride int) {
	D := unsafe.Slice(dst, bstride*(nb-1)+64*n)
	S := unsafe.Slice(src, (s*(n-1)+3)*cin+16*nb)
	for b := 0; b < nb; b++ {
		for x := 0; x < n; x++ {
			for ch := 0; ch < 16; ch++ {
				for kx := 0; kx < 4; kx++ {
					D[bstride*b+64*x+4*ch+kx] = S[(s*x+kx)*cin+16*b+ch]
				}
			}
		}
	}
}

// dwprep4Generic is the pure-Go twin of dwprep4.
func dwprep4Generic(dst *int8, p *[4]*int8, nb int, bstride int) {
	D := unsafe.Slice(dst, bstride*(nb-1)+64)
	for kx, q := range p {
		S := unsafe.Slice(q, 16*nb)
		for b := 0; b < nb; b++ {
			for ch := 0; ch < 16; ch++ {
				D[bstride*b+4*ch+kx] = S[16*b+ch]
			}
		}
	}
}

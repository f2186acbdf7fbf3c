package kernels

import (
	"math"
	"unsafe"
)

// dwParams is the number of int32 parameters per 16-channel block: bias, mult (or the float32 scale
// with flagFP32), rsh, lsh.
const dwParams = 4 * 16

// dw3x3Generic is the pure-Go twin of dw3x3.
func dw3x3Generic(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	for b := 0; b < nb; b++ {
		dw3x3Block((*int8)(unsafe.Add(unsafe.Pointer(out), 16*b)), (*int16)(unsafe.Add(unsafe.Pointer(r0), 32*b)),
			(*int16)(unsafe.Add(unsafe.Pointer(r1), 32*b)), (*int16)(unsafe.Add(unsafe.Pointer(r2), 32*b)),
			(*int16)(unsafe.Add(unsafe.Pointer(w), 2*9*16*b)), (*int32)(unsafe.Add(unsafe.Pointer(p), 4*dwParams*b)),
			hdr, n, cin, s, cout, flags)
	}
}

// dw3x3Block is dw3x3Generic for one block.
func dw3x3Block(out *int8, r0, r1, r2 *int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int) {
	span := ((n-1)*s+2)*cin + 16
	rows := [3][]int16{unsafe.Slice(r0, span), unsafe.Slice(r1, span), unsafe.Slice(r2, span)}
	W := unsafe.Slice(w, 9*16)
	P := unsafe.Slice(p, dwParams)
	H := unsafe.Slice(hdr, 3)
	O := unsafe.Slice(out, (n-1)*cout+16)
	for x := 0; x < n; x++ {
		var acc [16]int32
		copy(acc[:], P[:16]) // the bias
		for t := 0; t < 9; t++ {
			in := rows[t/3][(s*x+t%3)*cin : (s*x+t%3)*cin+16]
			wt := W[t*16 : t*16+16]
			for ch := range acc {
				acc[ch] += int32(in[ch]) * int32(wt[ch])
			}
		}
		for ch, v := range acc {
			if flags&flagFP32 != 0 {
				O[x*cout+ch] = requantFP32(v, math.Float32frombits(uint32(P[16+ch])), H[0], H[1], H[2])
				continue
			}
			lsh := 0
			if flags&flagLSH != 0 {
				lsh = int(P[48+ch])
			}
			O[x*cout+ch] = requant(v, P[16+ch], lsh, int(-P[32+ch]), H[0], H[1], H[2])
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

package kernels

import (
	"math"
	"unsafe"
)

// dw5x5Generic is the pure-Go twin of dw5x5.
func dw5x5Generic(out *int8, rows *[5]*int16, w *int16, p *int32, hdr *int32, n int, cin int, s int, cout int, flags int, nb int) {
	span := ((n-1)*s+4)*cin + 16*nb
	var R [5][]int16
	for ky, r := range rows {
		R[ky] = unsafe.Slice(r, span)
	}
	W := unsafe.Slice(w, nb*25*16)
	P := unsafe.Slice(p, nb*dwParams)
	H := unsafe.Slice(hdr, 3)
	O := unsafe.Slice(out, (n-1)*cout+16*nb)
	for b := 0; b < nb; b++ {
		wb, pb := W[b*25*16:(b+1)*25*16], P[b*dwParams:(b+1)*dwParams]
		for x := 0; x < n; x++ {
			var acc [16]int32
			copy(acc[:], pb[:16]) // the bias
			for t := 0; t < 25; t++ {
				o := (s*x+t%5)*cin + 16*b
				in, wt := R[t/5][o:o+16], wb[t*16:t*16+16]
				for ch := range acc {
					acc[ch] += int32(in[ch]) * int32(wt[ch])
				}
			}
			for ch, v := range acc {
				o := x*cout + 16*b + ch
				if flags&flagFP32 != 0 {
					O[o] = requantFP32(v, math.Float32frombits(uint32(pb[16+ch])), H[0], H[1], H[2])
					continue
				}
				lsh := 0
				if flags&flagLSH != 0 {
					lsh = int(pb[48+ch])
				}
				O[o] = requant(v, pb[16+ch], lsh, int(-pb[32+ch]), H[0], H[1], H[2])
			}
		}
	}
}

package kernels

import "unsafe"

// packA4Generic is the pure-Go twin of packA4.
func packA4Generic(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32) {
	D := unsafe.Slice(dst, ntaps*kc*64)
	P := unsafe.Slice(ptrs, 4*ntaps)
	var s [4]int32
	for t := 0; t < ntaps; t++ {
		for r := 0; r < 4; r++ {
			src := unsafe.Slice(P[4*t+r], kc*16)
			for c := 0; c < kc; c++ {
				chunk := src[16*c : 16*c+16]
				copy(D[((t*kc+c)*4+r)*16:], chunk)
				for _, v := range chunk {
					s[r] += int32(v)
				}
			}
		}
	}
	if sums != nil {
		copy(unsafe.Slice(sums, 4), s[:])
	}
}

// packA4RGeneric is the pure-Go twin of packA4R.
func packA4RGeneric(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32) {
	D := unsafe.Slice(dst, ntaps*kc*256)
	P := unsafe.Slice(ptrs, 4*ntaps)
	var s [4]int32
	for t := 0; t < ntaps; t++ {
		for r := 0; r < 4; r++ {
			src := unsafe.Slice(P[4*t+r], kc*16)
			for c := 0; c < kc; c++ {
				chunk := src[16*c : 16*c+16]
				for q := 0; q < 4; q++ {
					for i := range 16 {
						D[(((t*kc+c)*4+q)*4+r)*16+i] = chunk[(i+2*q)%16]
					}
				}
				for _, v := range chunk {
					s[r] += int32(v)
				}
			}
		}
	}
	if sums != nil {
		copy(unsafe.Slice(sums, 4), s[:])
	}
}

// gatherA4Generic is the pure-Go twin of gatherA4.
func gatherA4Generic(dst *int8, ptrs **int8, idx *byte, kc int) {
	D, P, I := unsafe.Slice(dst, 64*kc), unsafe.Slice(ptrs, 16), unsafe.Slice(idx, 16*kc)
	for r := 0; r < 4; r++ {
		for i, b := range I {
			D[16*kc*r+i] = 0
			if b < 64 {
				D[16*kc*r+i] = unsafe.Slice(P[4*r+int(b/16)], 16)[b%16]
			}
		}
	}
}

// gatherRunGeneric is the pure-Go twin of gatherRun.
func gatherRunGeneric(dst *int8, p *[4]*int8, steps *[4]int, idx *byte, kc int, npix int) {
	D, I := unsafe.Slice(dst, 16*kc*npix), unsafe.Slice(idx, 16*kc)
	for j := 0; j < npix; j++ {
		for i, b := range I {
			D[16*kc*j+i] = 0
			if b < 64 {
				D[16*kc*j+i] = *(*int8)(unsafe.Add(unsafe.Pointer(p[b/16]), j*steps[b/16]+int(b%16)))
			}
		}
	}
}

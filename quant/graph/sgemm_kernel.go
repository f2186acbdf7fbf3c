package graph

// sgemmKernel sets tile (gemmMR rows of gemmNR) to the product of an A panel (kc steps of gemmMR
// values) and a B panel (kc steps of gemmNR values): tile[i*gemmNR+j] = Σ_k a[k*gemmMR+i]·b[k*gemmNR+j],
// k increasing. It runs the assembly kernel when the CPU has one (sgemm_amd64.go), else
// sgemmKernelGo.
func sgemmKernel(kc int, a, b []float32, tile *[gemmMR * gemmNR]float32) {
	a, b = a[:kc*gemmMR], b[:kc*gemmNR] // the bounds the assembly relies on
	if useFloatAsm && kc > 0 {
		sgemmKernelAsm(kc, &a[0], &b[0], tile)
		return
	}
	sgemmKernelGo(kc, a, b, tile)
}

// sgemmKernelGo is the pure-Go micro-kernel, the reference the assembly is tested against. It
// works on two rows of the tile at a time, 32 accumulators the compiler keeps in registers where
// it can.
func sgemmKernelGo(kc int, a, b []float32, tile *[gemmMR * gemmNR]float32) {
	a, b = a[:kc*gemmMR], b[:kc*gemmNR]
	for i := 0; i < gemmMR; i += 2 {
		var r0, r1 [gemmNR]float32
		for k := range kc {
			a0, a1 := a[k*gemmMR+i], a[k*gemmMR+i+1]
			bk := (*[gemmNR]float32)(b[k*gemmNR:])
			for j, v := range bk {
				r0[j] += a0 * v
				r1[j] += a1 * v
			}
		}
		copy(tile[i*gemmNR:], r0[:])
		copy(tile[(i+1)*gemmNR:], r1[:])
	}
}

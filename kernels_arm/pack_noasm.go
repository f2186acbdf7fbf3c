//go:build !(arm64 || amd64) || !gc || purego

package kernels

func packA4(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32) {
	packA4Generic(dst, ptrs, ntaps, kc, sums)
}

func packA4R(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32) {
	packA4RGeneric(dst, ptrs, ntaps, kc, sums)
}

func gatherA4(dst *int8, ptrs **int8, idx *byte, kc int) { gatherA4Generic(dst, ptrs, idx, kc) }

func gatherRun(dst *int8, p *[4]*int8, steps *[4]int, idx *byte, kc int, npix int) {
	gatherRunGeneric(dst, p, steps, idx, kc, npix)
}

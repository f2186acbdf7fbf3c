//go:build amd64 && gc && !purego

package kernels

// packA4 has pack_arm64.go's contract (and reference loop): 16-byte moves, and the row sums by
// VPSADBW of the bytes offset by 128.
//
//go:noescape
func packA4(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32)

// The SMLAL panels and the TBL gathers have no amd64 form: their names call the twins.

func packA4R(dst *int8, ptrs **int8, ntaps int, kc int, sums *int32) {
	packA4RGeneric(dst, ptrs, ntaps, kc, sums)
}

func gatherA4(dst *int8, ptrs **int8, idx *byte, kc int) { gatherA4Generic(dst, ptrs, idx, kc) }

func gatherRun(dst *int8, p *[4]*int8, steps *[4]int, idx *byte, kc int, npix int) {
	gatherRunGeneric(dst, p, steps, idx, kc, npix)
}

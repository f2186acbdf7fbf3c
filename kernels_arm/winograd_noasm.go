//go:build !arm64 || !gc || purego

package kernels

func wgGEMM(v, u *int16, m *int32, ngroups, icg, nob, mstride int) {
	wgGEMMGeneric(v, u, m, ngroups, icg, nob, mstride)
}

func wgInput(ptrs *[16]*int8, v *int16, xs, icg int) { wgInputGeneric(ptrs, v, xs, icg) }

func wgOutput(m, p *int32, hdr *int32, dst *[4]*int8, n4 int) {
	wgOutputGeneric(m, p, hdr, dst, n4)
}

func wgGEMM1(v, u *int16, m *int32, icg, nob int) { wgGEMM1Generic(v, u, m, icg, nob) }

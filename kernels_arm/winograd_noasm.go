//go:build !arm64 || !gc || purego

package kernels

func wgGEMM(v, u *int16, m *int32, ngroups, icg, nob, mstride int) {
	wgGEMMGeneric(v, u, m, ngroups, icg, nob, mstride)
}

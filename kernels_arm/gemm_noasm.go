//go:build !(arm64 || amd64) || !gc || purego

package kernels

func gemmSDOT4(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	gemmSDOTGeneric(4, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
}

func gemmSDOT1(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	gemmSDOTGeneric(1, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
}

func gemmMLAL4(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	gemmMLALGeneric(4, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
}

func gemmMLAL1(a *int8, kc int, w *int8, p *int32, hdr *int32, rs *int32, c0, c1, c2, c3 *int8, ntiles int, flags int) {
	gemmMLALGeneric(1, a, kc, w, p, hdr, rs, c0, c1, c2, c3, ntiles, flags)
}

func gemmSDOT4P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	gemmPanelsGeneric(false, src, inC, dst, n, npanels, panel, kc, w, p, hdr, ntiles, flags)
}

func gemmMLAL4P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	gemmPanelsGeneric(true, src, inC, dst, n, npanels, panel, kc, w, p, hdr, ntiles, flags)
}

func gemmSDOT6P(src *int8, inC int, dst *int8, n int, npanels int, panel *int8, kc int, w *int8, p *int32, hdr *int32, ntiles int, flags int) {
	gemmSDOT6PGeneric(src, inC, dst, n, npanels, panel, kc, w, p, hdr, ntiles, flags)
}

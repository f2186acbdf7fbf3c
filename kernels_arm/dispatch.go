package kernels

// useSDOT and useNEON choose the instruction path of the layers prepared after they are set. init
// sets them from golang.org/x/sys/cpu on arm64 (cpu_arm64.go) and useSDOT on amd64 with AVX2
// (cpu_amd64.go, the same packed layouts computed with VPMADDWD); both are false elsewhere. Tests
// flip them to run every path on one machine.
var useSDOT, useNEON bool

// useVNNI selects, on amd64's sdot path, the AVX-512 VNNI loop (VPDPBUSD) of the GEMM kernel for the
// layers prepared after it is set (flagVNNI); init sets it from golang.org/x/sys/cpu.
var useVNNI bool

// path is the instruction path a layer was prepared for.
type path uint8

const (
	pathGeneric path = iota // the pure-Go twins
	pathNEON                // SMULL/SMLAL2 + SADALP (ASIMD, Cortex-A72/A53)
	pathSDOT                // SDOT (ASIMDDP, Cortex-A76/A55); on amd64 the same layouts with AVX2
)

func (p path) String() string {
	switch p {
	case pathSDOT:
		return dotName
	case pathNEON:
		return "neon"
	}
	return "generic"
}

func currentPath() path {
	switch {
	case useSDOT && haveAsm:
		return pathSDOT
	case useNEON && haveAsm:
		return pathNEON
	}
	return pathGeneric
}

// Path names the kernel path that layers prepared now will use: "sdot", "neon" (SMULL/SMLAL),
// "avx2" (amd64) or "generic" (pure Go).
func Path() string { return currentPath().String() }

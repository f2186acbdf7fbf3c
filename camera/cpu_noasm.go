//go:build !arm64 || !gc || purego

package camera

// haveAsm reports whether the NEON preprocessing kernels are built.
const haveAsm = false

// useNEON is never set without the assembly.
var useNEON = false

//go:build !arm64 || !gc || purego

package kernels

// haveAsm reports whether the assembly kernels are built.
const haveAsm = false

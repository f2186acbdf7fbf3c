//go:build !(arm64 || amd64) || !gc || purego

package kernels

// haveAsm reports whether the assembly kernels are built.
const haveAsm = false

// dotName names pathSDOT (never chosen without assembly).
const dotName = "sdot"

// haveDWDot reports whether the depthwise SDOT form (dwdot) has a kernel here.
const haveDWDot = true

//go:build !(arm64 || amd64) || !gc || purego

package kernels

// haveAsm reports whether the assembly kernels are built.
const haveAsm = false

// dotName names pathSDOT (never chosen without assembly).
const dotName = "sdot"

// haveDWDot reports whether the depthwise SDOT form (dwdot) has a kernel here.
const haveDWDot = true

// haveDW3x3b reports whether dw3x3b (int8 pairs summed in int16) has a kernel here (its Go twin).
const haveDW3x3b = true

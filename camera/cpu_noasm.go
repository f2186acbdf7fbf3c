//go:build !arm64 || !gc || purego

package camera

// useNEON is never set without the assembly.
var useNEON = false

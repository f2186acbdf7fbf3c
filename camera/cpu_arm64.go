//go:build arm64 && gc && !purego

package camera

import "golang.org/x/sys/cpu"

// useNEON selects the NEON kernels; tests clear it to run the Go twins on the same machine.
var useNEON = cpu.ARM64.HasASIMD

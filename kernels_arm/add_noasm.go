//go:build !(arm64 || amd64) || !gc || purego

package kernels

func addInt8(dst, a, b *int8, n int, p *int32) { addInt8Generic(dst, a, b, n, p) }

func addXNNPACK(dst, a, b *int8, n int, p *int32) { addXNNPACKGeneric(dst, a, b, n, p) }

package kernels

// Lookup sets dst[i] = table[src[i]] for every i < len(src): the 8-bit activations that TensorFlow
// Lite computes as tables (Logistic, HardSwish, ...) and 8-bit requantization. Whole blocks of 16
// bytes run in assembly (one TBL and three TBX per block), the tail in Go. It does not allocate; it
// panics if dst is shorter than src.
func Lookup(dst, src []byte, table *[256]byte) {
	dst = dst[:len(src)]
	n := len(src) / 16
	if n > 0 {
		if currentPath() == pathGeneric {
			lut16Generic(&dst[0], &src[0], table, n)
		} else {
			lut16(&dst[0], &src[0], table, n)
		}
	}
	for i := 16 * n; i < len(src); i++ {
		dst[i] = table[src[i]]
	}
}

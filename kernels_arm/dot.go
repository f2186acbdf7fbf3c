package kernels

// DotRows sets dst[j] = Σ_{i<k} a[i]*b[j*k+i] for j < n: the raw int8 dot products of one row a of k
// elements with the n rows of b (row-major, k elements each), as a matrix product A·Bᵀ needs them
// (BatchMatMul of two activations). Groups of four rows and whole chunks of 16 elements run in
// assembly (dotRows4: SMULL/SMULL2 + SADALP, exact for every int8), the rest in Go. It does not
// allocate; it panics if a slice is too short.
func DotRows(dst []int32, a, b []int8, n, k int) {
	dst, a, b = dst[:n], a[:k], b[:n*k]
	kc, n4 := k/16, n/4
	j := 0
	if kc > 0 && n4 > 0 {
		if currentPath() == pathGeneric {
			dotRows4Generic(&dst[0], &a[0], &b[0], kc, n4, k)
		} else {
			dotRows4(&dst[0], &a[0], &b[0], kc, n4, k)
		}
		j = 4 * n4
		if k > 16*kc { // the elements past the whole chunks
			for r := range j {
				dst[r] += dotInt8(a[16*kc:], b[r*k+16*kc:(r+1)*k])
			}
		}
	}
	for ; j < n; j++ {
		dst[j] = dotInt8(a, b[j*k:(j+1)*k])
	}
}

// dotInt8 is Σ x[i]*y[i] over len(x) elements.
func dotInt8(x, y []int8) int32 {
	y = y[:len(x)]
	var s int32
	for i, v := range x {
		s += int32(v) * int32(y[i])
	}
	return s
}

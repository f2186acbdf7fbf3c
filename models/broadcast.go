package models

// BroadcastShape is NumPy's broadcast of shapes a and b (the shapes aligned at their last
// dimension, each dimension equal or 1 in one of them), or ok false when they do not broadcast:
// the output shape of Mul, and of the other elementwise ops with broadcasting.
func BroadcastShape(a, b []int) (out []int, ok bool) {
	r := max(len(a), len(b))
	out = make([]int, r)
	for i := range r {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

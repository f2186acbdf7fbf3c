package kernels

import (
	"fmt"
	"testing"
)

// TestDotRows compares DotRows on every path with the sums in Go: row counts 0-21 (groups of four
// and leftovers), lengths 0-100 (whole chunks of 16 and tails), all -128 operands (the products
// that overflow int16 when paired).
func TestDotRows(t *testing.T) {
	r := newRand(60)
	for i := 0; i < scale(t, 300); i++ {
		n, k := r.IntN(22), r.IntN(101)
		a, b := randInt8s(r, k), randInt8s(r, n*k)
		if r.IntN(4) == 0 {
			for j := range a {
				a[j] = -128
			}
			for j := range b {
				b[j] = -128
			}
		}
		want := make([]int32, n)
		for j := range want {
			for x := range k {
				want[j] += int32(a[x]) * int32(b[j*k+x])
			}
		}
		for _, pth := range testPaths() {
			got := make([]int32, n+1)
			got[n] = 12345
			withPath(pth, func() { DotRows(got, a, b, n, k) })
			if got[n] != 12345 {
				t.Fatalf("n %d k %d path %v: wrote past n", n, k, pth)
			}
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("n %d k %d path %v: row %d: %d, want %d", n, k, pth, j, got[j], want[j])
				}
			}
		}
	}
	a, b, dst := make([]int8, 64), make([]int8, 64*64), make([]int32, 64)
	for _, pth := range testPaths() {
		withPath(pth, func() {
			if x := testing.AllocsPerRun(10, func() { DotRows(dst, a, b, 63, 63) }); x != 0 {
				t.Errorf("path %v: DotRows allocates %v times", pth, x)
			}
		})
	}
}

// TestDotRows4Kernel compares dotRows4 with its twin, rows bstride >= 16*kc apart.
func TestDotRows4Kernel(t *testing.T) {
	needAsm(t)
	needNEON(t) // on amd64 the name calls its twin
	r := newRand(61)
	for i := 0; i < scale(t, 200); i++ {
		kc, n4 := 1+r.IntN(8), 1+r.IntN(6)
		bstride := 16*kc + r.IntN(20)
		a, b := randInt8s(r, 16*kc), randInt8s(r, (4*n4-1)*bstride+16*kc)
		if r.IntN(4) == 0 {
			for j := range a {
				a[j] = -128
			}
			for j := range b {
				b[j] = -128
			}
		}
		got, want := make([]int32, 4*n4), make([]int32, 4*n4)
		dotRows4(&got[0], &a[0], &b[0], kc, n4, bstride)
		dotRows4Generic(&want[0], &a[0], &b[0], kc, n4, bstride)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("%s: row %d: %d, want %d", fmt.Sprintf("kc %d n4 %d bstride %d", kc, n4, bstride), j, got[j], want[j])
			}
		}
	}
}

package kernels

import (
	"fmt"
	"testing"
	"unsafe"
)

// bytesOf views an int8 buffer as bytes.
func bytesOf(s []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// TestLookup compares Lookup on every path with the table read in Go: lengths 0-200 (whole blocks,
// pairs of blocks and tails), unaligned buffers with guard bands, random tables and every byte value.
func TestLookup(t *testing.T) {
	r := newRand(30)
	for i := 0; i < scale(t, 400); i++ {
		var table [256]byte
		for j := range table {
			table[j] = byte(r.Uint32())
		}
		n := r.IntN(201)
		if i < 16 {
			n = 256 // every index, in order
		}
		src := newGuarded(r, n)
		for j := range src.data() {
			src.data()[j] = int8(r.Uint32())
			if i < 16 {
				src.data()[j] = int8(j + i)
			}
		}
		want := make([]byte, n)
		for j, b := range bytesOf(src.data()) {
			want[j] = table[b]
		}
		for _, pth := range testPaths() {
			dst := newGuarded(r, n)
			withPath(pth, func() { Lookup(bytesOf(dst.data()), bytesOf(src.data()), &table) })
			dst.check(t, "lookup dst")
			src.check(t, "lookup src")
			diffInt8(t, fmt.Sprintf("case %d n %d path %v", i, n, pth), dst.data(), *(*[]int8)(unsafe.Pointer(&want)))
		}
	}
}

// TestLut16Kernel compares lut16 with its twin on odd block counts.
func TestLut16Kernel(t *testing.T) {
	needAsm(t)
	needNEON(t) // on amd64 the name calls its twin
	r := newRand(31)
	for i := 0; i < scale(t, 200); i++ {
		var table [256]byte
		for j := range table {
			table[j] = byte(r.Uint32())
		}
		n := 1 + r.IntN(20)
		src := bytesOf(randInt8s(r, 16*n))
		got, want := newGuarded(r, 16*n), make([]int8, 16*n)
		lut16(&bytesOf(got.data())[0], &src[0], &table, n)
		lut16Generic(&bytesOf(want)[0], &src[0], &table, n)
		got.check(t, "lut16")
		diffInt8(t, fmt.Sprintf("lut16 n %d", n), got.data(), want)
	}
}

func TestLookupNoAlloc(t *testing.T) {
	var table [256]byte
	src, dst := make([]byte, 1000), make([]byte, 1000)
	for _, pth := range testPaths() {
		withPath(pth, func() {
			if n := testing.AllocsPerRun(10, func() { Lookup(dst, src, &table) }); n != 0 {
				t.Errorf("path %v: Lookup allocates %v times", pth, n)
			}
		})
	}
}

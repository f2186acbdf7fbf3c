package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kernels runs f once with each micro-kernel this machine has: the Go twin, and the AVX2/FMA
// assembly where the CPU runs it.
func kernels(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(v bool) { useFloatAsm = v }(useFloatAsm)
	useFloatAsm = false
	t.Run("go", f)
	if !floatAsmOK {
		t.Log("no AVX2/FMA assembly kernel on this CPU or platform: only the Go kernel ran")
		return
	}
	useFloatAsm = true
	t.Run("asm", f)
}

func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// within checks got against the float64 reference want, whose terms had absolute sum abs, with the
// bound of a float32 sum of k products, fused or not: (k+2)·2^-23·Σ|a·b| (Higham's γ_k with room).
func within(got float32, want, abs float64, k int) bool {
	return math.Abs(float64(got)-want) <= float64(k+2)*0x1p-23*abs
}

// TestSgemmKernel: the micro-kernel over depths from 1 to past a block, operands at offsets 0–7 with
// guard values after them, against a float64 reference; the assembly and Go kernels agree within
// the same bound (they differ only in the fused multiply-add's single rounding).
func TestSgemmKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, kc := range []int{1, 2, 3, 7, 16, 31, 255, 256, 300} {
		for off := range 8 {
			a := randFloats(r, off+kc*gemmMR+8)
			b := randFloats(r, off+kc*gemmNR+8)
			ap, bp := a[off:off+kc*gemmMR], b[off:off+kc*gemmNR]
			var goTile, asmTile [gemmMR * gemmNR]float32
			sgemmKernelGo(kc, ap, bp, &goTile)
			if floatAsmOK {
				sgemmKernelAsm(kc, &ap[0], &bp[0], &asmTile)
			}
			for i := range gemmMR {
				for j := range gemmNR {
					var want, abs float64
					for k := range kc {
						p := float64(ap[k*gemmMR+i]) * float64(bp[k*gemmNR+j])
						want += p
						abs += math.Abs(p)
					}
					if g := goTile[i*gemmNR+j]; !within(g, want, abs, kc) {
						t.Fatalf("kc %d off %d: Go tile[%d][%d] = %v, want %v", kc, off, i, j, g, want)
					}
					if g := asmTile[i*gemmNR+j]; floatAsmOK && !within(g, want, abs, kc) {
						t.Fatalf("kc %d off %d: asm tile[%d][%d] = %v, want %v (Go %v)", kc, off, i, j, g, want, goTile[i*gemmNR+j])
					}
				}
			}
		}
	}
}

// refGemm is C = A·B in float64, with Σ|a·b| per element.
func refGemm(m, n, k int, a, b mat) (c, abs []float64) {
	c, abs = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			for p := range k {
				v := float64(a.data[i*a.rs+p*a.cs]) * float64(b.data[p*b.rs+j*b.cs])
				c[i*n+j] += v
				abs[i*n+j] += math.Abs(v)
			}
		}
	}
	return c, abs
}

// TestSgemm: the blocked driver on edge sizes around the tile (6, 16) and block (72, 256, 512)
// boundaries, every operand plain or transposed, against a float64 reference; and a prepacked
// operand (packAll) gives bit for bit what packing on the fly gives.
func TestSgemm(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(2, 2))
		shapes := [][3]int{{1, 1, 1}, {1, 10, 1280}, {5, 17, 3}, {6, 16, 256}, {7, 15, 257}, {13, 33, 100},
			{73, 4, 300}, {4, 200, 520}, {192, 4, 1728}, {16, 520, 9}, {71, 513, 2}, {0, 3, 4}, {3, 4, 0}}
		s := new(gemmScratch)
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for layout := range 8 {
				a := mat{randFloats(r, m*k), k, 1}
				if layout&1 != 0 {
					a = mat{a.data, 1, m}
				}
				b := mat{randFloats(r, k*n), n, 1}
				if layout&2 != 0 {
					b = mat{b.data, 1, k}
				}
				c := mat{make([]float32, m*n), n, 1}
				if layout&4 != 0 {
					c = mat{c.data, 1, m}
				}
				for i := range c.data {
					c.data[i] = float32(math.NaN()) // every element must be written
				}
				name := fmt.Sprintf("%dx%dx%d layout %d", m, n, k, layout)
				sgemm(m, n, k, a, b, c, s)
				want, abs := refGemm(m, n, k, a, b)
				for i := range m {
					for j := range n {
						if g := c.data[i*c.rs+j*c.cs]; !within(g, want[i*n+j], abs[i*n+j], k) {
							t.Fatalf("%s: C[%d][%d] = %v, want %v", name, i, j, g, want[i*n+j])
						}
					}
				}
				if m == 0 || n == 0 || k == 0 {
					continue
				}
				// The same product with A, then B, packed in advance.
				for _, preA := range []bool{true, false} {
					c2 := mat{make([]float32, m*n), c.rs, c.cs}
					if preA {
						sgemmPacked(m, n, k, a, b, c2, packAll(a, m, k, true), nil, s)
					} else {
						sgemmPacked(m, n, k, a, b, c2, nil, packAll(b, k, n, false), s)
					}
					c3 := mat{make([]float32, m*n), c.rs, c.cs}
					sgemmPacked(m, n, k, a, b, c3, nil, nil, s)
					for i, v := range c3.data {
						if c2.data[i] != v {
							t.Fatalf("%s: prepacked A %v: element %d = %v, packed on the fly %v", name, preA, i, c2.data[i], v)
						}
					}
				}
			}
		}
	})
}

// FuzzSgemmKernel compares the assembly micro-kernel with the Go twin on fuzzed depths and values.
func FuzzSgemmKernel(f *testing.F) {
	f.Add(uint16(1), uint64(1))
	f.Add(uint16(257), uint64(7))
	f.Fuzz(func(t *testing.T, kc16 uint16, seed uint64) {
		if !floatAsmOK {
			t.Skip("no assembly kernel on this CPU or platform")
		}
		kc := int(kc16%600) + 1
		r := rand.New(rand.NewPCG(seed, 3))
		a, b := randFloats(r, kc*gemmMR), randFloats(r, kc*gemmNR)
		var g, s [gemmMR * gemmNR]float32
		sgemmKernelGo(kc, a, b, &g)
		sgemmKernelAsm(kc, &a[0], &b[0], &s)
		for i := range gemmMR {
			for j := range gemmNR {
				var abs float64
				for k := range kc {
					abs += math.Abs(float64(a[k*gemmMR+i]) * float64(b[k*gemmNR+j]))
				}
				if math.Abs(float64(g[i*gemmNR+j]-s[i*gemmNR+j])) > 2*float64(kc+2)*0x1p-23*abs {
					t.Fatalf("kc %d: [%d][%d] Go %v, asm %v", kc, i, j, g[i*gemmNR+j], s[i*gemmNR+j])
				}
			}
		}
	})
}

// TestGemmPacked: Gemm with transB keeps its weights packed (in the orientation of each shape) and
// gives bit for bit sgemm's product of the unpacked operands, on rows 1 to 17 (both orientations)
// and depths across a block, run twice (the second time from the kept pack) and after the weights
// are replaced.
func TestGemmPacked(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 1))
		for _, sh := range [][2]int{{10, 40}, {37, 300}, {100, 513}} {
			N, K := sh[0], sh[1]
			node := &Node{Op: "Gemm", Attrs: map[string]Attr{"transB": Int(1)}}
			for round := range 3 {
				w := &Tensor{Shape: []int{N, K}, Data: randFloats(r, N*K)}
				c := &Tensor{Shape: []int{N}, Data: randFloats(r, N)}
				for _, M := range []int{1, 5, 16, 17} {
					a := &Tensor{Shape: []int{M, K}, Data: randFloats(r, M*K)}
					for rep := range 2 {
						outs, err := runNode(node, []*Tensor{a, w, c})
						if err != nil {
							t.Fatal(err)
						}
						want := make([]float32, M*N)
						sgemm(M, N, K, mat{a.Data, K, 1}, mat{w.Data, K, 1}.t(), mat{want, N, 1}, new(gemmScratch))
						for i := range want {
							want[i] += c.Data[i%N]
						}
						for i, v := range outs[0].Data {
							if math.Float32bits(v) != math.Float32bits(want[i]) {
								t.Fatalf("N %d K %d M %d round %d rep %d: out[%d] = %v, want %v", N, K, M, round, rep, i, v, want[i])
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkGemmClassifier: MobileNetV2 1.0's classifier (1280 → 1000, one image) as Gemm runs it
// with its weights kept packed, beside sgemm packing them on every call (as Gemm did before).
func BenchmarkGemmClassifier(b *testing.B) {
	const M, N, K = 1, 1000, 1280
	r := rand.New(rand.NewPCG(1, 1))
	a := &Tensor{Shape: []int{M, K}, Data: randFloats(r, M*K)}
	w := &Tensor{Shape: []int{N, K}, Data: randFloats(r, N*K)}
	node := &Node{Op: "Gemm", Attrs: map[string]Attr{"transB": Int(1)}}
	b.Run("packed", func(b *testing.B) {
		for b.Loop() {
			if _, err := runNode(node, []*Tensor{a, w}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repacked", func(b *testing.B) {
		out, s := make([]float32, M*N), new(gemmScratch)
		for b.Loop() {
			sgemm(M, N, K, mat{a.Data, K, 1}, mat{w.Data, K, 1}.t(), mat{out, N, 1}, s)
		}
	})
}

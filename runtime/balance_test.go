package runtime

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/models/arch"
)

// balanceMark is where scripts/balance's QEMU plugin records the executed-instruction count: the
// harness calls it before every part of every parallel op and once after the last part.
//
//go:noinline
func balanceMark() {}

// TestBalanceHarness runs each parallel op's parts one after another on one OS thread, calling
// balanceMark between them, so that a QEMU plugin can count the instructions of each part (see
// scripts/balance). Skipped unless EDGEINFER_BALANCE=ARCH[,ARCH...]:THREADS is set. For every
// architecture it prints "model NAME THREADS" and then, in the order the parts run, one line per
// parallel op: "op INDEX TYPE KERNEL MACS".
func TestBalanceHarness(t *testing.T) {
	spec := os.Getenv("EDGEINFER_BALANCE")
	if spec == "" {
		t.Skip("EDGEINFER_BALANCE not set: per-part instruction-count workload not requested")
	}
	names, ns, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		t.Fatalf("EDGEINFER_BALANCE=%q: want ARCH[,ARCH...]:THREADS", spec)
	}
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	for _, name := range strings.Split(names, ",") {
		m, err := arch.Build(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		it, err := New(m, Options{Threads: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Run(context.Background()); err != nil { // warm: first-run work is not per inference
			t.Fatal(err)
		}
		fmt.Printf("model %s %d\n", name, n)
		for i := range it.ops {
			op := &it.ops[i]
			if op.parts == nil {
				op.run()
				continue
			}
			fmt.Printf("op %d %s %s %d\n", op.index, op.op.Type, op.kernel, op.macs)
			for part := 0; part < n; part++ {
				balanceMark()
				op.parts(part, n)
			}
			balanceMark()
		}
		it.Close()
	}
}

// spanAligned covers [0, total) without gaps or overlaps, with inner bounds on multiples of align,
// and its parts differ from total/n by less than align.
func TestSpanAligned(t *testing.T) {
	for _, total := range []int{0, 1, 3, 4, 7, 49, 196, 784, 3136, 12544} {
		for n := 1; n <= 9; n++ {
			for _, align := range []int{1, 4, 6} {
				next := 0
				for part := 0; part < n; part++ {
					lo, hi := spanAligned(total, part, n, align)
					if lo != next || hi < lo {
						t.Fatalf("spanAligned(%d, %d, %d, %d) = [%d, %d), want start %d", total, part, n, align, lo, hi, next)
					}
					if hi != total && hi%align != 0 {
						t.Fatalf("spanAligned(%d, %d, %d, %d) = [%d, %d): inner bound not a multiple of %d", total, part, n, align, lo, hi, align)
					}
					if d := float64(hi-lo) - float64(total)/float64(n); d <= -float64(align) || d >= float64(align) {
						t.Fatalf("spanAligned(%d, %d, %d, %d) = [%d, %d): %d pixels, %g per part", total, part, n, align, lo, hi, hi-lo, float64(total)/float64(n))
					}
					next = hi
				}
				if next != total {
					t.Fatalf("spanAligned(%d, ·, %d, %d) ends at %d", total, n, align, next)
				}
			}
		}
	}
}

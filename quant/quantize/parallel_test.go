package quantize

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestInOrder: results reach use in order for any worker count; the first error (of f, in order)
// and a cancelled context stop it.
func TestInOrder(t *testing.T) {
	ctx := context.Background()
	for _, workers := range []int{1, 2, 3, 8, 100} {
		var got []int
		err := inOrder(ctx, 50, workers, func() (int, error) { return 0, nil },
			func(_ int, k int) (int, error) { return k * k, nil },
			func(k int, r int) error {
				if r != k*k {
					t.Fatalf("workers %d: result %d for job %d", workers, r, k)
				}
				got = append(got, k)
				return nil
			})
		if err != nil || len(got) != 50 || !slices.IsSorted(got) {
			t.Fatalf("workers %d: err %v, order %v", workers, err, got)
		}
		boom := errors.New("boom")
		used := 0
		err = inOrder(ctx, 50, workers, func() (int, error) { return 0, nil },
			func(_ int, k int) (int, error) {
				if k >= 20 {
					return 0, boom
				}
				return k, nil
			},
			func(k int, r int) error { used++; return nil })
		if !errors.Is(err, boom) || used != 20 {
			t.Fatalf("workers %d: err %v after %d results, want boom after 20", workers, err, used)
		}
		if err := inOrder(ctx, 5, workers, func() (int, error) { return 0, boom },
			func(int, int) (int, error) { return 0, nil }, func(int, int) error { return nil }); !errors.Is(err, boom) {
			t.Fatalf("workers %d: state error lost: %v", workers, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		err = inOrder(cctx, 1000, workers, func() (int, error) { return 0, nil },
			func(_ int, k int) (int, error) { return k, nil },
			func(k int, r int) error {
				if k == 10 {
					cancel()
				}
				return nil
			})
		cancel()
		if err == nil {
			t.Fatalf("workers %d: cancelled run finished", workers)
		}
	}
}

package runtime

import "sync"

// workers is a fixed pool of goroutines that run the parts of one op in parallel. The caller's
// goroutine runs part 0; workers 1..n-1 wait on their own channel. Dispatching allocates nothing
// and no goroutine is created per inference.
type workers struct {
	n     int
	start []chan func(part, n int)
	wg    sync.WaitGroup
}

func newWorkers(n int) *workers {
	w := &workers{n: max(n, 1)}
	for i := 1; i < w.n; i++ {
		ch := make(chan func(part, n int))
		w.start = append(w.start, ch)
		go func(part int) {
			for fn := range ch {
				fn(part, w.n)
				w.wg.Done()
			}
		}(i)
	}
	return w
}

// parallel runs fn(part, n) for every part and returns when all are done.
func (w *workers) parallel(fn func(part, n int)) {
	if w.n == 1 {
		fn(0, 1)
		return
	}
	w.wg.Add(w.n - 1)
	for _, ch := range w.start {
		ch <- fn
	}
	fn(0, w.n)
	w.wg.Wait()
}

// close stops the workers.
func (w *workers) close() {
	for _, ch := range w.start {
		close(ch)
	}
	w.start = nil
	w.n = 1
}

// span returns the part-th of n near-equal slices of [0, total).
func span(total, part, n int) (lo, hi int) {
	return total * part / n, total * (part + 1) / n
}

// spanAligned returns the part-th of n near-equal slices of [0, total) whose inner bounds are
// multiples of align (the nearest to total·part/n), so that a kernel working in blocks of align
// splits without leftovers except at the end; parts may be empty when total < n·align.
func spanAligned(total, part, n, align int) (lo, hi int) {
	bound := func(p int) int {
		if p >= n {
			return total
		}
		return min((total*p+n*align/2)/(n*align)*align, total)
	}
	return bound(part), bound(part + 1)
}

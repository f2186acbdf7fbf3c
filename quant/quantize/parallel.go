package quantize

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"sync"

	"github.com/edgeinfer/edgeinfer/quant/dataset"
)

// Workers is the default number of images worked on at once by Evaluate and Calibrate: one per
// CPU the Go scheduler uses.
func Workers() int { return runtime.GOMAXPROCS(0) }

// inOrder computes f(s, k) for k = 0 … n-1 on workers goroutines, each with its own state s from
// newState, and hands each result to use in increasing k on the calling goroutine, so that what
// use does (observing statistics, counting hits) happens in the same order for any worker count.
// At most 2·workers results wait at once. It stops at the first error of newState, f, use or ctx.
func inOrder[S, R any](ctx context.Context, n, workers int, newState func() (S, error), f func(s S, k int) (R, error), use func(k int, r R) error) error {
	if n <= 0 {
		return nil
	}
	workers = max(1, min(workers, n))
	window := 2 * workers
	type result struct {
		k   int
		r   R
		err error
	}
	jobs := make(chan int)
	results := make(chan result, window) // never fills: at most window jobs are outstanding
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := newState()
			for k := range jobs {
				if err != nil {
					results <- result{k: k, err: err}
					continue
				}
				r, ferr := f(s, k)
				results <- result{k, r, ferr}
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)
	pending := make(map[int]result, window)
	sent, next := 0, 0
	for next < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		for sent < n && sent-next < window {
			select {
			case jobs <- sent:
				sent++
				continue
			case <-ctx.Done():
				return ctx.Err()
			case r := <-results:
				pending[r.k] = r
			}
			break
		}
		if _, ok := pending[next]; !ok {
			select {
			case r := <-results:
				pending[r.k] = r
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			if r.err != nil {
				return r.err
			}
			if err := use(next, r.r); err != nil {
				return err
			}
			next++
		}
	}
	return nil
}

// EvalOptions tune Evaluate.
type EvalOptions struct {
	Workers int // classifiers working at once, each on its own images; 0 means 1
	// Batch is how many images a worker scores at once when its classifier is a BatchClassifier
	// (the same scores as one by one, fewer passes over the weights); 0 or 1: one at a time.
	Batch    int
	Progress func(done, total int) // called after each image, in order, if set
}

// Evaluate scores set's images idx and returns the accuracy over the labelled ones and the number
// of unlabelled ones. Each worker gets its own classifier from newClassifier (a classifier keeps
// buffers) and scores opt.Batch images at a time where the classifier can; the result is the same
// for every worker count and batch size.
func Evaluate(ctx context.Context, newClassifier func() (Classifier, error), set dataset.Set, idx []int, opt EvalOptions) (acc Accuracy, unlabelled int, err error) {
	type scored struct {
		scores []float64
		label  int
	}
	batch := max(1, opt.Batch)
	chunks := (len(idx) + batch - 1) / batch
	err = inOrder(ctx, chunks, max(1, opt.Workers), newClassifier,
		func(c Classifier, k int) ([]scored, error) {
			ks := idx[k*batch : min(len(idx), (k+1)*batch)]
			imgs := make([]image.Image, len(ks))
			out := make([]scored, len(ks))
			for i, j := range ks {
				img, label, err := set.Image(j)
				if err != nil {
					return nil, err
				}
				imgs[i], out[i].label = img, label
			}
			if bc, ok := c.(BatchClassifier); ok && len(ks) > 1 {
				s, err := bc.ScoresBatch(ctx, imgs)
				if err != nil {
					return nil, fmt.Errorf("quantize: images %d to %d of %s: %w", ks[0], ks[len(ks)-1], set.Name(), err)
				}
				for i := range out {
					out[i].scores = s[i]
				}
				return out, nil
			}
			for i, img := range imgs {
				s, err := c.Scores(ctx, img)
				if err != nil {
					return nil, fmt.Errorf("quantize: image %d of %s: %w", ks[i], set.Name(), err)
				}
				out[i].scores = s
			}
			return out, nil
		},
		func(k int, rs []scored) error {
			for i, r := range rs {
				if r.label < 0 {
					unlabelled++
				} else {
					acc.Add(r.scores, r.label)
				}
				if opt.Progress != nil {
					opt.Progress(k*batch+i+1, len(idx))
				}
			}
			return nil
		})
	return acc, unlabelled, err
}

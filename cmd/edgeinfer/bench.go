package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/models/arch"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func init() {
	commands["bench"] = command{"time inferences of a model or a standard architecture with random weights", runBench}
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "")
	archName := fs.String("arch", "", fmt.Sprintf("standard architecture with random weights: %v", arch.Names()))
	modelFlag := fs.String("model", "", "model file (.tflite or edgeinfer) or pulled model name")
	iterations := fs.Int("iterations", 20, "timed inferences")
	warmup := fs.Int("warmup", 2, "untimed inferences first")
	threads := fs.Int("threads", 1, "worker goroutines per inference")
	requant := fs.String("requant", "xnnpack", "requantization: xnnpack (TensorFlow Lite's default engine) or reference")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if (*archName == "") == (*modelFlag == "") {
		return usagef("give exactly one of --arch and --model")
	}
	if *iterations < 1 || *warmup < 0 || *threads < 1 {
		return usagef("--iterations and --threads must be at least 1, --warmup at least 0")
	}
	if *archName != "" && !slices.Contains(arch.Names(), *archName) {
		return usagef("--arch %q: unknown architecture (known: %s)", *archName, strings.Join(arch.Names(), ", "))
	}
	mode, err := runtime.ParseRequantization(*requant)
	if err != nil {
		return usageError{err.Error()}
	}
	var m *models.Model
	if *archName != "" {
		if m, err = arch.Build(*archName, 1); err != nil {
			return err
		}
	} else {
		path, err := resolveModel(*modelFlag)
		if err != nil {
			return err
		}
		mm, closer, err := load.Model(path)
		if err != nil {
			return err
		}
		defer closer.Close()
		m = mm
	}
	it, err := runtime.New(m, runtime.Options{Threads: *threads, Requantization: mode})
	if err != nil {
		return err
	}
	defer it.Close()
	// Seeded random input: the timing does not depend on the values.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < it.NumInputs(); i++ {
		b := it.Input(i).Bytes()
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
	}
	for i := 0; i < *warmup; i++ {
		if err := it.Run(ctx); err != nil {
			return err
		}
	}
	times := make([]time.Duration, *iterations)
	for i := range times {
		start := time.Now()
		if err := it.Run(ctx); err != nil {
			return err
		}
		times[i] = time.Since(start)
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	med := times[len(times)/2]
	if len(times)%2 == 0 {
		med = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	kernels := map[string]int{}
	for _, op := range it.Ops() {
		kernels[op.Kernel]++
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	fmt.Fprintf(e.stdout, "model %s: %.1f M MACs, %d ops (kernels %v), %d thread(s), %s requantization\n",
		m.Name, float64(it.MACs())/1e6, len(it.Ops()), kernels, *threads, mode)
	fmt.Fprintf(e.stdout, "latency over %d inferences: min %.2f ms, median %.2f ms, max %.2f ms (%.2f GMAC/s at the median)\n",
		len(times), ms(times[0]), ms(med), ms(times[len(times)-1]), float64(it.MACs())/float64(med))
	return nil
}

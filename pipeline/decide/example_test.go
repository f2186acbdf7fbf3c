package decide_test

import (
	"fmt"
	"time"

	"github.com/edgeinfer/edgeinfer/pipeline/decide"
)

func Example() {
	labels := []string{"background", "cat", "dog"}
	d, err := decide.New(labels, decide.Config{
		Classes:   []decide.Class{{Name: "cat", On: 0.6, Off: 0.4, MinFrames: 2}},
		Smoothing: 2,
		OffDelay:  time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cat := []float64{0.2, 0.9, 0.9, 0.9, 0.3, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1} // a flicker at frame 4
	for i, p := range cat {
		t := start.Add(time.Duration(i) * 500 * time.Millisecond) // 2 frames a second
		r, err := d.Step([]float64{(1 - p) / 2, p, (1 - p) / 2}, t)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, tr := range r.Transitions {
			fmt.Printf("frame %d: %s active=%v (smoothed %.2f), top %s\n", i, tr.Label, tr.Active, tr.Score, r.Top.Label)
		}
	}
	_, err = decide.New(labels, decide.Config{Classes: []decide.Class{{Name: "horse", On: 0.5}}})
	fmt.Println(err)
	// Output:
	// frame 3: cat active=true (smoothed 0.90), top cat
	// frame 9: cat active=false (smoothed 0.10), top background
	// decide: watched class "horse" is not a label of the model (3 labels, e.g. "background", "cat", "dog")
}

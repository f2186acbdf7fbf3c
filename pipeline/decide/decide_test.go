package decide

import (
	"math"
	"strings"
	"testing"
	"time"
)

var labels = []string{"background", "cat", "dog", "person"}

// clock is a fake frame clock: 10 frames a second from a fixed start.
type clock struct{ t time.Time }

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) next() time.Time { c.t = c.t.Add(100 * time.Millisecond); return c.t }

// scoresFor gives a score vector with p for label and the rest spread over the others.
func scoresFor(label string, p float64) []float64 {
	s := make([]float64, len(labels))
	for i, l := range labels {
		if l == label {
			s[i] = p
		} else {
			s[i] = (1 - p) / float64(len(labels)-1)
		}
	}
	return s
}

// run steps d through the cat scores given and returns, per frame, whether "cat" changed state
// ('+' became active, '-' became inactive, '.' no change).
func run(t *testing.T, d *Decider, c *clock, cat []float64) string {
	t.Helper()
	var b strings.Builder
	for i, p := range cat {
		r, err := d.Step(scoresFor("cat", p), c.next())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		switch len(r.Transitions) {
		case 0:
			b.WriteByte('.')
		case 1:
			if r.Transitions[0].Label != "cat" {
				t.Fatalf("frame %d: transition of %q", i, r.Transitions[0].Label)
			}
			if r.Transitions[0].Active {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
		default:
			t.Fatalf("frame %d: %d transitions", i, len(r.Transitions))
		}
	}
	return b.String()
}

func mustNew(t *testing.T, cfg Config) *Decider {
	t.Helper()
	d, err := New(labels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNoSmoothingFlickers(t *testing.T) {
	// Without hysteresis or smoothing every crossing of the threshold is a transition.
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.5}}})
	got := run(t, d, newClock(), []float64{0.6, 0.4, 0.6, 0.4, 0.6})
	if want := "+-+-+"; got != want {
		t.Errorf("transitions %q, want %q", got, want)
	}
}

func TestHysteresis(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.7, Off: 0.4}}})
	// 0.5-0.69 lies between the thresholds: no state change in either direction.
	got := run(t, d, newClock(), []float64{0.5, 0.69, 0.7, 0.5, 0.41, 0.69, 0.4, 0.39, 0.6, 0.69, 0.71})
	if want := ".." + "+" + "...." + "-" + "..+"; got != want {
		t.Errorf("transitions %q, want %q", got, want)
	}
}

func TestSmoothingSuppressesFlicker(t *testing.T) {
	// The raw cat score alternates around the threshold; the 4-frame average stays at 0.55.
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.5, Off: 0.3}}, Smoothing: 4})
	seq := []float64{0.9, 0.2, 0.9, 0.2, 0.9, 0.2, 0.9, 0.2, 0.9, 0.2}
	got := run(t, d, newClock(), seq)
	// Averages: 0.9, 0.55 (+ at frame 0: 0.9 >= 0.5), then between 0.55 and 0.667: never below 0.3.
	if want := "+........."; got != want {
		t.Errorf("transitions %q, want %q", got, want)
	}
	// Then the cat goes away: the average falls 0.55 -> 0.3 -> 0.225 ... off when it is below 0.3.
	got = run(t, d, newClock(), []float64{0, 0, 0, 0})
	if want := ".-.."; got != want {
		t.Errorf("leaving: transitions %q, want %q", got, want)
	}
}

func TestMovingAverage(t *testing.T) {
	d := mustNew(t, Config{Smoothing: 3})
	c := newClock()
	in := []float64{0.3, 0.6, 0.9, 0.0, 0.3}
	want := []float64{0.3, 0.45, 0.6, 0.5, 0.4}
	for i, p := range in {
		r, err := d.Step(scoresFor("dog", p), c.next())
		if err != nil {
			t.Fatal(err)
		}
		var dog Scored
		for _, s := range r.TopK {
			if s.Label == "dog" {
				dog = s
			}
		}
		if r.Frames != min(i+1, 3) {
			t.Errorf("frame %d: %d frames averaged", i, r.Frames)
		}
		if dog.Label == "" {
			// dog is not in the top 1 when it is low; read the average through the top label instead
			if r.Top.Label == "dog" {
				t.Errorf("frame %d: top is dog but not in TopK", i)
			}
			continue
		}
		if math.Abs(dog.Score-want[i]) > 1e-12 {
			t.Errorf("frame %d: dog average %v, want %v", i, dog.Score, want[i])
		}
	}
}

func TestRunningSumsStayExact(t *testing.T) {
	// Many frames through a window of 7: the running sums are rebuilt at each wrap, so the average
	// equals the plain mean of the last 7 frames.
	d := mustNew(t, Config{Smoothing: 7, TopK: len(labels)})
	c := newClock()
	var hist [][]float64
	for f := range 1000 {
		p := math.Mod(float64(f)*0.1234567, 1)
		s := scoresFor("person", p)
		hist = append(hist, s)
		r, err := d.Step(s, c.next())
		if err != nil {
			t.Fatal(err)
		}
		lo := max(0, len(hist)-7)
		for _, k := range r.TopK {
			var want float64
			for _, h := range hist[lo:] {
				want += h[k.Index]
			}
			want /= float64(len(hist) - lo)
			if math.Abs(k.Score-want) > 1e-12 {
				t.Fatalf("frame %d: %s average %v, want %v", f, k.Label, k.Score, want)
			}
		}
	}
}

func TestOffDelay(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.6, Off: 0.4}}, OffDelay: 300 * time.Millisecond})
	c := newClock() // 100 ms per frame
	// Below Off for 2 frames (100 ms apart: 0 and 100 ms below), back up: stays active.
	// Then below for frames at 0, 100, 200, 300 ms: inactive at the 4th.
	got := run(t, d, c, []float64{0.9, 0.1, 0.1, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1})
	if want := "+" + "..." + "...-" + "."; got != want {
		t.Errorf("transitions %q, want %q", got, want)
	}
	// A gap in the frames counts by time, not by frames: one frame below, the next 1 s later.
	d = mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.6, Off: 0.4}}, OffDelay: 300 * time.Millisecond})
	c = newClock()
	run(t, d, c, []float64{0.9, 0.1})
	c.t = c.t.Add(time.Second)
	if got := run(t, d, c, []float64{0.1}); got != "-" {
		t.Errorf("after a 1 s gap: %q, want \"-\"", got)
	}
}

func TestMinFrames(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.6, Off: 0.4, MinFrames: 3}}})
	got := run(t, d, newClock(), []float64{0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.9, 0.1})
	if want := "....." + "+" + "." + "-"; got != want {
		t.Errorf("transitions %q, want %q", got, want)
	}
}

func TestSeveralClasses(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "dog", On: 0.5}, {Name: "person", On: 0.3, Off: 0.2}}, TopK: 2})
	c := newClock()
	r, err := d.Step([]float64{0.1, 0.05, 0.5, 0.35}, c.next())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Transitions) != 2 || r.Transitions[0].Label != "dog" || r.Transitions[1].Label != "person" ||
		!r.Transitions[0].Active || r.Transitions[0].Class != 0 || r.Transitions[1].Class != 1 {
		t.Fatalf("transitions %+v", r.Transitions)
	}
	if r.Top.Label != "dog" || r.Top.Index != 2 || len(r.TopK) != 2 || r.TopK[1].Label != "person" {
		t.Errorf("top %+v, top-k %+v", r.Top, r.TopK)
	}
	if !d.Active(0) || !d.Active(1) {
		t.Error("both classes should be active")
	}
	r, _ = d.Step([]float64{0.6, 0.05, 0.1, 0.25}, c.next())
	if len(r.Transitions) != 1 || r.Transitions[0].Label != "dog" || r.Transitions[0].Active {
		t.Errorf("transitions %+v", r.Transitions)
	}
	if r.Top.Label != "background" {
		t.Errorf("top %+v", r.Top)
	}
}

func TestTopKOrderAndTies(t *testing.T) {
	d := mustNew(t, Config{TopK: 10})
	r, err := d.Step([]float64{0.2, 0.3, 0.2, 0.3}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, s := range r.TopK {
		got = append(got, s.Index)
	}
	if want := []int{1, 3, 0, 2}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("top-k indexes %v, want %v", got, want)
	}
}

func TestSetThresholds(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.9}}})
	c := newClock()
	if got := run(t, d, c, []float64{0.7}); got != "." {
		t.Fatalf("%q", got)
	}
	if err := d.SetThresholds("cat", 0.6, 0.5); err != nil {
		t.Fatal(err)
	}
	if got := run(t, d, c, []float64{0.7, 0.55, 0.45}); got != "+.-" {
		t.Errorf("after SetThresholds: %q, want \"+.-\"", got)
	}
	if err := d.SetThresholds("dog", 0.6, 0.5); err == nil || !strings.Contains(err.Error(), `"dog" is not a watched class`) {
		t.Errorf("unwatched class: %v", err)
	}
	if err := d.SetThresholds("cat", 0.5, 0.6); err == nil {
		t.Error("off above on accepted")
	}
	if d.Class(0).On != 0.6 || d.Class(0).Off != 0.5 {
		t.Errorf("failed SetThresholds changed the class: %+v", d.Class(0))
	}
}

func TestReset(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.5, MinFrames: 2}}, Smoothing: 3})
	c := newClock()
	run(t, d, c, []float64{0.9})
	d.Reset()
	r, _ := d.Step(scoresFor("cat", 0.2), c.next())
	if r.Frames != 1 || r.Top.Label == "cat" {
		t.Errorf("after Reset: %d frames, top %+v", r.Frames, r.Top)
	}
	// The frame counted towards MinFrames before Reset does not count.
	if got := run(t, d, c, []float64{0.9, 0.9}); got != ".+" {
		t.Errorf("%q, want \".+\"", got)
	}
}

// TestResetScores: each frame judged alone (as on a trigger), while OffDelay counts across resets.
func TestResetScores(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.6, Off: 0.4}}, Smoothing: 5, OffDelay: 300 * time.Millisecond})
	c := newClock()
	var got strings.Builder
	for _, p := range []float64{0.9, 0.1, 0.1, 0.1, 0.1} {
		d.ResetScores()
		got.WriteString(run(t, d, c, []float64{p}))
		c.t = c.t.Add(100 * time.Millisecond) // frames 200 ms apart
	}
	// 0.9 alone is active at once (no average with older frames); below Off at 200, 400, 600 ms
	// after it: inactive once 300 ms have passed below, at the third low frame.
	if want := "+" + ".." + "-" + "."; got.String() != want {
		t.Errorf("transitions %q, want %q", got.String(), want)
	}
	r, _ := d.Step(scoresFor("dog", 0.9), c.next())
	if r.Frames != 2 {
		t.Errorf("%d frames in the average after ResetScores and 2 frames, want 2", r.Frames)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Classes: []Class{{Name: "horse", On: 0.5}}}, `decide: watched class "horse" is not a label of the model (4 labels, e.g. "background", "cat", "dog", "person")`},
		{Config{Classes: []Class{{Name: "cat", On: 0.5}, {Name: "cat", On: 0.6}}}, `decide: watched class "cat" is given twice`},
		{Config{Classes: []Class{{Name: "cat", On: 0}}}, `decide: class "cat": on-threshold 0: must be in (0, 1]`},
		{Config{Classes: []Class{{Name: "cat", On: 1.5}}}, `on-threshold 1.5`},
		{Config{Classes: []Class{{Name: "cat", On: 0.5, Off: 0.7}}}, `decide: class "cat": off-threshold 0.7: must be in [0, on-threshold 0.5]`},
		{Config{Classes: []Class{{Name: "cat", On: 0.5, Off: -1}}}, `off-threshold -1`},
		{Config{Classes: []Class{{Name: "cat", On: 0.5, MinFrames: -1}}}, `min frames -1`},
		{Config{Smoothing: -1}, `decide: smoothing -1 frames`},
		{Config{OffDelay: -time.Second}, `decide: off-delay -1s`},
		{Config{TopK: -2}, `decide: top-k -2`},
	} {
		_, err := New(labels, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(nil, Config{}); err == nil || err.Error() != "decide: the model has no labels" {
		t.Errorf("no labels: %v", err)
	}
}

func TestStepErrors(t *testing.T) {
	d := mustNew(t, Config{Classes: []Class{{Name: "cat", On: 0.5}}, Smoothing: 2})
	if _, err := d.Step([]float64{1, 2}, time.Now()); err == nil || err.Error() != "decide: 2 scores for 4 labels" {
		t.Errorf("short scores: %v", err)
	}
	if _, err := d.Step([]float64{0, math.NaN(), 0, 0}, time.Now()); err == nil || err.Error() != `decide: score 1 ("cat") is NaN` {
		t.Errorf("NaN: %v", err)
	}
	if _, err := d.Step([]float64{0, 0, math.Inf(1), 0}, time.Now()); err == nil || !strings.Contains(err.Error(), "+Inf") {
		t.Errorf("Inf: %v", err)
	}
	// The bad frames changed nothing.
	r, err := d.Step(scoresFor("cat", 0.8), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Frames != 1 || r.Top.Label != "cat" || len(r.Transitions) != 1 {
		t.Errorf("after bad frames: %+v", r)
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	big := make([]string, 1000)
	for i := range big {
		big[i] = "class" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	d, err := New(big, Config{
		Classes:   []Class{{Name: big[3], On: 0.5, Off: 0.3, MinFrames: 2}, {Name: big[999], On: 0.4}, {Name: "group", On: 0.5}},
		Groups:    []Group{{Name: "group", Members: []int{500, 501, 502, 999}}},
		Smoothing: 5, OffDelay: 200 * time.Millisecond, TopK: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]float64{make([]float64, 1000), make([]float64, 1000)}
	frames[0][3], frames[1][999] = 0.9, 0.9 // alternating classes: transitions happen in the loop
	c := newClock()
	f := 0
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := d.Step(frames[(f/7)%2], c.next()); err != nil {
			t.Fatal(err)
		}
		f++
	})
	if allocs != 0 {
		t.Errorf("Step allocates %v times per frame, want 0", allocs)
	}
}

func BenchmarkStep1000Classes(b *testing.B) {
	big := make([]string, 1000)
	for i := range big {
		big[i] = "c"
	}
	big[7] = "cat"
	d, err := New(big, Config{Classes: []Class{{Name: "cat", On: 0.5, Off: 0.3}}, Smoothing: 5, TopK: 5})
	if err != nil {
		b.Fatal(err)
	}
	s := make([]float64, 1000)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s[7] = float64(i%10) / 10
		d.Step(s, now.Add(time.Duration(i)*time.Millisecond))
	}
}

// A group's score is the sum of its members' smoothed scores: two labels at 0.3 each make a group
// at 0.6 active while neither label is; the transition carries the group's name. A label wins over
// a group of the same name.
func TestGroup(t *testing.T) {
	d, err := New(labels, Config{
		Classes: []Class{{Name: "pet", On: 0.5, Off: 0.4}, {Name: "cat", On: 0.5}},
		Groups:  []Group{{Name: "pet", Members: []int{1, 2, 2}}, {Name: "cat", Members: []int{3}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Step([]float64{0.4, 0.3, 0.3, 0}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Transitions) != 1 || r.Transitions[0].Label != "pet" || !r.Transitions[0].Active || math.Abs(r.Transitions[0].Score-0.6) > 1e-12 {
		t.Fatalf("transitions %+v, want pet active at 0.6 (the duplicate member counted once)", r.Transitions)
	}
	if r.Top.Label != "background" || math.Abs(d.Score(0)-0.6) > 1e-12 {
		t.Errorf("top %+v, pet score %v: the top is still by label", r.Top, d.Score(0))
	}
	// "cat" is the label, not the group holding "person": person at 1 turns pet off and not cat on.
	if r, _ := d.Step([]float64{0, 0, 0, 1}, time.Now()); len(r.Transitions) != 1 || r.Transitions[0].Label != "pet" || r.Transitions[0].Active {
		t.Fatalf("person at 1 (smoothing off): transitions %+v; want pet inactive only", r.Transitions)
	}
	if r, _ := d.Step([]float64{0, 0.9, 0, 0.1}, time.Now()); len(r.Transitions) != 2 || r.Transitions[0].Label != "pet" || r.Transitions[1].Label != "cat" {
		t.Fatalf("cat at 0.9: transitions %+v", r.Transitions)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Classes: []Class{{Name: "pets", On: 0.5}}, Groups: []Group{{Name: "pet", Members: []int{1}}}}, `"pets" is not a label of the model (4 labels, e.g. "background", "cat", "dog", "person") nor one of the 1 groups`},
		{Config{Groups: []Group{{Name: "pet", Members: []int{1, 4}}}}, `group "pet": member 4 is not one of the model's 4 labels`},
		{Config{Groups: []Group{{Name: "pet", Members: []int{1}}, {Name: "pet", Members: []int{2}}}}, `group "pet" is given twice`},
		{Config{Groups: []Group{{Name: "pet"}}}, `group "pet" has no members`},
	} {
		if _, err := New(labels, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.cfg, err, c.want)
		}
	}
}

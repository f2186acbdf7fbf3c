package decide

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Class configures one watched class.
type Class struct {
	Name string  // a label of the model
	On   float64 // becomes active when the smoothed score is >= On (0 < On <= 1)
	Off  float64 // may become inactive when the smoothed score is < Off (0 <= Off <= On); 0 means On
	// MinFrames is how many consecutive frames the smoothed score must be >= On before the class
	// becomes active; 0 or 1 means the first such frame.
	MinFrames int
}

// Group is a named set of labels whose smoothed scores are summed: watched by its name like a
// class (a Class whose Name is the group's), e.g. "cat" for ImageNet's five domestic cats.
type Group struct {
	Name    string
	Members []int // indices into the labels
}

// Config configures a Decider.
type Config struct {
	Classes []Class // the watched classes: labels, or the names of Groups
	// Groups are the groups a watched class may name. A label of the model wins over a group of the
	// same name.
	Groups []Group
	// Smoothing is the number of frames the moving average of scores spans; 0 or 1 means none.
	Smoothing int
	// OffDelay is how long the smoothed score of an active class must stay below its Off threshold
	// before the class becomes inactive; 0 means at the first frame below Off.
	OffDelay time.Duration
	// TopK is how many best classes Result.TopK holds; 0 means 1, and it is capped at len(labels).
	TopK int
}

// Scored is a class with its (smoothed) score.
type Scored struct {
	Index int     // index into the model's labels
	Label string  // the label
	Score float64 // the smoothed score
}

// Transition is a watched class becoming active or inactive.
type Transition struct {
	Class  int       // index into Config.Classes
	Label  string    // the class's label
	Active bool      // true: became active; false: became inactive
	Score  float64   // the smoothed score at the transition
	Time   time.Time // the time of the frame that caused it
}

// Result is the decision for one frame. Its slices belong to the Decider and are valid until the
// next call of Step.
type Result struct {
	Top         Scored       // the best class by smoothed score
	TopK        []Scored     // the Config.TopK best classes, best first
	Transitions []Transition // the watched classes that changed state at this frame
	Frames      int          // frames in the moving average (up to Config.Smoothing)
}

// classState is the state machine of one watched class.
type classState struct {
	cfg        Class
	index      int       // index into labels, or -1 for a group
	members    []int     // a group's labels; nil for a label
	active     bool      // current state
	above      int       // consecutive frames at or above On while inactive
	belowSince time.Time // first frame below Off while active; zero when not below
}

// Decider smooths scores and decides which watched classes are active. Build it with New.
type Decider struct {
	labels   []string
	n        int       // smoothing window
	ring     []float64 // n rows of len(labels) scores
	sums     []float64 // running sums over the rows in the ring
	smooth   []float64 // sums / filled
	pos      int       // next row of ring to write
	filled   int       // rows in the ring
	offDelay time.Duration
	classes  []classState
	topK     []Scored
	trans    []Transition
}

// New makes a Decider for a model with the given labels (the class names of its output, in order).
func New(labels []string, cfg Config) (*Decider, error) {
	if len(labels) == 0 {
		return nil, errors.New("decide: the model has no labels")
	}
	if cfg.Smoothing < 0 {
		return nil, fmt.Errorf("decide: smoothing %d frames: must be >= 0", cfg.Smoothing)
	}
	if cfg.OffDelay < 0 {
		return nil, fmt.Errorf("decide: off-delay %v: must be >= 0", cfg.OffDelay)
	}
	if cfg.TopK < 0 {
		return nil, fmt.Errorf("decide: top-k %d: must be >= 0", cfg.TopK)
	}
	n := max(cfg.Smoothing, 1)
	k := min(max(cfg.TopK, 1), len(labels))
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		if _, dup := index[l]; !dup {
			index[l] = i
		}
	}
	d := &Decider{
		labels:   labels,
		n:        n,
		ring:     make([]float64, n*len(labels)),
		sums:     make([]float64, len(labels)),
		smooth:   make([]float64, len(labels)),
		offDelay: cfg.OffDelay,
		classes:  make([]classState, len(cfg.Classes)),
		topK:     make([]Scored, 0, k),
		trans:    make([]Transition, 0, len(cfg.Classes)),
	}
	groups := make(map[string][]int, len(cfg.Groups))
	for _, g := range cfg.Groups {
		if _, dup := groups[g.Name]; dup {
			return nil, fmt.Errorf("decide: group %q is given twice", g.Name)
		}
		if len(g.Members) == 0 {
			return nil, fmt.Errorf("decide: group %q has no members", g.Name)
		}
		members := make([]int, 0, len(g.Members))
		in := make(map[int]bool, len(g.Members))
		for _, m := range g.Members {
			if m < 0 || m >= len(labels) {
				return nil, fmt.Errorf("decide: group %q: member %d is not one of the model's %d labels", g.Name, m, len(labels))
			}
			if !in[m] { // a label counted twice would be summed twice
				in[m] = true
				members = append(members, m)
			}
		}
		groups[g.Name] = members
	}
	seen := make(map[string]bool, len(cfg.Classes))
	for i, c := range cfg.Classes {
		idx, ok := index[c.Name]
		var members []int
		if !ok {
			if members, ok = groups[c.Name]; !ok {
				nor := ""
				if len(groups) > 0 {
					nor = fmt.Sprintf(" nor one of the %d groups", len(groups))
				}
				return nil, fmt.Errorf("decide: watched class %q is not a label of the model (%d labels, e.g. %s)%s",
					c.Name, len(labels), sample(labels), nor)
			}
			idx = -1
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("decide: watched class %q is given twice", c.Name)
		}
		seen[c.Name] = true
		if c.MinFrames < 0 {
			return nil, fmt.Errorf("decide: class %q: min frames %d: must be >= 0", c.Name, c.MinFrames)
		}
		on, off, err := thresholds(c.Name, c.On, c.Off)
		if err != nil {
			return nil, err
		}
		c.On, c.Off = on, off
		d.classes[i] = classState{cfg: c, index: idx, members: members}
	}
	return d, nil
}

// sample lists the first few labels for an error message.
func sample(labels []string) string {
	n := min(len(labels), 5)
	s := make([]string, n)
	for i := range n {
		s[i] = fmt.Sprintf("%q", labels[i])
	}
	if len(labels) > n {
		return strings.Join(s, ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

// thresholds checks a class's thresholds and fills in the default off-threshold.
func thresholds(name string, on, off float64) (float64, float64, error) {
	if math.IsNaN(on) || on <= 0 || on > 1 {
		return 0, 0, fmt.Errorf("decide: class %q: on-threshold %v: must be in (0, 1]", name, on)
	}
	if off == 0 {
		off = on
	}
	if math.IsNaN(off) || off < 0 || off > on {
		return 0, 0, fmt.Errorf("decide: class %q: off-threshold %v: must be in [0, on-threshold %v]", name, off, on)
	}
	return on, off, nil
}

// Labels returns the model's labels the Decider was made with.
func (d *Decider) Labels() []string { return d.labels }

// Classes returns the number of watched classes.
func (d *Decider) Classes() int { return len(d.classes) }

// Class returns the configuration of watched class i (with the default off-threshold filled in).
func (d *Decider) Class(i int) Class { return d.classes[i].cfg }

// Active reports whether watched class i is active.
func (d *Decider) Active(i int) bool { return d.classes[i].active }

// SetThresholds changes the thresholds of the watched class named name (off 0 means on). It takes
// effect at the next Step.
func (d *Decider) SetThresholds(name string, on, off float64) error {
	for i := range d.classes {
		c := &d.classes[i]
		if c.cfg.Name != name {
			continue
		}
		on, off, err := thresholds(name, on, off)
		if err != nil {
			return err
		}
		c.cfg.On, c.cfg.Off = on, off
		return nil
	}
	return fmt.Errorf("decide: %q is not a watched class", name)
}

// Reset forgets the score history (e.g. after a pause) and the frames counted towards MinFrames and
// OffDelay. Active classes stay active until their scores say otherwise.
func (d *Decider) Reset() {
	d.ResetScores()
	for i := range d.classes {
		d.classes[i].above = 0
		d.classes[i].belowSince = time.Time{}
	}
}

// ResetScores forgets the score history only: the next frame is judged on its own scores, while
// MinFrames and OffDelay go on counting across the reset (for frames taken one at a time, on a
// trigger).
func (d *Decider) ResetScores() {
	clear(d.ring)
	clear(d.sums)
	clear(d.smooth)
	d.pos, d.filled = 0, 0
}

// Step takes one frame's scores (one per label, dequantized) and the frame's time and returns the
// decision. It fails, changing nothing, when the number of scores is not the number of labels or a
// score is not finite. It allocates nothing.
func (d *Decider) Step(scores []float64, t time.Time) (Result, error) {
	if len(scores) != len(d.labels) {
		return Result{}, fmt.Errorf("decide: %d scores for %d labels", len(scores), len(d.labels))
	}
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return Result{}, fmt.Errorf("decide: score %d (%q) is %v", i, d.labels[i], s)
		}
	}
	d.smoothScores(scores)
	d.rank()
	d.trans = d.trans[:0]
	for i := range d.classes {
		c := &d.classes[i]
		s := c.score(d.smooth)
		if !c.active {
			if s >= c.cfg.On {
				c.above++
				if c.above >= max(c.cfg.MinFrames, 1) {
					c.active, c.above, c.belowSince = true, 0, time.Time{}
					d.trans = append(d.trans, Transition{Class: i, Label: c.cfg.Name, Active: true, Score: s, Time: t})
				}
			} else {
				c.above = 0
			}
			continue
		}
		if s >= c.cfg.Off {
			c.belowSince = time.Time{}
			continue
		}
		if c.belowSince.IsZero() {
			c.belowSince = t
		}
		if t.Sub(c.belowSince) >= d.offDelay {
			c.active, c.belowSince = false, time.Time{}
			d.trans = append(d.trans, Transition{Class: i, Label: c.cfg.Name, Active: false, Score: s, Time: t})
		}
	}
	return Result{Top: d.topK[0], TopK: d.topK, Transitions: d.trans, Frames: d.filled}, nil
}

// score is the class's smoothed score: its label's, or the sum of its group's labels' (the moving
// average of the sums, as averaging is linear).
func (c *classState) score(smooth []float64) float64 {
	if c.members == nil {
		return smooth[c.index]
	}
	var s float64
	for _, m := range c.members {
		s += smooth[m]
	}
	return s
}

// Score returns the smoothed score of watched class i at the last Step: its label's, or for a
// group the sum of its labels'.
func (d *Decider) Score(i int) float64 { return d.classes[i].score(d.smooth) }

// smoothScores writes scores into the ring and updates the moving average. The running sums are
// recomputed from the ring each time it wraps, so rounding errors cannot accumulate.
func (d *Decider) smoothScores(scores []float64) {
	nl := len(d.labels)
	row := d.ring[d.pos*nl : (d.pos+1)*nl]
	if d.filled == d.n {
		for i, old := range row {
			d.sums[i] -= old
		}
	} else {
		d.filled++
	}
	copy(row, scores)
	d.pos++
	if d.pos == d.n {
		d.pos = 0
		clear(d.sums)
		for r := range d.filled {
			for i, v := range d.ring[r*nl : (r+1)*nl] {
				d.sums[i] += v
			}
		}
	} else {
		for i, v := range scores {
			d.sums[i] += v
		}
	}
	inv := 1 / float64(d.filled)
	for i, s := range d.sums {
		d.smooth[i] = s * inv
	}
}

// rank fills topK with the best smoothed scores, best first; ties go to the lower index.
func (d *Decider) rank() {
	k := cap(d.topK)
	top := d.topK[:0]
	for i, s := range d.smooth {
		if len(top) == k && s <= top[k-1].Score {
			continue
		}
		if len(top) < k {
			top = top[:len(top)+1]
		}
		j := len(top) - 1
		for j > 0 && top[j-1].Score < s {
			top[j] = top[j-1]
			j--
		}
		top[j] = Scored{Index: i, Label: d.labels[i], Score: s}
	}
	d.topK = top
}

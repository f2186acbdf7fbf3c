package calibrate

import (
	"fmt"
	"math"
	"sort"
)

// Bins is the number of histogram bins (TensorRT's choice).
const Bins = 2048

// Stats are one tensor's statistics over the calibration inputs.
type Stats struct {
	Min, Max float32
	Count    int64
	// Zeros counts the values exactly 0 (ReLU outputs are mostly zeros): they are exact in any
	// quantization and would otherwise swamp the first bin, which biases KL towards small ranges.
	Zeros int64
	// Hist counts the other |x| in Bins bins of width Bound/Bins.
	Hist  []float64
	Bound float32
}

// Observe adds values to the statistics.
func (s *Stats) Observe(data []float32) {
	if len(data) == 0 {
		return
	}
	if s.Hist == nil {
		s.Hist = make([]float64, Bins)
		s.Min, s.Max = data[0], data[0]
	}
	var amax float32
	for _, v := range data {
		s.Min = min(s.Min, v)
		s.Max = max(s.Max, v)
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	if amax > 0 && s.Bound == 0 {
		s.Bound = amax
	}
	for s.Bound > 0 && amax > s.Bound {
		// Double the range: bin i of the new histogram holds old bins 2i and 2i+1.
		for i := 0; i < Bins/2; i++ {
			s.Hist[i] = s.Hist[2*i] + s.Hist[2*i+1]
		}
		clear(s.Hist[Bins/2:])
		s.Bound *= 2
	}
	if s.Bound > 0 {
		k := float32(Bins) / s.Bound
		for _, v := range data {
			if v == 0 {
				s.Zeros++
				continue
			}
			b := int(float32(math.Abs(float64(v))) * k)
			s.Hist[min(b, Bins-1)]++
		}
	} else {
		s.Zeros += int64(len(data))
	}
	s.Count += int64(len(data))
}

// Observer collects Stats per tensor name.
type Observer struct {
	Stats map[string]*Stats
}

// NewObserver returns an empty observer.
func NewObserver() *Observer { return &Observer{Stats: map[string]*Stats{}} }

// Observe adds a tensor's values.
func (o *Observer) Observe(name string, data []float32) {
	s := o.Stats[name]
	if s == nil {
		s = &Stats{}
		o.Stats[name] = s
	}
	s.Observe(data)
}

// Method chooses a range from statistics.
type Method string

// Methods.
const (
	MinMax     Method = "minmax"
	Percentile Method = "percentile"
	KL         Method = "kl"
	Cosine     Method = "cosine"
)

// Options of Choose.
type Options struct {
	Method Method
	// Percentile of |x| kept by the Percentile method, in percent; 0 means 99.99.
	Percentile float64
}

// Choose returns the range [lo, hi] to quantize the tensor to. It always contains 0 (so that zero is
// exact, as padding needs) and is never empty.
func Choose(s *Stats, opt Options) (lo, hi float32, err error) {
	if s == nil || s.Count == 0 {
		return 0, 0, fmt.Errorf("calibrate: no statistics")
	}
	if isBad(s.Min) || isBad(s.Max) {
		return 0, 0, fmt.Errorf("calibrate: tensor values are not finite (range %g to %g)", s.Min, s.Max)
	}
	lo, hi = s.Min, s.Max
	var t float32
	switch opt.Method {
	case MinMax, "":
		t = float32(math.Inf(1))
	case Percentile:
		p := opt.Percentile
		if p == 0 {
			p = 99.99
		}
		if !(p > 0 && p <= 100) {
			return 0, 0, fmt.Errorf("calibrate: percentile %g outside (0, 100]", p)
		}
		t = s.percentile(p / 100)
	case KL:
		t = s.entropyThreshold()
	case Cosine:
		t = s.cosineThreshold()
	default:
		return 0, 0, fmt.Errorf("calibrate: unknown method %q (minmax, percentile, kl or cosine)", opt.Method)
	}
	lo, hi = max(lo, -t), min(hi, t)
	lo, hi = min(lo, 0), max(hi, 0)
	if hi-lo < 1e-8 {
		hi = lo + 1e-8
	}
	return lo, hi, nil
}

func isBad(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }

func (s *Stats) binWidth() float64 { return float64(s.Bound) / Bins }

// percentile returns the value of |x| below which fraction p of the values lie.
func (s *Stats) percentile(p float64) float32 {
	if s.Bound == 0 {
		return 0
	}
	want := p * float64(s.Count)
	cum := float64(s.Zeros)
	for i, c := range s.Hist {
		cum += c
		if cum >= want {
			return float32(float64(i+1) * s.binWidth())
		}
	}
	return s.Bound
}

// Signed reports whether the tensor took negative values.
func (s *Stats) Signed() bool { return s.Min < 0 }

// levels is the number of quantization levels that cover [0, threshold]: 128 for a signed tensor
// (half of int8), 256 for a non-negative one.
func (s *Stats) levels() int {
	if s.Signed() {
		return 128
	}
	return 256
}

// entropyThreshold is TensorRT's entropy calibration over the |x| histogram.
func (s *Stats) entropyThreshold() float32 {
	if s.Bound == 0 {
		return 0
	}
	nq := s.levels()
	last := Bins
	for last > 0 && s.Hist[last-1] == 0 {
		last--
	}
	if last <= nq {
		return float32(float64(last) * s.binWidth())
	}
	best, bestI := math.Inf(1), last
	p := make([]float64, Bins)
	q := make([]float64, Bins)
	for i := nq; i <= last; i++ {
		// Reference: the first i bins, the outliers added to the last one.
		copy(p, s.Hist[:i])
		var outliers float64
		for _, c := range s.Hist[i:] {
			outliers += c
		}
		p[i-1] += outliers
		// Candidate: the first i bins merged into nq levels, each level's mass spread over its
		// non-empty bins.
		clear(q[:i])
		for j := range nq {
			start, end := j*i/nq, (j+1)*i/nq
			var sum float64
			nonzero := 0
			for k := start; k < end; k++ {
				sum += s.Hist[k]
				if s.Hist[k] != 0 {
					nonzero++
				}
			}
			if nonzero == 0 {
				continue
			}
			for k := start; k < end; k++ {
				if s.Hist[k] != 0 {
					q[k] = sum / float64(nonzero)
				}
			}
		}
		if kl := divergence(p[:i], q[:i]); kl < best {
			best, bestI = kl, i
		}
	}
	return float32((float64(bestI) + 0.5) * s.binWidth())
}

// divergence is KL(p || q) of the normalised histograms; q's empty bins where p has mass get a
// small epsilon, as TensorRT does.
func divergence(p, q []float64) float64 {
	var sp, sq float64
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	if sp == 0 || sq == 0 {
		return math.Inf(1)
	}
	var kl float64
	for i := range p {
		if p[i] == 0 {
			continue
		}
		pi := p[i] / sp
		qi := q[i] / sq
		if qi == 0 {
			qi = 1e-10
		}
		kl += pi * math.Log(pi/qi)
	}
	return kl
}

// cosineThreshold maximises the estimated cosine similarity between x and its quantization:
// inside [-t, t] the rounding error is uniform (variance step²/12) and uncorrelated with x; beyond
// it x becomes ±t.
func (s *Stats) cosineThreshold() float32 {
	if s.Bound == 0 {
		return 0
	}
	w := s.binWidth()
	steps := float64(2*s.levels() - 1) // levels over [-t, t] (signed) or [0, t] (unsigned: 255)
	if !s.Signed() {
		steps = 255
	} else {
		steps /= 2 // 127.5 steps cover [0, t]
	}
	best, bestT := -1.0, float64(s.Bound)
	for i := Bins / 16; i <= Bins; i += 4 {
		t := float64(i) * w
		step := t / steps
		var sxx, sxq, sqq float64
		for b, c := range s.Hist {
			if c == 0 {
				continue
			}
			x := (float64(b) + 0.5) * w
			sxx += c * x * x
			if x <= t {
				sxq += c * x * x
				sqq += c * (x*x + step*step/12)
			} else {
				sxq += c * x * t
				sqq += c * t * t
			}
		}
		if sqq == 0 {
			continue
		}
		if cos := sxq / math.Sqrt(sxx*sqq); cos > best {
			best, bestT = cos, t
		}
	}
	return float32(bestT)
}

// Names returns the observed tensor names, sorted.
func (o *Observer) Names() []string {
	names := make([]string, 0, len(o.Stats))
	for n := range o.Stats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

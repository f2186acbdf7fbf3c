package runtime

import (
	kernels "github.com/edgeinfer/edgeinfer/kernels_arm"
)

// This file chooses fast kernels (kernels_arm: NEON assembly on arm64, their Go twins elsewhere) at
// prepare time, for the ops and parameters they implement. Everything else, and every op when
// Options.Generic is set, runs the generic implementation of its file: the reference that the
// differential tests compare the fast kernels against.

// fastScale returns the per-channel float scales to hand to a kernel in XNNPACK mode, nil otherwise.
func fastScale(q *channelQuant) []float32 {
	if q.fp32 {
		return q.scale
	}
	return nil
}

// needScratch records that each worker needs n bytes of scratch.
func (c *opContext) needScratch(n int) {
	c.it.scratchSize = max(c.it.scratchSize, n)
}

// fastConv prepares kernels.Conv for a convolution; ok is false when the generic kernel must run.
func (c *opContext) fastConv(cp *convParams, w []int8) (*kernels.Conv, bool) {
	if c.opt.Generic {
		return nil, false
	}
	k, err := kernels.NewConv(kernels.ConvParams{
		InH: cp.inH, InW: cp.inW, InC: cp.inC, OutH: cp.outH, OutW: cp.outW, OutC: cp.outC,
		KH: cp.kh, KW: cp.kw, StrideH: cp.sh, StrideW: cp.sw, DilH: cp.dh, DilW: cp.dw,
		PadTop: cp.padTop, PadLeft: cp.padLeft,
		InZero: cp.inZero, Weights: w, WeightZero: cp.q.weightZero, Bias: cp.bias,
		Mult: cp.q.mult, Shift: cp.q.shift, Scale: fastScale(cp.q), OutZero: cp.q.outZero, ActMin: cp.q.lo, ActMax: cp.q.hi,
	})
	if err != nil {
		return nil, false
	}
	c.needScratch(k.ScratchSize())
	return k, true
}

func (c *opContext) fastDepthwise(cp *convParams, w []int8) (*kernels.Depthwise, bool) {
	if c.opt.Generic {
		return nil, false
	}
	k, err := kernels.NewDepthwise(kernels.DepthwiseParams{
		InH: cp.inH, InW: cp.inW, InC: cp.inC, OutH: cp.outH, OutW: cp.outW,
		KH: cp.kh, KW: cp.kw, StrideH: cp.sh, StrideW: cp.sw, DilH: cp.dh, DilW: cp.dw,
		PadTop: cp.padTop, PadLeft: cp.padLeft, Multiplier: cp.mult,
		InZero: cp.inZero, Weights: w, WeightZero: cp.q.weightZero, Bias: cp.bias,
		Mult: cp.q.mult, Shift: cp.q.shift, Scale: fastScale(cp.q), OutZero: cp.q.outZero, ActMin: cp.q.lo, ActMax: cp.q.hi,
	})
	if err != nil {
		return nil, false
	}
	c.needScratch(k.ScratchSize())
	return k, true
}

func (c *opContext) fastFullyConnected(cp *convParams, w []int8) (*kernels.FullyConnected, bool) {
	if c.opt.Generic {
		return nil, false
	}
	k, err := kernels.NewFullyConnected(kernels.FullyConnectedParams{
		Rows: cp.outH, InC: cp.inC, OutC: cp.outC,
		InZero: cp.inZero, Weights: w, WeightZero: cp.q.weightZero, Bias: cp.bias,
		Mult: cp.q.mult, Shift: cp.q.shift, Scale: fastScale(cp.q), OutZero: cp.q.outZero, ActMin: cp.q.lo, ActMax: cp.q.hi,
	})
	if err != nil {
		return nil, false
	}
	c.needScratch(k.ScratchSize())
	return k, true
}

// kernelName names a fast kernel's instruction path for inspect: "sdot", "neon", "avx2" or "go".
func kernelName(path string) string {
	if path == "generic" {
		return "go"
	}
	return path
}

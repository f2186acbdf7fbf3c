package kernels

// FullyConnectedParams describes TensorFlow Lite's int8 FULLY_CONNECTED: Rows input vectors of
// InC values, each multiplied by the OutC x InC weights, requantized as in ConvParams (by Mult and
// Shift, or by Scale in float32 when Scale is set).
type FullyConnectedParams struct {
	Rows, InC, OutC         int // Rows 0 means 1
	InZero                  int32
	Weights                 []int8  // [OutC][InC]
	WeightZero              []int32 // len 1 or OutC
	Bias                    []int32 // len OutC, or nil
	Mult, Shift             []int32 // per output channel (or 1 for all)
	OutZero, ActMin, ActMax int32
	Scale                   []float32 // if not nil: fp32 requantization (ConvParams.Scale)
}

// FullyConnected is a fully connected layer: a 1x1 convolution over Rows pixels, so that one row
// runs the single-row GEMM kernels (gemmSDOT1, gemmMLAL1) and several the 4-row ones.
type FullyConnected struct {
	*Conv
}

// NewFullyConnected validates p and packs its weights for the current path.
func NewFullyConnected(p FullyConnectedParams) (*FullyConnected, error) {
	rows := p.Rows
	if rows == 0 {
		rows = 1
	}
	c, err := newConv("fully connected", ConvParams{
		InH: rows, InW: 1, InC: p.InC, OutH: rows, OutW: 1, OutC: p.OutC,
		KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
		InZero: p.InZero, Weights: p.Weights, WeightZero: p.WeightZero, Bias: p.Bias, Mult: p.Mult, Shift: p.Shift,
		OutZero: p.OutZero, ActMin: p.ActMin, ActMax: p.ActMax, Scale: p.Scale,
	})
	if err != nil {
		return nil, err
	}
	return &FullyConnected{c}, nil
}

// Run computes output rows [r0, r1) (see Conv.Run).
func (f *FullyConnected) Run(dst, src, scratch []int8, r0, r1 int) {
	f.Conv.Run(dst, src, scratch, r0, r1)
}

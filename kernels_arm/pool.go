package kernels

// PoolParams describes a global average pooling: TensorFlow Lite's int8 AVERAGE_POOL_2D with the
// window covering the whole H x W input (reference/integer_ops/pooling.h). Input and output share
// their quantization, as TensorFlow Lite requires.
type PoolParams struct {
	H, W, C        int
	ActMin, ActMax int32
	// RoundHalfUp rounds ties toward +infinity, floor((sum + n/2) / n), as TensorFlow Lite's uint8
	// kernel (reference_ops::AveragePool) does on the values of a model converted from uint8;
	// otherwise ties round away from zero (the int8 kernel).
	RoundHalfUp bool
}

// GlobalAveragePool writes to dst[c] the mean of channel c of src (H*W*C, NHWC) rounded as
// TensorFlow Lite does (PoolParams.RoundHalfUp), clamped to [ActMin, ActMax]. It does not allocate.
func GlobalAveragePool(dst, src []int8, p *PoolParams) error {
	if p.H <= 0 || p.W <= 0 || p.C <= 0 || !sizeOK(p.H, p.W, p.C) || p.H*p.W > 1<<23 {
		return errorf("pool: bad shape %dx%dx%d", p.H, p.W, p.C)
	}
	if p.ActMin < -128 || p.ActMax > 127 || p.ActMin > p.ActMax {
		return errorf("pool: activation range [%d, %d] not within [-128, 127]", p.ActMin, p.ActMax)
	}
	if len(src) != p.H*p.W*p.C || len(dst) != p.C {
		return errorf("pool: %d inputs -> %d outputs, want %d -> %d", len(src), len(dst), p.H*p.W*p.C, p.C)
	}
	n, c := p.H*p.W, p.C
	generic := currentPath() == pathGeneric
	for b := 0; b+16 <= c; b += 16 {
		var sum [16]int32
		sumBlock16(&sum, src[b:], n, c, generic)
		for l, s := range sum {
			dst[b+l] = poolRound(s, n, p)
		}
	}
	for ch := c / 16 * 16; ch < c; ch++ {
		var s int32
		for i := 0; i < n; i++ {
			s += int32(src[i*c+ch])
		}
		dst[ch] = poolRound(s, n, p)
	}
	return nil
}

// SumChannels sets dst[ch] = Σ_i src[i*c+ch] for ch < c, i < pixels: the per-channel sums of an NHWC
// image of pixels pixels of c channels (global average pooling, MEAN over the spatial axes). Whole
// blocks of 16 channels run in assembly (sumPixels16, SADDW, 256 pixels per call), the other channels
// in Go. It does not allocate; it panics if dst or src is too short.
func SumChannels(dst []int32, src []int8, pixels, c int) {
	dst, src = dst[:c], src[:pixels*c]
	if pixels <= 0 {
		clear(dst)
		return
	}
	generic := currentPath() == pathGeneric
	b := 0
	for ; b+16 <= c; b += 16 {
		sum := (*[16]int32)(dst[b:])
		clear(sum[:])
		sumBlock16(sum, src[b:], pixels, c, generic)
	}
	if b < c {
		tail := dst[b:c]
		clear(tail)
		for i := 0; i < pixels; i++ {
			row := src[i*c+b : (i+1)*c]
			for ch, v := range row {
				tail[ch] += int32(v)
			}
		}
	}
}

// sumBlock16 adds to sum the sums of the 16 channels at src[0:16] over n >= 1 pixels c bytes apart:
// sumPixels16 (or its twin) on chunks of at most 256 pixels, the most it takes per call.
func sumBlock16(sum *[16]int32, src []int8, n, c int, generic bool) {
	for i := 0; i < n; i += 256 {
		if generic {
			sumPixels16Generic(&sum[0], &src[i*c], min(256, n-i), c)
		} else {
			sumPixels16(&sum[0], &src[i*c], min(256, n-i), c)
		}
	}
}

// poolRound is TensorFlow Lite's rounding of the average: half away from zero with C division, or
// half up with floor division (RoundHalfUp: the uint8 kernel's (acc + n/2) / n on acc + 128n >= 0).
func poolRound(acc int32, n int, p *PoolParams) int8 {
	cnt := int32(n)
	if p.RoundHalfUp {
		q := acc + cnt/2
		acc = q / cnt
		if q%cnt < 0 {
			acc--
		}
		return int8(max(p.ActMin, min(acc, p.ActMax)))
	}
	if acc > 0 {
		acc = (acc + cnt/2) / cnt
	} else {
		acc = (acc - cnt/2) / cnt
	}
	return int8(max(p.ActMin, min(acc, p.ActMax)))
}

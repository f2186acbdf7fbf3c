package graph

import (
	"runtime"
	"sync"
	"weak"
)

// convInto computes an NCHW convolution into out, already shaped [N, M, OH, OW]: depthwise
// convolutions (one input channel per group) by a direct loop, all others as im2col followed by
// sgemm. A batch (N > 1) goes through one GEMM per group for as many images as the im2col budget
// holds, so that the weights are streamed once per batch rather than once per image (most of the
// time of a small-input network such as a CIFAR-10 RepVGG, whose 31 MB of weights are multiplied
// by only 4 to 256 pixels each); each output is still the same sum, in the same order, as for one
// image alone. A single image's 1x1 stride-1 unpadded convolution reads its input as the GEMM
// operand directly. The weights are packed once and kept in n; s holds the reusable buffers:
// nothing is allocated once they have grown and the weights are packed.
func convInto(n *Node, x, wt *Tensor, bias []float32, out *Tensor, ws [2]window, group int, s *gemmScratch) {
	N, CG, KH, KW := x.Shape[0], wt.Shape[1], wt.Shape[2], wt.Shape[3]
	if CG == 1 {
		convDepthwise(x, wt, bias, out, ws, s)
		return
	}
	P := ws[0].out * ws[1].out
	K := CG * KH * KW
	if nb := min(im2colBudget, batchBudget) / max(1, int64(K)*int64(P)); N > 1 && nb > 1 {
		for b := 0; b < N; b += int(nb) {
			convBatch(n, x, wt, bias, out, ws, group, b, min(N, b+int(nb)), s)
		}
		return
	}
	convImages(n, x, wt, bias, out, ws, group, s)
}

// convImages is convInto one image at a time, im2col by chunks of output rows.
func convImages(n *Node, x, wt *Tensor, bias []float32, out *Tensor, ws [2]window, group int, s *gemmScratch) {
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	M, CG, KH, KW := wt.Shape[0], wt.Shape[1], wt.Shape[2], wt.Shape[3]
	OH, OW := ws[0].out, ws[1].out
	P := OH * OW
	MG := M / group
	K := CG * KH * KW
	pointwise := KH == 1 && KW == 1 && ws[0].stride == 1 && ws[1].stride == 1 &&
		ws[0].padBegin == 0 && ws[0].padEnd == 0 && ws[1].padBegin == 0 && ws[1].padEnd == 0
	// im2col goes by chunks of output rows, at most im2colBudget values at a time (at least one row).
	rows := OH
	if per := int64(K) * int64(OW); !pointwise && per > 0 && int64(OH)*per > im2colBudget {
		rows = int(max(1, im2colBudget/per))
	}
	tr := gemmTransposed(MG, rows*OW) // every chunk in the orientation of a whole one
	pk := n.weightsPacked(wt.Data, MG, K, group, tr)
	for b := range N {
		for g := range group {
			xg := x.Data[(b*C+g*CG)*H*W : (b*C+(g+1)*CG)*H*W]
			wg := mat{wt.Data[g*MG*K : (g+1)*MG*K], K, 1}
			for oh0 := 0; oh0 < OH; oh0 += rows {
				oh1 := min(OH, oh0+rows)
				np := (oh1 - oh0) * OW
				col := mat{xg, P, 1}
				if !pointwise {
					s.col = grow(s.col, K*np)
					im2col(s.col, np, xg, CG, H, W, KH, KW, ws, oh0, oh1, s)
					col = mat{s.col, np, 1}
				}
				base := (b*M+g*MG)*P + oh0*OW
				o := mat{out.Data[base : (b*M+(g+1)*MG)*P], P, 1}
				sgemmWeights(MG, np, K, wg, col, o, pk[g], tr, s)
				if bias != nil {
					for m := range MG {
						bv := bias[g*MG+m]
						r := o.data[m*P : m*P+np]
						for i := range r {
							r[i] += bv
						}
					}
				}
			}
		}
	}
}

// convBatch is convInto for images b0 to b1 at once (their im2col within budget): per group, the
// patches of all of them side by side as the columns of one GEMM, its MG×(nb·P) product in s.acc,
// then scattered to each image's output planes with the bias added.
func convBatch(n *Node, x, wt *Tensor, bias []float32, out *Tensor, ws [2]window, group, b0, b1 int, s *gemmScratch) {
	C, H, W := x.Shape[1], x.Shape[2], x.Shape[3]
	M, CG, KH, KW := wt.Shape[0], wt.Shape[1], wt.Shape[2], wt.Shape[3]
	OH := ws[0].out
	P := OH * ws[1].out
	MG := M / group
	K := CG * KH * KW
	np := (b1 - b0) * P
	tr := gemmTransposed(MG, np)
	pk := n.weightsPacked(wt.Data, MG, K, group, tr)
	s.col = grow(s.col, K*np)
	s.acc = grow(s.acc, MG*np)
	col, acc := mat{s.col, np, 1}, mat{s.acc, np, 1}
	for g := range group {
		for b := b0; b < b1; b++ {
			xg := x.Data[(b*C+g*CG)*H*W : (b*C+(g+1)*CG)*H*W]
			im2col(s.col[(b-b0)*P:], np, xg, CG, H, W, KH, KW, ws, 0, OH, s)
		}
		wg := mat{wt.Data[g*MG*K : (g+1)*MG*K], K, 1}
		sgemmWeights(MG, np, K, wg, col, acc, pk[g], tr, s)
		for b := b0; b < b1; b++ {
			for m := range MG {
				src := s.acc[m*np+(b-b0)*P : m*np+(b-b0+1)*P]
				dst := out.Data[(b*M+g*MG+m)*P : (b*M+g*MG+m+1)*P]
				if bias == nil {
					copy(dst, src)
					continue
				}
				bv := bias[g*MG+m]
				for i, v := range src {
					dst[i] = v + bv
				}
			}
		}
	}
}

// im2colBudget bounds the im2col buffer (values); a variable so that tests can force the chunks.
var im2colBudget int64 = 1 << 21

// batchBudget bounds the im2col buffer of a batch (values): as many images go into one GEMM as fit
// (512 KB, so that the patches stay in L2 between im2col and packing).
const batchBudget = 1 << 17

// convPack is a Conv's (or a Gemm's) weights packed for sgemmPacked, one operand per group: A
// (MG×K) for the product in its own orientation, B (K×MG) for the transposed one; each packed
// when first needed (a batch and a single image may want different ones).
type convPack struct {
	w      []float32 // the weights it was packed from
	group  int
	groups [2][]*packed // [0]: as A, [1]: transposed, as B
}

// convPacks holds each Conv and Gemm node's packed weights, keyed by a weak pointer to the node so that an
// entry goes when its node does (graphs are built and dropped freely, as quantize's searches do).
// Keeping the packs beside the graph rather than in Node leaves Node a plain, copyable value.
var convPacks sync.Map // weak.Pointer[Node] → *convPack

// weightsPacked returns n's packed weights w (MG×K per group) in the orientation asked for, packing
// them on first use or when the weights (their backing array) changed: replace an initializer to
// change weights, an in-place change of its values is not seen. Concurrent Runs may both pack;
// either result is the same.
func (n *Node) weightsPacked(w []float32, MG, K, group int, transposed bool) []*packed {
	key := weak.Make(n)
	o := 0
	if transposed {
		o = 1
	}
	v, found := convPacks.Load(key)
	p, _ := v.(*convPack)
	if p != nil && len(p.w) == len(w) && len(w) > 0 && &p.w[0] == &w[0] && p.group == group {
		if p.groups[o] != nil {
			return p.groups[o]
		}
		q := *p // never modify a published pack: concurrent Runs read it
		p = &q
	} else {
		p = &convPack{w: w, group: group}
	}
	gs := make([]*packed, group)
	for g := range group {
		wg := mat{w[g*MG*K : (g+1)*MG*K], K, 1}
		if transposed {
			gs[g] = packAll(wg.t(), K, MG, false)
		} else {
			gs[g] = packAll(wg, MG, K, true)
		}
	}
	p.groups[o] = gs
	convPacks.Store(key, p)
	if !found {
		runtime.AddCleanup(n, func(k weak.Pointer[Node]) { convPacks.Delete(k) }, key)
	}
	return gs
}

// im2col writes the K×P matrix of input patches of one group (C channels of H×W), for output rows
// oh0 to oh1 (P = (oh1-oh0)·OW pixels), to dst with rows ld values apart (ld ≥ P): row
// (c·KH + kh)·KW + kw holds, for each output pixel, the input value its tap (c, kh, kw) reads, or
// 0 where it reads padding. Row order is the weights' (c, kh, kw) order.
//
// Short output rows (fewer than im2colGatherRow pixels, as in the 2x2 to 8x8 maps of a CIFAR-10
// network) go through im2colGather with buffers from s; longer ones are copied row by row.
func im2col(dst []float32, ld int, x []float32, C, H, W, KH, KW int, ws [2]window, oh0, oh1 int, s *gemmScratch) {
	OW := ws[1].out
	if OW < im2colGatherRow {
		im2colGather(dst, ld, x, C, H, W, KH, KW, ws, oh0, oh1, &s.tab, &s.pad)
		return
	}
	P := ld
	sh, sw := ws[0].stride, ws[1].stride
	// The geometry of a tap (kh, kw) and an output row is the same for every channel: work it
	// out once and walk the channels innermost (convolutions with few output pixels and many
	// channels would otherwise spend their time here, not on the copies).
	for kh := range KH {
		for kw := range KW {
			off := kw*ws[1].dil - ws[1].padBegin
			// Valid ow: 0 <= ow*sw + off < W.
			ow0 := 0
			if off < 0 {
				ow0 = min(OW, (-off+sw-1)/sw)
			}
			ow1 := OW
			if lim := W - off; lim <= 0 {
				ow1 = 0
			} else if e := (lim + sw - 1) / sw; e < ow1 {
				ow1 = e
			}
			ow1 = max(ow0, ow1)
			for oh := oh0; oh < oh1; oh++ {
				ih := oh*sh - ws[0].padBegin + kh*ws[0].dil
				inside := ih >= 0 && ih < H
				at := (kh*KW+kw)*P + (oh-oh0)*OW // row (c, kh, kw) of channel c is at + c*KH*KW*P
				for c := range C {
					row := dst[at+c*KH*KW*P : at+c*KH*KW*P+OW]
					if !inside {
						clear(row)
						continue
					}
					for i := range ow0 {
						row[i] = 0
					}
					for i := ow1; i < OW; i++ {
						row[i] = 0
					}
					xr := x[c*H*W+ih*W : c*H*W+(ih+1)*W]
					switch {
					case sw == 1 && ow1-ow0 >= 16:
						copy(row[ow0:ow1], xr[ow0+off:ow1+off])
					case sw == 1:
						for i := ow0; i < ow1; i++ {
							row[i] = xr[i+off]
						}
					default:
						for i := ow0; i < ow1; i++ {
							row[i] = xr[i*sw+off]
						}
					}
				}
			}
		}
	}
}

// im2colGatherRow is the output row length from which im2col copies rows rather than gathering (a
// variable so that tests can run every shape both ways).
var im2colGatherRow = 16

// im2colGather is im2col through a table: the C channel planes are first copied with their zero
// border into pad, then for each tap (kh, kw) and output pixel the table holds the offset in a
// bordered plane that it reads, worked out once and applied to every channel without a test. The
// per-row work of im2col (bounds, clears) would otherwise cost more than the copies of rows of two
// to eight values.
func im2colGather(dst []float32, ld int, x []float32, C, H, W, KH, KW int, ws [2]window, oh0, oh1 int, tab *[]int32, pad *[]float32) {
	OW := ws[1].out
	np := (oh1 - oh0) * OW
	taps := KH * KW
	ph, pw := ws[0].padBegin, ws[1].padBegin
	// The bordered plane: rows -ph to the last one read (or H), columns -pw to the last one read.
	HP := ph + max(H, (oh1-1)*ws[0].stride-ph+(KH-1)*ws[0].dil+1)
	WP := pw + max(W, (OW-1)*ws[1].stride-pw+(KW-1)*ws[1].dil+1)
	if cap(*tab) < taps*np {
		*tab = make([]int32, taps*np)
	}
	*pad = grow(*pad, C*HP*WP)
	t, xp := (*tab)[:taps*np], *pad
	clear(xp)
	for c := range C {
		for ih := range H {
			copy(xp[(c*HP+ih+ph)*WP+pw:], x[(c*H+ih)*W:(c*H+ih+1)*W])
		}
	}
	for kh := range KH {
		for kw := range KW {
			row := t[(kh*KW+kw)*np : (kh*KW+kw+1)*np]
			for oh := oh0; oh < oh1; oh++ {
				r := oh*ws[0].stride + kh*ws[0].dil // row in the bordered plane
				for ow := range OW {
					row[(oh-oh0)*OW+ow] = int32(r*WP + ow*ws[1].stride + kw*ws[1].dil)
				}
			}
		}
	}
	for c := range C {
		xc := xp[c*HP*WP : (c+1)*HP*WP]
		for tp := range taps {
			d := dst[(c*taps+tp)*ld : (c*taps+tp)*ld+np]
			for i, o := range t[tp*np : (tp+1)*np] {
				d[i] = xc[o]
			}
		}
	}
}

// convDepthwise computes a convolution with one input channel per group (depthwise, with any
// channel multiplier) directly: each output is bias + Σ_{kh, kw} w·x, in (kh, kw) order. A padded
// input plane is first copied into s with its zero border, so that the loops need no bounds tests;
// the padding's taps then add w·0, which changes no sum (only, at most, the sign of a zero).
func convDepthwise(x, wt *Tensor, bias []float32, out *Tensor, ws [2]window, s *gemmScratch) {
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	M, KH, KW := wt.Shape[0], wt.Shape[2], wt.Shape[3]
	OH, OW := ws[0].out, ws[1].out
	MG := M / C
	sh, sw := ws[0].stride, ws[1].stride
	dh, dw := ws[0].dil, ws[1].dil
	ph, pw := ws[0].padBegin, ws[1].padBegin
	// The padded input the windows read: HP×WP from (-ph, -pw).
	HP := (OH-1)*sh + (KH-1)*dh + 1
	WP := (OW-1)*sw + (KW-1)*dw + 1
	direct := ph == 0 && pw == 0 && HP <= H && WP <= W
	src, stride := []float32(nil), W
	for b := range N {
		for m := range M {
			xc := x.Data[(b*C+m/MG)*H*W : (b*C+m/MG+1)*H*W]
			switch {
			case direct:
				src = xc
			case m%MG == 0: // a new input channel
				s.col = grow(s.col, HP*WP)
				clear(s.col)
				q0, q1 := pw, min(WP, W+pw)
				for r := range HP {
					if ih := r - ph; ih >= 0 && ih < H && q0 < q1 {
						copy(s.col[r*WP+q0:r*WP+q1], xc[ih*W:ih*W+q1-pw])
					}
				}
				src, stride = s.col, WP
			}
			w := wt.Data[m*KH*KW : (m+1)*KH*KW]
			plane := out.Data[(b*M+m)*OH*OW : (b*M+m+1)*OH*OW]
			var bv float32
			if bias != nil {
				bv = bias[m]
			}
			if KH == 3 && KW == 3 && OW < 8 {
				depthwise3x3Small(plane, src, stride, w, bv, OH, OW, sh, sw, dh, dw)
				continue
			}
			for oh := range OH {
				row := plane[oh*OW : (oh+1)*OW]
				for i := range row {
					row[i] = bv
				}
				for kh := range KH {
					xr := src[(oh*sh+kh*dh)*stride:]
					if KW == 3 {
						depthwiseRow3(row, xr, w[kh*3:kh*3+3], sw, dw)
						continue
					}
					wr := w[kh*KW : (kh+1)*KW]
					for i := range row {
						acc := row[i]
						for kw, wv := range wr {
							acc += wv * xr[i*sw+kw*dw]
						}
						row[i] = acc
					}
				}
			}
		}
	}
}

// depthwise3x3Small is convDepthwise's loop for a 3x3 kernel on rows too short for the AVX2 row
// kernel (OW < 8: the 8x8 to 2x2 maps of a CIFAR-10 network), all nine taps of an output at once
// instead of three calls per row: the same sums in the same order (bias, then the taps in (kh, kw)
// order, one rounding per product and per sum), so bit for bit the row loop's result.
func depthwise3x3Small(plane, src []float32, stride int, w []float32, bv float32, OH, OW, sh, sw, dh, dw int) {
	w = w[:9]
	for oh := range OH {
		r0 := src[oh*sh*stride:]
		r1 := src[(oh*sh+dh)*stride:]
		r2 := src[(oh*sh+2*dh)*stride:]
		for i, j := 0, 0; i < OW; i, j = i+1, j+sw {
			acc := bv
			acc += w[0] * r0[j]
			acc += w[1] * r0[j+dw]
			acc += w[2] * r0[j+2*dw]
			acc += w[3] * r1[j]
			acc += w[4] * r1[j+dw]
			acc += w[5] * r1[j+2*dw]
			acc += w[6] * r2[j]
			acc += w[7] * r2[j+dw]
			acc += w[8] * r2[j+2*dw]
			plane[oh*OW+i] = acc
		}
	}
}

// depthwiseRow3 adds one kernel row of three taps to dst: dst[i] += w0·x[i·sw] + w1·x[i·sw+dw] +
// w2·x[i·sw+2dw], left to right. With stride 1 the AVX2 kernel takes whole groups of eight (fused
// multiply-adds: one rounding per tap instead of two), this loop the rest.
func depthwiseRow3(dst, x []float32, w []float32, sw, dw int) {
	if len(dst) == 0 {
		return
	}
	x = x[:(len(dst)-1)*sw+2*dw+1]
	w0, w1, w2 := w[0], w[1], w[2]
	i := 0
	if sw == 1 && useFloatAsm && len(dst) >= 8 {
		i = len(dst) &^ 7
		depthwiseRow3Asm(i, &dst[0], &x[0], (*[3]float32)(w), dw)
	}
	for ; i < len(dst); i++ {
		acc := dst[i]
		acc += w0 * x[i*sw]
		acc += w1 * x[i*sw+dw]
		acc += w2 * x[i*sw+2*dw]
		dst[i] = acc
	}
}

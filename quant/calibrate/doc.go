// Package calibrate collects per-tensor statistics of a float graph's activations over
// calibration inputs (Observer) and chooses each tensor's quantization range from them (Choose):
//
//   - MinMax: the observed range;
//   - Percentile: clip |x| at a percentile (99.99 by default) of its distribution;
//   - KL: TensorRT's entropy calibration: the clipping threshold whose 8-bit quantized histogram
//     (128 levels for signed tensors, 256 for non-negative ones) is closest to the observed
//     2048-bin histogram in Kullback-Leibler divergence;
//   - Cosine: the threshold that maximises the cosine similarity between a tensor and its
//     quantized self, estimated from the histogram (rounding error step²/12 inside the range,
//     clipping error outside). quant/quantize's "eq" method refines this per layer, by the
//     similarity of the layer's output (ncnn's idea).
//
// Histograms hold |x| in 2048 bins from 0 to a bound that doubles (merging bin pairs) whenever a
// larger value arrives, so one pass over the calibration set suffices.
package calibrate

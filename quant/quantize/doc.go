// Package quantize turns a float quant/graph model into an int8 models.Model that runtime executes
// with TensorFlow Lite's integer semantics:
//
//   - Calibrate simplifies nothing itself: give it a graph that quant/transform.Simplify has
//     prepared. It runs the graph (quant/graph) over calibration images, preprocessed as the
//     model file will say (models.Preprocess: resize, torchvision mean/std), and collects each
//     tensor's statistics (quant/calibrate) and a few full runs for the "eq" search;
//   - Quantize chooses every activation's range by the chosen method (minmax, percentile, kl,
//     eq; eq by default, Default), quantizes weights per output channel, symmetric in [-127, 127] (or per tensor, the
//     naive baseline), biases to int32 at scale s_in*s_w[c], activations to asymmetric int8,
//     fused ReLU/ReLU6 as clamps, and lowers NCHW ops to NHWC models ops (Conv2D,
//     DepthwiseConv2D, FullyConnected, Add, Mean, pools (ceil_mode as extra end padding),
//     Reshape, Concatenation, Pad, Transpose, Slice), tracking the order each model tensor holds
//     the graph's dimensions in so that transposes, reshapes, slices and splits move as little
//     data as they can (shuffle.go);
//   - the "eq" method picks, for each tensor that feeds convolutions or fully connected layers,
//     the clipping threshold whose quantization gives those layers' float outputs the highest
//     cosine similarity on calibration samples (ncnn's idea), with quantized weights;
//   - bias correction runs the int8 model on calibration images and removes the mean error per
//     output channel of each convolution from its int32 bias (layer by layer, in order);
//   - CompareLayers measures each int8 tensor against the float graph (SQNR, cosine similarity),
//     and FloatClassifier / Int8Classifier score images for accuracy measurements.
package quantize

// Package camera turns what a camera or a file gives into a model's input tensor: image decoding,
// cropping, resizing, normalisation and quantization, following the preprocessing stored in the
// model (models.Preprocess).
//
// Live sources (V4L2 webcams, the Pi camera through rpicam-vid, streams) are added on top of this.
package camera

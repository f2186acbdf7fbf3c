// Package dataset reads labelled image sets for calibration and evaluation: a directory of
// images with one subdirectory per class (torchvision's ImageFolder convention) or a CIFAR-10
// binary batch (records of 1 label byte then 1024 R, 1024 G and 1024 B bytes, 32x32 row-major),
// whose class names come from batches.meta.txt beside it when present, a directory of such batches
// (CIFAR-10's cifar-10-batches-bin: its data_batch_*.bin, read as one set), or a CIFAR-10 JPEG pack
// (the project's train_jpeg.pack: "C10JPEG1", then label, length and JPEG per image).
package dataset

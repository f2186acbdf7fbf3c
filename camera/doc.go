// Package camera gets frames from cameras, files and streams and turns them into a model's input
// tensor in one pass: pixel-format conversion, crop, resize, normalisation and quantization,
// following the preprocessing stored in the model (models.Preprocess).
//
// # Sources
//
// A Source gives Frames (pixel format, size, stride, colour space, timestamp, sequence number). Open
// makes one from a string, as the CLI's --source flag takes it:
//
//	auto                                   the first V4L2 capture device, else the test pattern
//	v4l2:/dev/video0?size=640x480&fps=30&format=yuyv&buffers=4&timeout=5s
//	/dev/video0                            the same with the device's current format
//	rpicam:?size=1280x720&fps=30&codec=yuv420&stride=1280&cmd=libcamera-vid&args=--rotation+180
//	file:photo.jpg?loop=1&fps=5            one image (once, or looping); a bare path works too
//	dir:images/?fps=2                      the images of a directory in name order, looping
//	http://camera.local/video.mjpg         MJPEG over HTTP (multipart/x-mixed-replace) or a JPEG URL
//	pattern:?size=640x480&fps=30&format=yu12   generated colour bars with a moving square
//
// Formats are yuyv, mjpeg, nv12, yu12 (i420) and rgb24. V4L2 (package camera/v4l2, no cgo) streams
// through mmap buffers and always returns the newest filled buffer; rpicam runs rpicam-vid -t 0 -n
// --codec yuv420|mjpeg ... -o - and reads its standard output honouring the stride padding. Live
// sources are reopened with backoff when they fail after having worked (a USB camera unplugged,
// rpicam-vid crashed, a stream cut); a source that fails before its first frame reports the error.
// Errors that spoil one frame are *FrameError and the stream goes on.
//
// Latest wraps a source so that a slow consumer always gets the newest frame: inference never falls
// behind the camera.
//
// # Preprocessing
//
// Preprocessor.FillFrame converts only the source pixels the resize reads (bilinear: two per
// output pixel and row; nearest: one; area: all of them), from YUYV, YU12, NV12 or RGB24, straight
// into the int8 or uint8 input tensor through a per-channel table that does the mean/std
// normalisation and quantization. The crop is the model's central fraction, or a region of interest
// (SetRegion). After the first frame of a size nothing is allocated. YUV is converted with BT.601 or
// BT.709 limited range or JPEG full range, in 16.16 fixed point (see convert.go), as the frame says.
package camera

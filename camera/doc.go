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
//	http://cam/video.mjpg#max_pixels=8388608&max_frame_bytes=4MiB&start_timeout=30s
//	pattern:?size=640x480&fps=30&format=yu12   generated colour bars with a moving square
//
// A pattern: without fps= runs at Options.PatternFPS: PatternRate (30, as 'auto' runs it) for the
// command-line tools, as fast as it is read for 'edgeinfer run'; fps=0 always means unthrottled.
//
// Formats are yuyv, mjpeg, nv12, yu12 (i420) and rgb24. V4L2 (package camera/v4l2, no cgo) streams
// through mmap buffers and always returns the newest filled buffer; rpicam runs rpicam-vid -t 0 -n
// --codec yuv420|mjpeg ... -o - and reads its standard output honouring the stride padding. Live
// sources are reopened with backoff when they fail after having worked (a USB camera unplugged,
// rpicam-vid crashed, a stream cut). Errors that spoil one frame are *FrameError and the stream goes
// on.
//
// # Starting, losing and limits
//
// A live source (v4l2, rpicam, http) that cannot be opened, or fails before its first frame, is
// retried the same way for start_timeout: a duration, 0 (report the first error at once) or
// forever. The default is Options.StartTimeout: 0 for the command-line tools (classify, camera
// snap), forever for 'edgeinfer run', which waits for a camera that is not up yet. Options.OnState
// is told when a source is lost (being reopened, or none of its files readable) and when it gives
// frames again.
//
// A file or directory source whose images all fail to load (removed, say) waits before each new
// attempt, 100 ms doubling to 5 s (Options.Backoff), instead of returning bad frames as fast as it
// can; a directory is listed again at the end of each pass (at most once a second while its images
// load), so images added later are seen, and an emptied directory is waited for.
//
// Input is bounded before it is decoded. MJPEG over HTTP reads a part no further than
// max_frame_bytes (default DefaultMaxFrameBytes, 1 MiB; KiB and MiB suffixes): a longer part is a
// *FrameError, skipped if it ends within 8 times the limit, else the connection is dropped and
// opened again. Its frames' size is read from the JPEG header and a frame of more than max_pixels
// (default DefaultStreamPixels, 2 Mpx: 1920x1080) is a *FrameError; progressive JPEGs are refused
// (MJPEG is baseline JPEG, and decoding a progressive one keeps all its coefficients). These
// defaults keep 'edgeinfer run' under 64 MB of RSS whatever the camera sends; 4K frames need
// max_pixels=8388608 and take it to about 63 MB. An HTTP URL's query is the camera's, so
// edgeinfer's parameters follow a # (the fragment, never sent). Files and directories take
// max_pixels too (default MaxImagePixels, 64 Mpx).
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
//
// The resizes are exact integer arithmetic in separable stages (bilinear.go, area.go): bilinear with
// 16-bit weights, within 0.51 of the real-valued interpolation of the converted pixels; area with
// integer coverage weights, the exact box average rounded to nearest. On arm64 (GOARCH=arm64, gc,
// not purego) the stages run NEON assembly for YUYV, YU12, NV12, RGB24, RGBA images and decoded
// JPEGs (area: 4:2:0 and 4:2:2 chroma) —
// bilinear_arm64.s, area_arm64.s — giving the same bytes as the pure-Go twins (bilinear_generic.go)
// that run elsewhere; the tests compare the two under qemu-aarch64 for each CPU model. A YUYV
// 640x480 frame to a 224x224 int8 input takes about 2.1 M instructions bilinear and 5.1 M area on a
// Cortex-A72 (camera/insncount.sh; README.md, Performance).
package camera

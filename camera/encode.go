package camera

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
)

// NewFrame allocates a frame of the given format and size; stride 0 means tightly packed.
func NewFrame(format PixelFormat, width, height, stride int) (*Frame, error) {
	if stride == 0 {
		stride = MinStride(format, width)
	}
	if format == YU12 && stride%2 != 0 {
		stride++
	}
	f := &Frame{Format: format, Width: width, Height: height, Stride: stride}
	size := FrameSize(format, width, height, stride)
	if size == 0 {
		return nil, fmt.Errorf("camera: cannot make %s frames", format)
	}
	f.Data = make([]byte, size)
	return f, f.check()
}

// Encode writes img (its top-left Width x Height pixels) into f in f's format and colour space,
// averaging chroma over each 2x1 (YUYV) or 2x2 (YU12, NV12) block. It allocates nothing for an
// *image.RGBA. It is how test patterns and fakes make camera frames.
func (f *Frame) Encode(img *image.RGBA) error {
	if err := f.check(); err != nil {
		return err
	}
	b := img.Rect
	if b.Dx() < f.Width || b.Dy() < f.Height {
		return fmt.Errorf("camera: %dx%d image is smaller than the %dx%d frame", b.Dx(), b.Dy(), f.Width, f.Height)
	}
	px := func(x, y int) (r, g, b int32) {
		x, y = min(x, f.Width-1), min(y, f.Height-1)
		p := img.Pix[img.PixOffset(img.Rect.Min.X+x, img.Rect.Min.Y+y):]
		return int32(p[0]), int32(p[1]), int32(p[2])
	}
	full := f.ColorSpace == JPEG
	kr, kb := int64(19595), int64(7471) // BT.601 in 16.16
	if f.ColorSpace == BT709 {
		kr, kb = 13933, 4732
	}
	kg := 65536 - kr - kb
	luma := func(r, g, b int32) byte {
		y := kr*int64(r) + kg*int64(g) + kb*int64(b) // 16.16, 0..255
		if !full {
			y = y*219/255 + 16<<16
		}
		return clamp8(int32((y + 1<<15) >> 16))
	}
	chroma := func(r, g, b int32) (byte, byte) {
		y := kr*int64(r) + kg*int64(g) + kb*int64(b)
		cb := (int64(b)<<16 - y) * 32768 / (65536 - kb) // (B-Y)/(2(1-kb)), 16.16
		cr := (int64(r)<<16 - y) * 32768 / (65536 - kr)
		if !full {
			cb, cr = cb*224/255, cr*224/255
		}
		return clamp8(int32((cb + 128<<16 + 1<<15) >> 16)), clamp8(int32((cr + 128<<16 + 1<<15) >> 16))
	}
	avg := func(xs, ys []int) (u, v byte) {
		var r, g, b int32
		for _, y := range ys {
			for _, x := range xs {
				pr, pg, pb := px(x, y)
				r, g, b = r+pr, g+pg, b+pb
			}
		}
		n := int32(len(xs) * len(ys))
		return chroma((r+n/2)/n, (g+n/2)/n, (b+n/2)/n)
	}
	var xs2, ys2 [2]int
	switch f.Format {
	case RGB24:
		for y := 0; y < f.Height; y++ {
			for x := 0; x < f.Width; x++ {
				r, g, b := px(x, y)
				o := y*f.Stride + 3*x
				f.Data[o], f.Data[o+1], f.Data[o+2] = byte(r), byte(g), byte(b)
			}
		}
	case YUYV:
		for y := 0; y < f.Height; y++ {
			for x := 0; x < f.Width; x += 2 {
				o := y*f.Stride + 2*x
				r, g, b := px(x, y)
				f.Data[o] = luma(r, g, b)
				r, g, b = px(x+1, y)
				f.Data[o+2] = luma(r, g, b)
				xs2, ys2 = [2]int{x, x + 1}, [2]int{y, y}
				f.Data[o+1], f.Data[o+3] = avg(xs2[:], ys2[:1])
			}
		}
	case YU12, NV12:
		for y := 0; y < f.Height; y++ {
			for x := 0; x < f.Width; x++ {
				r, g, b := px(x, y)
				f.Data[y*f.Stride+x] = luma(r, g, b)
			}
		}
		cs, ch := f.Stride/2, (f.Height+1)/2
		for y := 0; y < f.Height; y += 2 {
			for x := 0; x < f.Width; x += 2 {
				xs2, ys2 = [2]int{x, x + 1}, [2]int{y, y + 1}
				u, v := avg(xs2[:], ys2[:])
				if f.Format == YU12 {
					o := f.Stride*f.Height + (y/2)*cs + x/2
					f.Data[o], f.Data[o+cs*ch] = u, v
				} else {
					o := f.Stride*f.Height + (y/2)*f.Stride + x
					f.Data[o], f.Data[o+1] = u, v
				}
			}
		}
	default:
		return fmt.Errorf("camera: cannot encode %s frames", f.Format)
	}
	return nil
}

// Image converts the frame to an image (decoding MJPEG). It allocates: it is for snapshots, not for
// the per-frame path.
func (f *Frame) Image() (image.Image, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if f.Format == MJPEG {
		img, err := jpeg.Decode(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("camera: MJPEG frame %d: %w", f.Sequence, err)
		}
		return img, nil
	}
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	xs := make([]int32, f.Width)
	for i := range xs {
		xs[i] = int32(i)
	}
	row := make([]byte, 3*f.Width)
	g := gatherer(f.Format)
	for y := 0; y < f.Height; y++ {
		g(f, y, xs, row)
		out := img.Pix[y*img.Stride:]
		for x := 0; x < f.Width; x++ {
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 255
		}
	}
	return img, nil
}

// rgbaOf returns img as *image.RGBA (converting).
func rgbaOf(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	b := img.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, img, b.Min, draw.Src)
	return r
}

// encodeJPEG writes img as a JPEG of quality 90.
func encodeJPEG(w io.Writer, img image.Image) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 90})
}

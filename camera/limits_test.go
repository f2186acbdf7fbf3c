package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/models"
)

// hugeJPEG is a valid small JPEG whose frame header (SOF) claims w x h pixels: DecodeConfig
// reports w x h, and decoding it would allocate for all of them before finding the data short.
func hugeJPEG(t *testing.T, w, h int) []byte {
	return patchSOF(t, writeJPEG(t, "", 16, 16), 0xc0, w, h)
}

// patchSOF rewrites the JPEG's frame header: its marker (0xc0 baseline, 0xc2 progressive) and size.
func patchSOF(t *testing.T, jpg []byte, marker byte, w, h int) []byte {
	b := append([]byte(nil), jpg...)
	for i := 2; i+9 < len(b); {
		if b[i] != 0xff {
			t.Fatalf("no marker at %d", i)
		}
		m, n := b[i+1], int(b[i+2])<<8|int(b[i+3])
		if m == 0xc0 || m == 0xc2 { // SOF0, SOF2: length, precision, height, width
			b[i+1] = marker
			b[i+5], b[i+6], b[i+7], b[i+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
			return b
		}
		i += 2 + n
	}
	t.Fatal("no SOF marker")
	return nil
}

// heapGrowth runs f and returns how many bytes it allocated in total.
func heapGrowth(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A part without a closing boundary, streamed lazily (128 MiB of it), is cut at the part size
// limit: nothing near its size is allocated, the bad part is reported as a bad frame, and frames
// come again after the reconnection.
func TestMJPEGPartWithoutEnd(t *testing.T) {
	good := writeJPEG(t, "", 64, 48)
	var conns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := conns.Add(1)
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
		pw.Write(good)
		if n == 1 {
			pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			chunk := bytes.Repeat([]byte{0xff, 0xd8, 0xab}, 1<<14)
			for sent := 0; sent < 128<<20; sent += len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					return // the client hung up
				}
			}
			return // no closing boundary
		}
		for i := 0; i < 3; i++ {
			pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			pw.Write(good)
		}
		mw.Close()
	}))
	defer srv.Close()
	var logs bytes.Buffer
	src, err := Open(context.Background(), srv.URL+"/video.mjpg#max_frame_bytes=1MiB", Options{Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Backoff: Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var got []string
	grew := heapGrowth(func() {
		for len(got) < 4 {
			f, err := src.Next(ctx)
			switch {
			case IsFrameError(err) && strings.Contains(err.Error(), "larger than the 1048576 bytes allowed"):
				got = append(got, "toolarge")
			case err != nil:
				t.Fatalf("after %q: %v", got, err)
			default:
				got = append(got, fmt.Sprintf("%dx%d", f.Width, f.Height))
			}
		}
	})
	if grew > 24<<20 {
		t.Errorf("reading a 128 MiB part allocated %d MiB", grew>>20)
	}
	if want := "64x48 toolarge 64x48 64x48"; strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if conns.Load() != 2 {
		t.Fatalf("%d connections, want 2 (the unterminated part drops the first)", conns.Load())
	}
}

// A JPEG whose header asks for 10000x10000 pixels is refused before anything decodes it, and the
// stream goes on; the limit can be set in the URL's fragment.
func TestMJPEGPixelLimit(t *testing.T) {
	good := writeJPEG(t, "", 64, 48)
	huge := hugeJPEG(t, 10000, 10000)
	prog := patchSOF(t, good, 0xc2, 64, 48)
	if progressiveJPEG(good) || !progressiveJPEG(prog) {
		t.Fatal("progressiveJPEG is wrong")
	}
	var conns atomic.Int32
	srv := mjpegServer(t, [][]byte{good, huge, prog, good}, &conns)
	defer srv.Close()
	src, err := Open(context.Background(), srv.URL+"/video.mjpg", Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pre, _ := NewPreprocessor(models.UInt8, []int{1, 16, 16, 3}, nil, nil, "")
	dst := make([]byte, 16*16*3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []string
	grew := heapGrowth(func() {
		for i := 0; i < 4; i++ {
			f, err := src.Next(ctx)
			if err == nil {
				err = pre.FillFrame(dst, f) // what the pipeline does with a frame: decode it
			}
			switch {
			case IsFrameError(err) && strings.Contains(err.Error(), "10000x10000 pixels is larger than the 2097152 allowed"):
				got = append(got, "toobig")
			case IsFrameError(err) && strings.Contains(err.Error(), "a progressive JPEG of 64x48 pixels"):
				got = append(got, "progressive")
			case err != nil:
				got = append(got, "error: "+err.Error())
			default:
				got = append(got, fmt.Sprintf("%dx%d", f.Width, f.Height))
			}
		}
	})
	if grew > 16<<20 {
		t.Errorf("a 10000x10000 header made the source and preprocessing allocate %d MiB", grew>>20)
	}
	if want := "64x48 toobig progressive 64x48"; strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A smaller limit in the URL's fragment (never sent to the camera) refuses the 64x48 frames too.
	small, err := Open(context.Background(), srv.URL+"/video.mjpg#max_pixels=1000", Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if _, err := small.Next(ctx); !IsFrameError(err) || !strings.Contains(err.Error(), "64x48 pixels is larger than the 1000 allowed") {
		t.Fatalf("max_pixels=1000: %v", err)
	}
	if _, err := Open(context.Background(), srv.URL+"#max_pixels=lots", Options{}); err == nil || !strings.Contains(err.Error(), "max_pixels") {
		t.Fatalf("bad max_pixels: %v", err)
	}
	_ = errors.Is
	_ = io.EOF
}

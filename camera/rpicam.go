package camera

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RPiCamOptions configure the Raspberry Pi camera, read through rpicam-vid (libcamera).
type RPiCamOptions struct {
	// Command is the program to run: rpicam-vid by default, or libcamera-vid when only that is
	// installed (older Raspberry Pi OS).
	Command string
	// Codec is yuv420 (raw frames, the default) or mjpeg.
	Codec         string
	Width, Height int     // default 640x480
	FPS           float64 // default 30
	// Stride is the length of a line of the Y plane in yuv420 output. rpicam-vid writes its buffers
	// as they are, with lines padded to a multiple of 64 bytes: that is the default.
	Stride  int
	Args    []string      // more arguments for the command (e.g. --rotation 180)
	Timeout time.Duration // longest wait for a frame (the first one included); default 10 s
	Backoff Backoff
	Log     *slog.Logger
	// StartTimeout, OnState: see Options.
	StartTimeout time.Duration
	OnState      func(State)
}

func (o *RPiCamOptions) defaults() error {
	if o.Command == "" {
		o.Command = "rpicam-vid"
		if _, err := exec.LookPath(o.Command); err != nil {
			if _, err2 := exec.LookPath("libcamera-vid"); err2 == nil {
				o.Command = "libcamera-vid"
			}
		}
	}
	if o.Codec == "" {
		o.Codec = "yuv420"
	}
	if o.Codec != "yuv420" && o.Codec != "mjpeg" {
		return fmt.Errorf("camera: rpicam codec %q: want yuv420 or mjpeg", o.Codec)
	}
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 640, 480
	}
	if o.Width < 2 || o.Height < 2 || o.Width%2 != 0 || o.Height%2 != 0 {
		return fmt.Errorf("camera: rpicam size %dx%d: width and height must be even", o.Width, o.Height)
	}
	if o.FPS == 0 {
		o.FPS = 30
	}
	if o.Stride == 0 {
		o.Stride = (o.Width + 63) &^ 63
	}
	if o.Stride < o.Width || o.Stride%2 != 0 {
		return fmt.Errorf("camera: rpicam stride %d for width %d: want an even stride of at least the width", o.Stride, o.Width)
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	return nil
}

// CommandLine is the command OpenRPiCam runs.
func (o RPiCamOptions) CommandLine() []string {
	o.defaults()
	args := []string{o.Command, "-t", "0", "-n", "--codec", o.Codec, "--width", strconv.Itoa(o.Width),
		"--height", strconv.Itoa(o.Height), "--framerate", strconv.FormatFloat(o.FPS, 'g', -1, 64)}
	args = append(args, o.Args...)
	return append(args, "-o", "-")
}

// OpenRPiCam starts rpicam-vid (or the configured command) writing frames to its standard output
// and reads them: yuv420 frames honouring the stride padding, or MJPEG frames split at their JPEG
// markers. When the command dies it is restarted with backoff, and its standard error (the last
// lines) is in the logged error.
func OpenRPiCam(ctx context.Context, o RPiCamOptions) (Source, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(o.Command); err != nil {
		return nil, fmt.Errorf("camera: %s not found (install rpicam-apps, or set the command): %w", o.Command, err)
	}
	argv := o.CommandLine()
	open := func(ctx context.Context) (Source, error) { return startRPiCam(argv, o) }
	r := newReopener(o.Command, o.Backoff, o.Log, open)
	r.startTimeout, r.onState = o.StartTimeout, o.OnState
	return r.start(ctx)
}

type rpicamProc struct {
	mu     sync.Mutex
	argv   []string
	cmd    *exec.Cmd
	out    *os.File
	rd     *bufio.Reader
	stderr *tailBuffer
	o      RPiCamOptions
	frame  Frame
	buf    []byte
	seq    uint64
	exited chan struct{} // closed when the command has exited; status is then set
	status error
	closed bool
}

func startRPiCam(argv []string, o RPiCamOptions) (*rpicamProc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	setProcessGroup(cmd)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	cmd.Stdout = pw
	p := &rpicamProc{argv: argv, cmd: cmd, out: pr, stderr: &tailBuffer{max: 4096}, o: o, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("camera: start %s: %w", argv[0], err)
	}
	pw.Close()
	go func() { p.status = cmd.Wait(); close(p.exited) }()
	p.rd = bufio.NewReaderSize(pr, 1<<16)
	if o.Codec == "yuv420" {
		p.buf = make([]byte, FrameSize(YU12, o.Width, o.Height, o.Stride))
		p.frame = Frame{Format: YU12, Width: o.Width, Height: o.Height, Stride: o.Stride, Data: p.buf}
		// libcamera's default for video: Rec. 709 limited range from 720 lines, SMPTE 170M below.
		if o.Height >= 720 {
			p.frame.ColorSpace = BT709
		}
	} else {
		p.frame = Frame{Format: MJPEG, Width: o.Width, Height: o.Height}
	}
	return p, nil
}

// Next reads the next frame from the command's output.
func (p *rpicamProc) Next(ctx context.Context) (*Frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.out.SetReadDeadline(time.Now().Add(p.o.Timeout))
	var err error
	if p.frame.Format == YU12 {
		_, err = io.ReadFull(p.rd, p.buf)
	} else {
		err = p.readJPEG()
	}
	if err != nil {
		return nil, p.failure(err)
	}
	p.frame.Sequence = p.seq
	p.frame.Timestamp = time.Now()
	p.seq++
	return &p.frame, nil
}

// readJPEG reads from one JPEG start-of-image marker to the next end-of-image marker into p.buf.
func (p *rpicamProc) readJPEG() error {
	// Find SOI (FF D8).
	for {
		b, err := p.rd.ReadByte()
		if err != nil {
			return err
		}
		if b != 0xff {
			continue
		}
		if b, err = p.rd.ReadByte(); err != nil {
			return err
		}
		if b == 0xd8 {
			break
		}
		p.rd.UnreadByte()
	}
	p.buf = append(p.buf[:0], 0xff, 0xd8)
	for {
		chunk, err := p.rd.ReadSlice(0xff)
		p.buf = append(p.buf, chunk...)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
		if err != nil {
			continue
		}
		b, err := p.rd.ReadByte()
		if err != nil {
			return err
		}
		p.buf = append(p.buf, b)
		if b == 0xd9 {
			p.frame.Data = p.buf
			return nil
		}
		if b == 0xff {
			p.rd.UnreadByte()
			p.buf = p.buf[:len(p.buf)-1]
		}
		if len(p.buf) > 64<<20 {
			return fmt.Errorf("MJPEG frame longer than 64 MiB without an end marker")
		}
	}
}

// failure makes the error for a stream that broke: the command's exit status and its last stderr.
func (p *rpicamProc) failure(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		p.kill()
		err = fmt.Errorf("no frame within %v", p.o.Timeout)
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("output ended in the middle of a frame")
	} else if errors.Is(err, io.EOF) {
		err = fmt.Errorf("output ended")
	}
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		p.kill()
		<-p.exited
	}
	status := p.status
	msg := fmt.Sprintf("camera: %s: %v", p.argv[0], err)
	if status != nil {
		msg += fmt.Sprintf(" (%v)", status)
	} else {
		msg += " (exited)"
	}
	if tail := strings.TrimSpace(p.stderr.String()); tail != "" {
		msg += ": " + tail
	}
	return errors.New(msg)
}

func (p *rpicamProc) kill() {
	if p.cmd.Process != nil {
		killProcessGroup(p.cmd)
	}
}

func (p *rpicamProc) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.kill()
	p.out.Close()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(t.b), []byte("\n"))
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}

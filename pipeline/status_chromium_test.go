package pipeline

import (
	"context"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium, skipping t without one (failing under EDGEINFER_CI=1).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EDGEINFER_CI") == "1" {
		t.Fatal("chromium is not installed (EDGEINFER_CI=1): apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); EDGEINFER_CI=1 makes this fail")
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + t.TempDir(), "--window-size=800,700"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestStatusPageChromium loads the status page of a running pipeline (test pattern, real model)
// in headless Chromium: the DOM has the label the pipeline printed and a score, and the
// screenshot shows the latest frame, i.e. the pattern's colour bars.
func TestStatusPageChromium(t *testing.T) {
	bin := chromium(t)
	mp, labels := modelAndLabels(t)
	httpAddr := freeAddr(t)
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Model: mp, Labels: labels, Source: "pattern:?size=320x240&fps=15", Device: "chromium",
		Listen: httpAddr, Out: &out, MQTT: MQTT{Listen: freeAddr(t)}}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, quietLog()) }()
	url := "http://" + httpAddr + "/"
	for deadline := time.Now().Add(30 * time.Second); labelLine.FindStringSubmatch(out.String()) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no label within 30 s")
		}
	}
	time.Sleep(1500 * time.Millisecond) // a frame copied for /frame.jpg (about once a second)
	// The DOM's label must be one the pipeline printed around the load: the last one before it or
	// one printed while it loaded (or just after: the page's state and the printed line are updated
	// one after the other). The pattern's label may flap between two classes, so a change during
	// the load is a race, not a failure.
	printed := func() [][]string { return labelLine.FindAllStringSubmatch(out.String(), -1) }
	before := printed()
	dom := string(runChromium(t, bin, "--dump-dom", url))
	domLabel := ""
	if m := regexp.MustCompile(`<td id="label">([^<]*)</td>`).FindStringSubmatch(dom); m != nil {
		domLabel = html.UnescapeString(m[1])
	}
	around := map[string]bool{}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, m := range printed()[len(before)-1:] {
			around[m[1]] = true
		}
		if around[domLabel] || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{`<h1>edgeinfer chromium</h1>`, `<td id="score">0.`, `<img id="frame" src="/frame.jpg"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q:\n%s", want, dom)
		}
	}
	if !around[domLabel] {
		t.Errorf("DOM's label %q, want one of those printed around the load %v", domLabel, around)
	}

	// The page updates itself: after a few seconds of (virtual) time its script has polled
	// /status.json and filled the fields the server did not render (the update time), with the
	// MQTT state of the embedded broker.
	live := string(runChromium(t, bin, "--virtual-time-budget=4000", "--dump-dom", url))
	for _, want := range []string{`<p id="updated">updated `, `<td id="mqtt">connected (`, `<td id="source_state">up</td>`} {
		if !strings.Contains(live, want) {
			t.Errorf("DOM after 4 s lacks %q (the page's polling of /status.json):\n%s", want, live)
		}
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	runChromium(t, bin, "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	counts, total := colourCounts(img)
	t.Logf("screenshot %v: pixels by saturated colour %v", img.Bounds(), counts)
	if dir := os.Getenv("EDGEINFER_SCREENSHOT_DIR"); dir != "" {
		if b, err := os.ReadFile(shot); err == nil {
			os.WriteFile(filepath.Join(dir, "status.png"), b, 0o644)
		}
	}
	// The pattern's bars, 40x240 pixels each in the frame; allow for JPEG and scaling.
	for _, c := range []struct {
		name    string
		r, g, b int
	}{{"yellow", 255, 255, 0}, {"cyan", 0, 255, 255}, {"green", 0, 255, 0}, {"magenta", 255, 0, 255}, {"red", 255, 0, 0}, {"blue", 0, 0, 255}} {
		if n := counts[[3]int{c.r, c.g, c.b}]; n < 4000 {
			t.Errorf("screenshot: %d %s pixels of %d, want the frame's %s bar (>= 4000)", n, c.name, total, c.name)
		}
	}
	if counts[[3]int{255, 255, 255}] > total*99/100 {
		t.Error("screenshot is blank")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// colourCounts counts the pixels of img near each saturated colour (each channel within 48 of 0
// or 255), keyed by that colour.
func colourCounts(img image.Image) (map[[3]int]int, int) {
	near := func(v uint32) (int, bool) {
		v >>= 8
		switch {
		case v <= 48:
			return 0, true
		case v >= 207:
			return 255, true
		}
		return 0, false
	}
	counts := map[[3]int]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			cr, ok1 := near(r)
			cg, ok2 := near(g)
			cb, ok3 := near(bl)
			if ok1 && ok2 && ok3 {
				counts[[3]int{cr, cg, cb}]++
			}
		}
	}
	return counts, b.Dx() * b.Dy()
}

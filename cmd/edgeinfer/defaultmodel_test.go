package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/internal/download"
	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/models/zoo"
)

// imagenetMirror copies the shared ImageNet MobileNetV2 and its labels into a temporary directory:
// a mirror as a user would make one.
func imagenetMirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"mobilenet_v2_1.0_224_quant.tflite", "imagenet_labels.txt"} {
		data, err := os.ReadFile(shareddata.Path(t, "imagenet/"+f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// 'models pull' from a directory and from a file:// URL: fetched, verified and cached; a second
// pull finds the cached copy.
func TestModelsPullMirror(t *testing.T) {
	mirror := imagenetMirror(t)
	e, _ := zoo.Lookup(zoo.Default)
	for _, base := range []string{mirror, "file://" + mirror} {
		cache := t.TempDir()
		t.Setenv("EDGEINFER_CACHE", cache)
		code, out, errs := cli(t, nil, "models", "pull", "--base-url", base, zoo.Default)
		if code != 0 || !strings.Contains(out, zoo.Default+" -> "+filepath.Join(cache, "models")) || strings.Count(errs, "verified") != 2 {
			t.Fatalf("pull --base-url %s: exit %d, stdout %q, stderr %q", base, code, out, errs)
		}
		if p, ok := e.Verified(filepath.Join(cache, "models")); !ok {
			t.Fatalf("pull --base-url %s: %s is not in the cache with its SHA-256", base, p)
		}
		// $EDGEINFER_MODELS_URL names the same mirror; the cached copy is kept.
		code, _, errs = cli(t, map[string]string{"EDGEINFER_MODELS_URL": base}, "models", "pull", zoo.Default)
		if code != 0 || strings.Count(errs, "already present") != 2 {
			t.Fatalf("second pull: exit %d, stderr %q", code, errs)
		}
	}
}

// A mirror whose copy has the wrong SHA-256 is refused, and nothing is cached.
func TestModelsPullWrongSHA(t *testing.T) {
	mirror := t.TempDir()
	os.WriteFile(filepath.Join(mirror, "mobilenet_v2_1.0_224_quant.tflite"), []byte("not the model"), 0o644)
	cache := t.TempDir()
	t.Setenv("EDGEINFER_CACHE", cache)
	code, _, errs := cli(t, nil, "models", "pull", "--base-url", mirror, zoo.Default)
	if code != 1 || !strings.Contains(errs, "checksum mismatch") || !strings.Contains(errs, filepath.Join(mirror, "mobilenet_v2_1.0_224_quant.tflite")) {
		t.Fatalf("exit %d, stderr %q; want a checksum mismatch naming the file", code, errs)
	}
	if p, err := os.Stat(filepath.Join(cache, "models", "mobilenet_v2_1.0_224_quant.tflite")); err == nil {
		t.Fatalf("%v: a refused file was cached", p.Name())
	}
	// Unreachable: the error names the mirror options.
	code, _, errs = cli(t, nil, "models", "pull", "--base-url", "http://127.0.0.1:1/", zoo.Default)
	if code != 1 || !strings.Contains(errs, "--base-url file:///DIR or DIR, or EDGEINFER_MODELS_URL") {
		t.Fatalf("unreachable server: exit %d, stderr %q; want the mirror options", code, errs)
	}
}

var cifarLine = regexp.MustCompile(`^  0\.[0-9]{4}  (airplane|automobile|bird|cat|deer|dog|frog|horse|ship|truck) \([0-9]\)$`)

// Offline, classify falls back to the embedded CIFAR-10 model with one WARN line saying what was
// tried and how to fix it, within seconds. Offline here is a server that refuses connections and a
// mirror directory without the files.
func TestClassifyDefaultOffline(t *testing.T) {
	img := shareddata.Path(t, "imagenet/cat.bmp")
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	for _, base := range []string{"http://127.0.0.1:1/models/", t.TempDir()} {
		start := time.Now()
		code, out, errs := cli(t, map[string]string{"EDGEINFER_MODELS_URL": base}, "classify", img)
		took := time.Since(start)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) < 6 || !cifarLine.MatchString(lines[1]) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want the CIFAR-10 model's labels", base, code, out, errs)
		}
		if !strings.Contains(out, "  animal (group)\n") {
			t.Errorf("%s: no animal group (CIFAR-10's built-in) in %q", base, out)
		}
		warn := strings.Split(strings.TrimSpace(errs), "\n")
		if len(warn) != 1 || !strings.HasPrefix(warn[0], "edgeinfer classify: WARN: the default model mobilenet_v2_1.0_224_quant could not be fetched from "+base) {
			t.Fatalf("%s: stderr %q; want one WARN line", base, errs)
		}
		for _, want := range []string{"using the embedded cifar10_mobilenetv2_0.5", "edgeinfer models pull mobilenet_v2_1.0_224_quant", "--base-url", "EDGEINFER_MODELS_URL", "--model FILE"} {
			if !strings.Contains(warn[0], want) {
				t.Errorf("%s: the WARN lacks %q: %s", base, want, warn[0])
			}
		}
		if took > download.ConnectTimeout+5*time.Second {
			t.Errorf("%s: the fallback took %v", base, took)
		}
	}
}

// With the default model fetched once (here from a directory mirror into $EDGEINFER_CACHE),
// classify with no --model prints an ImageNet cat class and the cat group; the next run uses the
// cache, silently.
func TestClassifyDefaultImageNet(t *testing.T) {
	mirror := imagenetMirror(t)
	img := shareddata.Path(t, "imagenet/cat.bmp")
	t.Setenv("EDGEINFER_CACHE", t.TempDir())
	code, out, errs := cli(t, map[string]string{"EDGEINFER_MODELS_URL": mirror}, "classify", img)
	cat := regexp.MustCompile(`^  0\.[0-9]{4}  (tabby, tabby cat|tiger cat|Egyptian cat|Persian cat|Siamese cat, Siamese) \(28[2-6]\)$`)
	if lines := strings.Split(out, "\n"); code != 0 || len(lines) < 2 || !cat.MatchString(lines[1]) {
		t.Fatalf("first run: exit %d, stdout %q, stderr %q; want an ImageNet cat class first", code, out, errs)
	}
	// The cat group (ImageNet's five domestic cats) comes first among the groups, at above 0.9.
	groups := regexp.MustCompile(`(?m)^  (0\.[0-9]{4})  ([a-z_]+) \(group\)$`).FindAllStringSubmatch(out, -1)
	if len(groups) == 0 || groups[0][2] != "cat" || groups[0][1] < "0.9" {
		t.Errorf("groups %q, want cat first at above 0.9; output:\n%s", groups, out)
	}
	if !strings.Contains(errs, "fetched the default model mobilenet_v2_1.0_224_quant") || strings.Contains(errs, "WARN") {
		t.Errorf("first run: stderr %q", errs)
	}
	// The cache alone: no mirror, no fetch, nothing on stderr.
	code, out2, errs := cli(t, map[string]string{"EDGEINFER_MODELS_URL": "http://127.0.0.1:1/"}, "classify", img)
	if code != 0 || out2 != out || errs != "" {
		t.Fatalf("from the cache: exit %d, stdout %q, stderr %q", code, out2, errs)
	}
}

// With a labels file that leaves out "background" (1000 labels for 1001 scores) the groups still
// sum the right scores: the cat group comes first for the cat photo, as with 1001 labels.
func TestClassifyGroupsWithoutBackground(t *testing.T) {
	model := shareddata.Path(t, "imagenet/mobilenet_v2_1.0_224_quant.tflite")
	data, err := os.ReadFile(shareddata.Path(t, "imagenet/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(t.TempDir(), "labels1000.txt")
	os.WriteFile(labels, []byte(strings.TrimPrefix(string(data), "background\n")), 0o644)
	code, out, errs := cli(t, nil, "classify", "--model", model, "--labels", labels, "--top", "1", shareddata.Path(t, "imagenet/cat.bmp"))
	if code != 0 || !strings.Contains(out, "  0.8008  Egyptian cat (285)\n  0.9648  cat (group)\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// readmeCommands returns the edgeinfer command lines of the first ```sh block after the README
// heading that starts with heading, backslash continuations joined, each split into words.
func readmeCommands(t *testing.T, heading string) [][]string {
	t.Helper()
	root, err := shareddata.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	at := strings.Index(text, "\n"+heading)
	if at < 0 {
		t.Fatalf("README.md has no heading %q", heading)
	}
	text = text[at:]
	start := strings.Index(text, "```sh\n")
	if start < 0 {
		t.Fatalf("README.md: no ```sh block after %q", heading)
	}
	text = text[start+len("```sh\n"):]
	block, _, ok := strings.Cut(text, "```")
	if !ok {
		t.Fatalf("README.md: unterminated code block after %q", heading)
	}
	var cmds [][]string
	for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, "'\"$|;&<>`") {
			t.Fatalf("README.md: %q needs a shell; the tutorial test runs plain words", line)
		}
		words := strings.Fields(line)
		if words[0] != "edgeinfer" {
			t.Fatalf("README.md: %q is not an edgeinfer command", line)
		}
		cmds = append(cmds, words[1:])
	}
	return cmds
}

// The README's quantization tutorial, run exactly as written: in a scratch directory holding
// model.onnx (a small random-weight CIFAR-10-shaped MobileNetV2), cifar-10-batches-bin/ (the shared
// test batch as data_batch_1.bin, with batches.meta.txt) and ../shared/data (the shared data).
func TestTutorialQuantize(t *testing.T) {
	testBatch := shareddata.Path(t, "cifar10/test_batch.bin")
	meta := shareddata.Path(t, "cifar10/batches.meta.txt")
	catImage := shareddata.Path(t, "imagenet/cat.bmp")
	cmds := readmeCommands(t, "## Quantization")
	if len(cmds) != 2 || cmds[0][0] != "quantize" || cmds[1][0] != "eval" {
		t.Fatalf("README's quantization tutorial is %q, want quantize then eval", cmds)
	}
	scratch := t.TempDir()
	work := filepath.Join(scratch, "work")
	batches := filepath.Join(work, "cifar-10-batches-bin")
	if err := os.MkdirAll(batches, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(scratch, "shared"), 0o755)
	for _, l := range [][2]string{
		{filepath.Dir(filepath.Dir(testBatch)), filepath.Join(scratch, "shared", "data")},
		{testBatch, filepath.Join(batches, "data_batch_1.bin")},
		{meta, filepath.Join(batches, "batches.meta.txt")},
	} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	data, err := onnxtest.MobileNetV2Net(5).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "model.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)

	code, stdout, stderr := cli(t, nil, cmds[0]...)
	if code != 0 {
		t.Fatalf("%q: exit %d\n%s%s", cmds[0], code, stdout, stderr)
	}
	if strings.Contains(stderr, "WARN") || strings.Contains(stderr, "level=") {
		t.Errorf("%q warned or logged key=value lines:\n%s", cmds[0], stderr)
	}
	for _, want := range []string{"model.eim: ", "on 500 images of cifar-10-batches-bin/", "agreement ", "on held-out images", "report report.html"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("quantize output lacks %q:\n%s", want, stdout)
		}
	}
	html, err := os.ReadFile("report.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Accuracy on held-out images") || !strings.Contains(string(html), "test_batch.bin") {
		t.Error("report.html does not say its figures are on the held-out test batch")
	}

	code, stdout, stderr = cli(t, nil, cmds[1]...)
	if code != 0 || !strings.Contains(stdout, "model.eim on ../shared/data/cifar10/test_batch.bin: ") || !strings.Contains(stdout, "(10000 images)") {
		t.Fatalf("%q: exit %d\n%s%s", cmds[1], code, stdout, stderr)
	}
	// The class names came from batches.meta.txt: classify prints them.
	code, stdout, stderr = cli(t, nil, "classify", "--model", "model.eim", "--top", "10", catImage)
	if code != 0 || !strings.Contains(stdout, "airplane") || !strings.Contains(stdout, "truck") {
		t.Errorf("classify with the tutorial's model: exit %d, no CIFAR-10 names\n%s%s", code, stdout, stderr)
	}
}

// The README's go install line names this module's command (go.mod's module path) and the Go
// version go.mod asks for, and that package path installs (here from this checkout) into a
// working binary.
func TestREADMEGoInstall(t *testing.T) {
	root, err := shareddata.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := regexp.MustCompile(`(?m)^module (\S+)$`).FindSubmatch(gomod)
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if module == nil || goVersion == nil {
		t.Fatalf("go.mod: no module or go line")
	}
	m := regexp.MustCompile("`go install (\\S+)@latest` \\(Go ([0-9.]+) or later").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no \"`go install PATH@latest` (Go VERSION or later\" line")
	}
	if want := string(module[1]) + "/cmd/edgeinfer"; string(m[1]) != want {
		t.Errorf("README's go install path %s, want %s", m[1], want)
	}
	if string(m[2]) != string(goVersion[1]) {
		t.Errorf("README says Go %s, go.mod %s", m[2], goVersion[1])
	}
	if testing.Short() {
		t.Skip("go install builds edgeinfer")
	}
	bin := t.TempDir()
	install := exec.Command("go", "install", string(m[1]))
	install.Dir, install.Env = root, append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", m[1], err, out)
	}
	if out, err := exec.Command(filepath.Join(bin, "edgeinfer"), "version").Output(); err != nil || !strings.Contains(string(out), "module   "+string(module[1])) {
		t.Errorf("installed edgeinfer version: %v\n%s", err, out)
	}
}

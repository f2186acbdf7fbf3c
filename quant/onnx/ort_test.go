package onnx_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/onnx"
	"github.com/edgeinfer/edgeinfer/quant/onnx/onnxtest"
)

// ortTolerance is the largest absolute difference allowed between graph.Run and ONNX Runtime.
const ortTolerance = 1e-4

// ortHome returns the directory where .ci/onnxruntime-setup.sh installed onnxruntime-node, skipping
// the test (failing it when EDGEINFER_REQUIRE_DATA=1) when node or the package is missing.
func ortHome(t testing.TB) string {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		msg := "ONNX Runtime reference unavailable: " + why + " (run .ci/onnxruntime-setup.sh: node + npm onnxruntime-node@1.30.0)"
		if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node not in PATH")
	}
	home := os.Getenv("EDGEINFER_ORT_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			missing(err.Error())
		}
		home = filepath.Join(h, ".cache", "edgeinfer", "ort")
	}
	if _, err := os.Stat(filepath.Join(home, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing("onnxruntime-node not installed in " + home)
	}
	return home
}

func writeFloats(t *testing.T, path string, data []float32) {
	t.Helper()
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes, not whole float32s", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

type ortInput struct {
	Shape []int64 `json:"shape"`
	File  string  `json:"file"`
}

type ortSpec struct {
	Model   string              `json:"model"`
	Inputs  map[string]ortInput `json:"inputs"`
	Outputs map[string]string   `json:"outputs"`
}

// runORT runs model (bytes) on inputs with ort_run.js and returns the outputs of g by name.
func runORT(t *testing.T, home string, model []byte, g *graph.Graph, inputs map[string]*graph.Tensor) map[string]*graph.Tensor {
	t.Helper()
	dir := t.TempDir()
	spec := ortSpec{Model: filepath.Join(dir, "model.onnx"), Inputs: map[string]ortInput{}, Outputs: map[string]string{}}
	if err := os.WriteFile(spec.Model, model, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, in := range g.Inputs {
		x := inputs[in.Name]
		f := filepath.Join(dir, "in"+string(rune('0'+i))+".bin")
		writeFloats(t, f, x.Data)
		shape := make([]int64, len(x.Shape))
		for j, d := range x.Shape {
			shape[j] = int64(d)
		}
		spec.Inputs[in.Name] = ortInput{Shape: shape, File: f}
	}
	for i, o := range g.Outputs {
		spec.Outputs[o.Name] = filepath.Join(dir, "out"+string(rune('0'+i))+".bin")
	}
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specFile, js, 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "ort_run.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, specFile)
	cmd.Env = append(os.Environ(), "EDGEINFER_ORT_HOME="+home)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node ort_run.js: %v\n%s", err, stderr.String())
	}
	var dims map[string][]int
	if err := json.Unmarshal(stdout, &dims); err != nil {
		t.Fatalf("ort_run.js printed %q: %v", stdout, err)
	}
	out := map[string]*graph.Tensor{}
	for name, f := range spec.Outputs {
		out[name] = &graph.Tensor{Name: name, Shape: dims[name], Data: readFloats(t, f)}
	}
	return out
}

// TestORTReference runs every onnxtest case, in opsets 11, 13 and 17, through Read + graph.Run and
// through ONNX Runtime, and compares the outputs.
func TestORTReference(t *testing.T) {
	home := ortHome(t)
	for _, c := range onnxtest.Cases() {
		for _, opset := range []int64{11, 13, 17} {
			model, err := c.Build(opset, 42)
			if err != nil {
				t.Fatal(err)
			}
			name := c.Name + "_opset" + string(rune('0'+opset/10)) + string(rune('0'+opset%10))
			t.Run(name, func(t *testing.T) {
				g, err := onnx.Read(model, name)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(opset), 7))
				inputs := map[string]*graph.Tensor{}
				for _, in := range c.Inputs {
					shape := make([]int, len(in.Shape))
					for i, d := range in.Shape {
						shape[i] = int(d)
					}
					inputs[in.Name] = &graph.Tensor{Name: in.Name, Shape: shape, Data: onnxtest.Uniform(rng, 2, in.Shape...)}
				}
				got, err := g.Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				want := runORT(t, home, model, g, inputs)
				for _, o := range g.Outputs {
					gt, wt := got[o.Name], want[o.Name]
					if !slices.Equal(gt.Shape, wt.Shape) {
						t.Errorf("output %s: shape %v, ONNX Runtime %v", o.Name, gt.Shape, wt.Shape)
						continue
					}
					if len(gt.Data) != len(wt.Data) {
						t.Errorf("output %s: %d values, ONNX Runtime %d", o.Name, len(gt.Data), len(wt.Data))
						continue
					}
					maxDiff, at := 0.0, 0
					for i := range gt.Data {
						if d := math.Abs(float64(gt.Data[i] - wt.Data[i])); d > maxDiff || math.IsNaN(d) {
							maxDiff, at = d, i
						}
					}
					t.Logf("output %s %v: max |graph.Run - ONNX Runtime| = %.3g", o.Name, gt.Shape, maxDiff)
					if !(maxDiff < ortTolerance) {
						t.Errorf("output %s: max difference %g at %d (%g vs ONNX Runtime %g), tolerance %g",
							o.Name, maxDiff, at, gt.Data[at], wt.Data[at], ortTolerance)
					}
				}
			})
		}
	}
}

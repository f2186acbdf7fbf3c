package firmware

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRunArgs(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "image.yaml")
	data := filepath.Join(dir, "data.yaml")
	if err := os.WriteFile(image, []byte("source: auto\nmodel: /home/me/m.tflite\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := InitConfig{Config: image, Model: "/usr/share/edgeinfer/m.tflite", Labels: "/usr/share/edgeinfer/labels.txt"}
	withModel := []string{"--model", cfg.Model, "--labels", cfg.Labels}
	check := func(name string, want []string) {
		t.Helper()
		if got := runArgs(cfg, data); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	// The image's configuration keeps the model of the build host's path: the flags override it.
	check("image config", append([]string{"run", "--config", image}, withModel...))
	if err := os.WriteFile(data, []byte("source: \"pattern:\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("data config without model", append([]string{"run", "--config", data}, withModel...))
	if err := os.WriteFile(data, []byte("source: auto\nmodel: /data/other.eim\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("data config with model", []string{"run", "--config", data})
	if err := os.WriteFile(data, []byte("model: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("data config that does not parse", append([]string{"run", "--config", data}, withModel...))
}

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

// The network settings of an image built without --broker are flags unless the configuration in
// use sets their keys; --broker's makes mqtt.listen moot.
func TestRunArgsNetwork(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "image.yaml")
	data := filepath.Join(dir, "data.yaml")
	if err := os.WriteFile(image, []byte("source: auto\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := InitConfig{Config: image, Model: "/m.tflite", Listen: ApplianceListen, MQTTListen: ApplianceMQTTListen, Credentials: DataCredentials}
	base := []string{"run", "--config", image, "--model", "/m.tflite"}
	check := func(name string, cfg InitConfig, want []string) {
		t.Helper()
		if got := runArgs(cfg, data); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	check("reachable", cfg, append(slices.Clip(base), "--mqtt-listen", ApplianceMQTTListen, "--listen", ApplianceListen, "--credentials", DataCredentials))
	ext := InitConfig{Config: image, Model: "/m.tflite", Broker: "tcp://ha.lan:1883"}
	check("--broker", ext, append(slices.Clip(base), "--broker", "tcp://ha.lan:1883"))
	both := cfg
	both.Broker = "tcp://ha.lan:1883"
	check("--broker and an MQTT listen address", both, append(slices.Clip(base), "--broker", "tcp://ha.lan:1883", "--listen", ApplianceListen, "--credentials", DataCredentials))

	dataBase := []string{"run", "--config", data, "--model", "/m.tflite"}
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{"listen: 127.0.0.1:9108\n", []string{"--mqtt-listen", ApplianceMQTTListen, "--credentials", DataCredentials}},
		{"mqtt:\n  listen: 127.0.0.1:1883\n", []string{"--listen", ApplianceListen, "--credentials", DataCredentials}},
		{"mqtt:\n  broker: tcp://ha.lan:1883\n", []string{"--listen", ApplianceListen, "--credentials", DataCredentials}},
		{"mqtt:\n  broker: \"\"\n", []string{"--mqtt-listen", ApplianceMQTTListen, "--listen", ApplianceListen, "--credentials", DataCredentials}},
		{"credentials: /data/mine.yaml\n", []string{"--mqtt-listen", ApplianceMQTTListen, "--listen", ApplianceListen}},
	} {
		if err := os.WriteFile(data, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		check(tc.yaml, cfg, append(slices.Clip(dataBase), tc.want...))
	}
}

package firmware

import (
	"os"

	"gopkg.in/yaml.v3"
)

// runArgs returns the command line of 'edgeinfer run' on the appliance. The configuration is
// dataConfig (on the data partition) when that file exists, else the image's. The image's model and
// labels are passed as flags, which override the configuration (whose model: may be a path on the
// machine that built the image), unless the data partition's configuration names a model itself
// (model: /data/other.tflite).
func runArgs(cfg InitConfig, dataConfig string) []string {
	config := cfg.Config
	if _, err := os.Stat(dataConfig); err == nil {
		config = dataConfig
	}
	args := []string{"run", "--config", config}
	if config == dataConfig && configNamesModel(config) {
		return args
	}
	if cfg.Model != "" {
		args = append(args, "--model", cfg.Model)
	}
	if cfg.Labels != "" {
		args = append(args, "--labels", cfg.Labels)
	}
	return args
}

// configNamesModel reports whether the YAML file at path sets model: to something. A file that
// does not parse names none ('edgeinfer run' reports the error itself).
func configNamesModel(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil {
		return false
	}
	s, ok := m["model"].(string)
	return ok && s != ""
}

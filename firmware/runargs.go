package firmware

import (
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// runArgs returns the command line of 'edgeinfer run' on the appliance. The configuration is
// dataConfig (on the data partition) when that file exists, else the image's. The image's model and
// labels are passed as flags, which override the configuration (whose model: may be a path on the
// machine that built the image), unless the data partition's configuration names a model itself
// (model: /data/other.tflite). So are the image's network settings (cfg.Broker, cfg.Listen,
// cfg.MQTTListen, cfg.Credentials), each unless the configuration in use sets its key: a
// configuration that says where to listen or which broker to use is obeyed.
func runArgs(cfg InitConfig, dataConfig string) []string {
	config := cfg.Config
	if _, err := os.Stat(dataConfig); err == nil {
		config = dataConfig
	}
	args := []string{"run", "--config", config}
	sets := configKeys(config)
	if config != dataConfig || !sets["model"] {
		if cfg.Model != "" {
			args = append(args, "--model", cfg.Model)
		}
		if cfg.Labels != "" {
			args = append(args, "--labels", cfg.Labels)
		}
	}
	// With an external broker (the image's or the configuration's) there is no broker of our own
	// to listen with.
	mqttListen := cfg.MQTTListen
	if sets["mqtt.broker"] || cfg.Broker != "" {
		mqttListen = ""
	}
	for _, f := range []struct{ key, flag, value string }{
		{"mqtt.broker", "--broker", cfg.Broker},
		{"mqtt.listen", "--mqtt-listen", mqttListen},
		{"listen", "--listen", cfg.Listen},
		{"credentials", "--credentials", cfg.Credentials},
	} {
		if f.value != "" && !sets[f.key] {
			args = append(args, f.flag, f.value)
		}
	}
	return args
}

// configKeys returns the keys that the YAML file at path sets to something other than an empty
// string or null, the keys of mappings as "parent.key" ("mqtt.broker"). A file that does not parse
// sets none ('edgeinfer run' reports the error itself).
func configKeys(path string) map[string]bool {
	set := map[string]bool{}
	b, err := os.ReadFile(path)
	if err != nil {
		return set
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil {
		return set
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case nil:
			case string:
				if strings.TrimSpace(v) != "" {
					set[prefix+k] = true
				}
			case map[string]any:
				set[prefix+k] = true
				walk(prefix+k+".", v)
			default:
				set[prefix+k] = true
			}
		}
	}
	walk("", m)
	return set
}

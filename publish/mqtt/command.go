package mqtt

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Commands sent to the set topic.
const (
	CmdPause      = "pause"      // stop publishing labels (the camera may idle)
	CmdResume     = "resume"     // publish labels again
	CmdThresholds = "thresholds" // change the thresholds of watched classes
)

// Command is a command received on edgeinfer/<device>/set, as JSON:
//
//	{"command": "pause"}
//	{"command": "resume"}
//	{"command": "thresholds", "thresholds": {"cat": {"on": 0.8, "off": 0.5}}}
//
// The bare words pause and resume are accepted too. The Publisher checks the form; the receiver
// checks the thresholds against its model (e.g. with decide.Decider.SetThresholds).
type Command struct {
	Command    string               `json:"command"`
	Thresholds map[string]Threshold `json:"thresholds,omitempty"`
}

// Threshold is a class's on- and off-threshold (off 0: the same as on).
type Threshold struct {
	On  float64 `json:"on"`
	Off float64 `json:"off,omitempty"`
}

// parseCommand reads a command payload.
func parseCommand(payload []byte) (Command, error) {
	text := strings.TrimSpace(string(payload))
	switch text {
	case CmdPause, CmdResume:
		return Command{Command: text}, nil
	}
	var c Command
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Command{}, fmt.Errorf("mqtt: command %.80q: %w", text, err)
	}
	switch c.Command {
	case CmdPause, CmdResume:
		if len(c.Thresholds) > 0 {
			return Command{}, fmt.Errorf("mqtt: command %q takes no thresholds", c.Command)
		}
	case CmdThresholds:
		if len(c.Thresholds) == 0 {
			return Command{}, fmt.Errorf("mqtt: command %q without thresholds", c.Command)
		}
		for name, th := range c.Thresholds {
			if math.IsNaN(th.On) || th.On <= 0 || th.On > 1 || math.IsNaN(th.Off) || th.Off < 0 || th.Off > th.On {
				return Command{}, fmt.Errorf("mqtt: command thresholds: class %q: on %v, off %v: want 0 <= off <= on <= 1, on > 0", name, th.On, th.Off)
			}
		}
	default:
		return Command{}, fmt.Errorf("mqtt: unknown command %q (pause, resume, thresholds)", c.Command)
	}
	return c, nil
}

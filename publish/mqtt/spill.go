package mqtt

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// spilled is one message as Close saves it in Config.OutboxFile, one JSON object per line.
type spilled struct {
	Topic    string `json:"topic"`
	Payload  []byte `json:"payload"`
	Retained bool   `json:"retained,omitempty"`
}

// all returns the messages in the outbox, oldest first.
func (o *outbox) all() []message {
	o.mu.Lock()
	defer o.mu.Unlock()
	ms := make([]message, o.n)
	for i := range o.n {
		ms[i] = *o.at(i)
	}
	return ms
}

// spill writes the undelivered messages to cfg.OutboxFile (atomically: a temporary file renamed
// over it).
func (p *Publisher) spill() error {
	ms := p.out.all()
	if len(ms) == 0 {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.cfg.OutboxFile), ".outbox-*")
	if err != nil {
		return fmt.Errorf("mqtt: saving the outbox for %s: %w", p.cfg.Broker, err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, m := range ms {
		if err := enc.Encode(spilled{Topic: m.topic, Payload: m.payload, Retained: m.retained}); err != nil {
			tmp.Close()
			return fmt.Errorf("mqtt: saving the outbox for %s: %w", p.cfg.Broker, err)
		}
	}
	if err := errors.Join(w.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("mqtt: saving the outbox for %s: %w", p.cfg.Broker, err)
	}
	if err := os.Rename(tmp.Name(), p.cfg.OutboxFile); err != nil {
		return fmt.Errorf("mqtt: saving the outbox for %s: %w", p.cfg.Broker, err)
	}
	return nil
}

// unspill loads the messages a previous Close saved in cfg.OutboxFile into the outbox, in order,
// and removes the file. A missing file is no error; a damaged line ends the loading there.
func (p *Publisher) unspill() (int, error) {
	f, err := os.Open(p.cfg.OutboxFile)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mqtt: loading the saved outbox for %s: %w", p.cfg.Broker, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	n := 0
	var bad error
	for sc.Scan() {
		var s spilled
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil || s.Topic == "" {
			bad = fmt.Errorf("mqtt: saved outbox %s: line %d: %v", p.cfg.OutboxFile, n+1, err)
			break
		}
		class := -1
		for i, t := range p.topics.class {
			if t == s.Topic {
				class = i
			}
		}
		if class >= 0 {
			// Delivered as history, followed by the new run's state (Open queues OFF after it).
			p.classState[class] = string(s.Payload)
		}
		p.push(message{topic: s.Topic, payload: s.Payload, retained: s.Retained, class: -1})
		n++
	}
	if err := sc.Err(); err != nil && bad == nil {
		bad = fmt.Errorf("mqtt: saved outbox %s: %w", p.cfg.OutboxFile, err)
	}
	f.Close()
	if err := os.Remove(p.cfg.OutboxFile); err != nil && bad == nil {
		bad = fmt.Errorf("mqtt: saved outbox: %w", err)
	}
	return n, bad
}

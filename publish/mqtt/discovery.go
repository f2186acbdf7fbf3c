package mqtt

import "encoding/json"

// haDevice is the device block shared by this device's Home Assistant entities.
type haDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
	SWVersion    string   `json:"sw_version,omitempty"`
}

// haEntity is the part of a discovery payload this package uses
// (https://www.home-assistant.io/integrations/sensor.mqtt/, binary_sensor.mqtt/).
type haEntity struct {
	Name                   string   `json:"name"`
	UniqueID               string   `json:"unique_id"`
	ObjectID               string   `json:"object_id"`
	StateTopic             string   `json:"state_topic"`
	ValueTemplate          string   `json:"value_template,omitempty"`
	JSONAttributesTopic    string   `json:"json_attributes_topic,omitempty"`
	JSONAttributesTemplate string   `json:"json_attributes_template,omitempty"`
	PayloadOn              string   `json:"payload_on,omitempty"`
	PayloadOff             string   `json:"payload_off,omitempty"`
	AvailabilityTopic      string   `json:"availability_topic"`
	PayloadAvailable       string   `json:"payload_available"`
	PayloadNotAvailable    string   `json:"payload_not_available"`
	Icon                   string   `json:"icon,omitempty"`
	Device                 haDevice `json:"device"`
}

// discovery returns the retained discovery messages: the label sensor, then one binary sensor
// per watched class.
func (p *Publisher) discovery() []message {
	dev := haDevice{
		Identifiers:  []string{"edgeinfer_" + p.cfg.Device},
		Name:         "edgeinfer " + p.cfg.Device,
		Manufacturer: "edgeinfer",
		Model:        "edgeinfer camera classifier",
		SWVersion:    p.cfg.Version,
	}
	base := haEntity{
		AvailabilityTopic:   p.topics.availability,
		PayloadAvailable:    Online,
		PayloadNotAvailable: Offline,
		Device:              dev,
	}
	label := base
	label.Name = "Label"
	label.UniqueID = "edgeinfer_" + p.cfg.Device + "_label"
	label.ObjectID = "edgeinfer_" + p.cfg.Device + "_label"
	label.StateTopic = p.topics.state
	label.ValueTemplate = "{{ value_json.label }}"
	label.JSONAttributesTopic = p.topics.state
	label.JSONAttributesTemplate = "{{ {'score': value_json.score, 'top_k': value_json.top_k, 'seq': value_json.seq, 'latency_ms': value_json.latency_ms} | tojson }}"
	label.Icon = "mdi:eye"
	msgs := []message{{topic: p.topics.labelConfig, payload: mustJSON(label), retained: true, class: -1}}
	for i, name := range p.cfg.Classes {
		e := base
		e.Name = name
		e.UniqueID = "edgeinfer_" + p.cfg.Device + "_" + Slug(name)
		e.ObjectID = e.UniqueID
		e.StateTopic = p.topics.class[i]
		e.PayloadOn, e.PayloadOff = On, Off
		msgs = append(msgs, message{topic: p.topics.classConfig[i], payload: mustJSON(e), retained: true, class: -1})
	}
	return msgs
}

// mustJSON encodes values that cannot fail to encode (strings, numbers and slices of them).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("mqtt: encoding a fixed payload type: " + err.Error())
	}
	return b
}

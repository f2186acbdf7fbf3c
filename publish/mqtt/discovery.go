package mqtt

import "encoding/json"

// SupportURL is the origin's support_url in the discovery payloads.
const SupportURL = "https://github.com/edgeinfer/edgeinfer"

// Payloads of the switch that pauses and resumes classification: the commands it sends to the set
// topic, and the retained state of edgeinfer/<device>/running.
const (
	SwitchOn  = CmdResume // turning the switch on resumes
	SwitchOff = CmdPause  // turning it off pauses
)

// haDevice is the device block shared by this device's Home Assistant entities.
type haDevice struct {
	Identifiers      []string `json:"identifiers"`
	Name             string   `json:"name"`
	Manufacturer     string   `json:"manufacturer"`
	Model            string   `json:"model"`
	SWVersion        string   `json:"sw_version,omitempty"`
	ConfigurationURL string   `json:"configuration_url,omitempty"`
}

// haOrigin is the origin block: the software that published the discovery payloads.
type haOrigin struct {
	Name       string `json:"name"`
	SWVersion  string `json:"sw_version,omitempty"`
	SupportURL string `json:"support_url"`
}

// haEntity is the part of a discovery payload this package uses
// (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery and the sensor, binary_sensor,
// switch and image MQTT integrations).
type haEntity struct {
	Name                   string    `json:"name"`
	UniqueID               string    `json:"unique_id"`
	DefaultEntityID        string    `json:"default_entity_id"`
	StateTopic             string    `json:"state_topic,omitempty"`
	ValueTemplate          string    `json:"value_template,omitempty"`
	JSONAttributesTopic    string    `json:"json_attributes_topic,omitempty"`
	JSONAttributesTemplate string    `json:"json_attributes_template,omitempty"`
	CommandTopic           string    `json:"command_topic,omitempty"`
	PayloadOn              string    `json:"payload_on,omitempty"`
	PayloadOff             string    `json:"payload_off,omitempty"`
	StateOn                string    `json:"state_on,omitempty"`
	StateOff               string    `json:"state_off,omitempty"`
	DeviceClass            string    `json:"device_class,omitempty"`
	StateClass             string    `json:"state_class,omitempty"`
	DisplayPrecision       int       `json:"suggested_display_precision,omitempty"`
	ImageTopic             string    `json:"image_topic,omitempty"`
	ContentType            string    `json:"content_type,omitempty"`
	AvailabilityTopic      string    `json:"availability_topic"`
	PayloadAvailable       string    `json:"payload_available"`
	PayloadNotAvailable    string    `json:"payload_not_available"`
	Icon                   string    `json:"icon,omitempty"`
	Device                 *haDevice `json:"device"`
	Origin                 *haOrigin `json:"origin"`
}

// discoveryTopic is a discovery config topic: <prefix>/<component>/edgeinfer_<device id>/<object>/config.
func (p *Publisher) discoveryTopic(component, object string) string {
	return p.cfg.DiscoveryPrefix + "/" + component + "/edgeinfer_" + p.cfg.DeviceID + "/" + object + "/config"
}

// discovery returns the retained discovery messages: the label sensor, the switch, the image when
// snapshots are on, then per watched class its binary sensor and its score sensor.
func (p *Publisher) discovery() []message {
	uid := "edgeinfer_" + p.cfg.DeviceID
	eid := "edgeinfer_" + Slug(p.cfg.Device) // entity ids are lower case
	dev := &haDevice{
		Identifiers:      []string{uid},
		Name:             "edgeinfer " + p.cfg.Device,
		Manufacturer:     "edgeinfer",
		Model:            "edgeinfer camera classifier",
		SWVersion:        p.cfg.Version,
		ConfigurationURL: p.cfg.ConfigurationURL,
	}
	origin := &haOrigin{Name: "edgeinfer", SWVersion: p.cfg.Version, SupportURL: SupportURL}
	entity := func(domain, object, name string) haEntity {
		return haEntity{
			Name:                name,
			UniqueID:            uid + "_" + object,
			DefaultEntityID:     domain + "." + eid + "_" + object,
			AvailabilityTopic:   p.topics.availability,
			PayloadAvailable:    Online,
			PayloadNotAvailable: Offline,
			Device:              dev,
			Origin:              origin,
		}
	}
	var msgs []message
	add := func(component, object string, e haEntity) {
		msgs = append(msgs, message{topic: p.discoveryTopic(component, object), payload: mustJSON(e), retained: true, class: -1})
	}

	label := entity("sensor", "label", "Label")
	label.StateTopic = p.topics.state
	label.ValueTemplate = "{{ value_json.label }}"
	label.JSONAttributesTopic = p.topics.state
	label.JSONAttributesTemplate = "{{ {'score': value_json.score, 'top_k': value_json.top_k, 'seq': value_json.seq, 'latency_ms': value_json.latency_ms} | tojson }}"
	label.Icon = "mdi:eye"
	add("sensor", "label", label)

	sw := entity("switch", "classify", "Classify")
	sw.StateTopic = p.topics.running
	sw.CommandTopic = p.topics.set
	sw.PayloadOn, sw.PayloadOff = SwitchOn, SwitchOff
	sw.StateOn, sw.StateOff = On, Off
	sw.Icon = "mdi:play-pause"
	add("switch", "classify", sw)

	if p.cfg.Snapshot {
		img := entity("image", "snapshot", "Snapshot")
		img.ImageTopic = p.topics.snapshot
		img.ContentType = "image/jpeg"
		add("image", "snapshot", img)
	}

	for i, name := range p.cfg.Classes {
		slug := Slug(name)
		b := entity("binary_sensor", slug, name)
		b.StateTopic = p.topics.class[i]
		b.PayloadOn, b.PayloadOff = On, Off
		switch dc := p.cfg.DeviceClass[name]; dc {
		case "":
			b.DeviceClass = DefaultDeviceClass
		case "none":
		default:
			b.DeviceClass = dc
		}
		add("binary_sensor", slug, b)

		s := entity("sensor", slug+"_score", name+" score")
		s.StateTopic = p.topics.state
		s.ValueTemplate = "{{ value_json.watched['" + slug + "'] }}"
		s.StateClass = "measurement"
		s.DisplayPrecision = 2
		s.Icon = "mdi:percent-circle-outline"
		add("sensor", slug+"_score", s)
	}
	return msgs
}

// legacyDiscovery returns the topics of the discovery payloads of earlier versions, named by
// Device rather than DeviceID: onConnect clears them (an empty retained message), so that Home
// Assistant drops their entities instead of showing them next to the new ones.
func (p *Publisher) legacyDiscovery() []string {
	t := []string{p.cfg.DiscoveryPrefix + "/sensor/" + p.cfg.Device + "/label/config"}
	for _, name := range p.cfg.Classes {
		t = append(t, p.cfg.DiscoveryPrefix+"/binary_sensor/"+p.cfg.Device+"_"+Slug(name)+"/config")
	}
	return t
}

// mustJSON encodes values that cannot fail to encode (strings, numbers and slices of them).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("mqtt: encoding a fixed payload type: " + err.Error())
	}
	return b
}

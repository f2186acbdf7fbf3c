package firmware

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/diskfs/go-diskfs/filesystem"

	"github.com/edgeinfer/edgeinfer/internal/credentials"
)

// TestApplianceReachable reads back what an image built with credentials (no broker) carries: the
// credentials file on the data partition, and init.json telling 'edgeinfer run' to listen on every
// interface with it; and what one built with a broker carries: the broker, no credentials.
func TestApplianceReachable(t *testing.T) {
	c, err := credentials.Generate()
	if err != nil {
		t.Fatal(err)
	}
	out, _, _ := buildTestAppliance(t, "pi3", func(o *ApplianceOptions) { o.Credentials = &c })
	im := openImage(t, out)
	got, err := credentials.Parse("data:/credentials.yaml", readFS(t, im.fs(3, filesystem.TypeFat32), "/credentials.yaml"))
	if err != nil || got != c {
		t.Errorf("data:/credentials.yaml: %+v, %v; want %+v", got, err, c)
	}
	if readme := string(readFS(t, im.fs(3, filesystem.TypeFat32), "/README.txt")); !strings.Contains(readme, "credentials.yaml") {
		t.Error("data: README.txt does not explain credentials.yaml")
	}
	var ic InitConfig
	if err := json.Unmarshal(readFS(t, im.fs(2, filesystem.TypeSquashfs), RootInitConfig), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.Listen != ApplianceListen || ic.MQTTListen != ApplianceMQTTListen || ic.Credentials != DataCredentials || ic.Broker != "" {
		t.Errorf("init.json: listen %q, mqtt_listen %q, credentials %q, broker %q", ic.Listen, ic.MQTTListen, ic.Credentials, ic.Broker)
	}

	out, _, _ = buildTestAppliance(t, "pi3", func(o *ApplianceOptions) { o.Broker = "tcp://ha.lan:1883" })
	im = openImage(t, out)
	ic = InitConfig{}
	if err := json.Unmarshal(readFS(t, im.fs(2, filesystem.TypeSquashfs), RootInitConfig), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.Broker != "tcp://ha.lan:1883" || ic.Listen != "" || ic.MQTTListen != "" || ic.Credentials != "" {
		t.Errorf("init.json with a broker: %+v", ic)
	}
	if _, err := im.fs(3, filesystem.TypeFat32).OpenFile("/credentials.yaml", 0); err == nil {
		t.Error("an image with a broker has credentials.yaml")
	}
}

func TestApplianceCredentialsBad(t *testing.T) {
	pi3, _ := LookupBoard("pi3")
	for _, tc := range []struct {
		o    ApplianceOptions
		want string
	}{
		{ApplianceOptions{Broker: "tcp://x:1883", Credentials: &credentials.Credentials{Username: "u", Password: "0123456789abc"}}, "a broker and credentials"},
		{ApplianceOptions{Credentials: &credentials.Credentials{Username: "u", Password: "short"}}, "firmware: credentials: ApplianceOptions.Credentials: password: 5 characters"},
	} {
		tc.o.Board = pi3
		tc.o.Payload = Payload{Binary: testBinary(t), Model: testModel(t)}
		_, err := BuildAppliance(testContext(t, time.Minute), t.TempDir()+"/x.img", tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o.Credentials, err, tc.want)
		}
	}
}

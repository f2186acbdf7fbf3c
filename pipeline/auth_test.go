package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeinfer/edgeinfer/internal/credentials"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

var testCreds = credentials.Credentials{Username: "edgeinfer-test01", Password: "Ab3dEf6hIj9kLm2nOp5q"}

// anyAddr returns a free port on all interfaces (0.0.0.0:PORT) and the loopback address the test
// reaches it by: the broker's and the page's decisions must follow the address they listen on,
// not the address a client comes from.
func anyAddr(t *testing.T) (listen, dial string) {
	t.Helper()
	dial = freeAddr(t)
	_, port, _ := net.SplitHostPort(dial)
	return net.JoinHostPort("0.0.0.0", port), dial
}

// connect tries one MQTT CONNECT to broker with user and pass ("" for none) and returns its error.
func connect(broker, user, pass string) error {
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("auth-%d", time.Now().UnixNano())).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second)
	if user != "" {
		o.SetUsername(user)
	}
	if pass != "" {
		o.SetPassword(pass)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("connect timed out")
	}
	if tok.Error() == nil {
		c.Disconnect(50)
	}
	return tok.Error()
}

// checkBrokerAuth connects to broker without credentials, with a wrong password, with the
// username alone and with the password alone (all must be refused, as "not authorized"), then
// with c (must succeed).
func checkBrokerAuth(t *testing.T, broker string, c credentials.Credentials) {
	t.Helper()
	for _, tc := range []struct{ name, user, pass string }{
		{"no credentials", "", ""},
		{"wrong password", c.Username, c.Password + "x"},
		{"wrong username", c.Username + "x", c.Password},
		{"username alone", c.Username, ""},
		{"password alone", "", c.Password},
	} {
		err := connect(broker, tc.user, tc.pass)
		if err == nil {
			t.Errorf("%s: CONNECT to %s accepted", tc.name, broker)
		} else if !strings.Contains(err.Error(), "not Authorized") && !strings.Contains(err.Error(), "bad user name or password") {
			t.Errorf("%s: CONNECT to %s: %v, want a refusal for bad credentials", tc.name, broker, err)
		}
	}
	if err := connect(broker, c.Username, c.Password); err != nil {
		t.Errorf("CONNECT with the credentials: %v", err)
	}
}

func TestBrokerAuth(t *testing.T) {
	listen, dial := anyAddr(t)
	b, err := StartBrokerAuth(listen, testCreds, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkBrokerAuth(t, "tcp://"+dial, testCreds)

	// An authenticated client publishes and subscribes as on the loopback broker.
	o := paho.NewClientOptions().AddBroker("tcp://" + dial).SetClientID("auth-pubsub").
		SetUsername(testCreds.Username).SetPassword(testCreds.Password)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	got := make(chan string, 1)
	if tok := c.Subscribe("a/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := c.Publish("a/b", 1, false, "hello"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case m := <-got:
		if m != "hello" {
			t.Errorf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not delivered")
	}

	if _, err := StartBrokerAuth("127.0.0.1:0", credentials.Credentials{Username: "u"}, quietLog()); err == nil {
		t.Error("StartBrokerAuth with an empty password: no error")
	}
}

// The loopback broker refuses nobody from loopback, with or without a username (as before).
func TestBrokerLoopbackAnonymous(t *testing.T) {
	b, err := StartBroker("127.0.0.1:0", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := connect(b.URL(), "", ""); err != nil {
		t.Errorf("anonymous CONNECT on loopback: %v", err)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1883": true, "[::1]:9108": true, "localhost:9108": true, "127.0.0.53:1": true,
		"0.0.0.0:1883": false, ":1883": false, "[::]:1883": false, "192.168.1.5:1883": false,
		"edgeinfer.local:9108": false, "127.0.0.1": false, "": false,
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// statusOf GETs url with the given basic-auth pair (none when user is "") and returns the status
// and the WWW-Authenticate header.
func statusOf(t *testing.T, url, user, pass string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// checkPageAuth checks that every path of the status server at base answers 401 with a basic
// challenge without credentials or with wrong ones, and not 401 with c.
func checkPageAuth(t *testing.T, base string, c credentials.Credentials, paths ...string) {
	t.Helper()
	for _, p := range paths {
		for _, tc := range []struct{ name, user, pass string }{
			{"no credentials", "", ""},
			{"wrong password", c.Username, c.Password[:len(c.Password)-1]},
			{"wrong username", "admin", c.Password},
		} {
			code, chal := statusOf(t, base+p, tc.user, tc.pass)
			if code != http.StatusUnauthorized || !strings.HasPrefix(chal, `Basic realm="edgeinfer"`) {
				t.Errorf("GET %s, %s: %d, WWW-Authenticate %q; want 401 with a basic challenge", p, tc.name, code, chal)
			}
		}
		if code, _ := statusOf(t, base+p, c.Username, c.Password); code == http.StatusUnauthorized {
			t.Errorf("GET %s with the credentials: 401", p)
		}
	}
}

func TestBasicAuthHandler(t *testing.T) {
	m := newMetrics()
	srv := httptest.NewServer(BasicAuth(testCreds, m.Handler("dev")))
	defer srv.Close()
	checkPageAuth(t, srv.URL, testCreds, "/", "/metrics", "/frame.jpg", "/nonexistent")
	if code, _ := statusOf(t, srv.URL+"/metrics", testCreds.Username, testCreds.Password); code != 200 {
		t.Errorf("/metrics with the credentials: %d", code)
	}
}

func writeCreds(t *testing.T, c credentials.Credentials) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials.yaml")
	if err := os.WriteFile(p, c.Marshal(""), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Run refuses to listen beyond loopback without credentials, naming the key, its line and the fix,
// before it loads the model; and a credentials file that cannot be read.
func TestRunNeedsCredentials(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"model: m.tflite\nmqtt:\n  listen: 0.0.0.0:1883\n", ":3: mqtt.listen (--mqtt-listen) 0.0.0.0:1883 is reachable from the network and there are no credentials"},
		{"model: m.tflite\nlisten: :9108\n", ":2: listen (--listen) :9108 is reachable from the network and there are no credentials"},
		{"model: m.tflite\nlisten: 192.168.1.9:9108\n", "set credentials: (--credentials) to a file with username: and password:"},
		{"model: m.tflite\ncredentials: /nonexistent/credentials.yaml\n", ":2: credentials (--credentials): open /nonexistent/credentials.yaml"},
	} {
		p := writeConfig(t, tc.yaml)
		var cfg Config
		if err := cfg.LoadFile(p); err != nil {
			t.Fatal(err)
		}
		err := Run(context.Background(), cfg, quietLog())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "pipeline: "+p) {
			t.Errorf("%q: %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
	// With an external broker, mqtt.listen is not used: no credentials needed for it.
	cfg := Config{Model: "/nonexistent.tflite", MQTT: MQTT{Broker: "tcp://127.0.0.1:1", Listen: "0.0.0.0:1883"}}
	if err := Run(context.Background(), cfg, quietLog()); err == nil || strings.Contains(err.Error(), "credentials") {
		t.Errorf("external broker: %v, want the model's error", err)
	}
}

// TestRunReachable runs the pipeline with the embedded broker and the status page on all
// interfaces and a credentials file, as an appliance built without --broker does: a client with
// the credentials gets the states, others are refused; the page and /metrics ask for them.
func TestRunReachable(t *testing.T) {
	mp, labels := modelAndLabels(t)
	mqttListen, mqttDial := anyAddr(t)
	httpListen, httpDial := anyAddr(t)
	cfg := Config{
		Model: mp, Labels: labels, Source: "pattern:?size=160x120&fps=30", Device: "reach",
		Heartbeat: 100 * time.Millisecond, Listen: httpListen, Credentials: writeCreds(t, testCreds),
		MQTT: MQTT{Listen: mqttListen},
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()

	broker := "tcp://" + mqttDial
	msgs := make(chan paho.Message, 100)
	o := paho.NewClientOptions().AddBroker(broker).SetClientID("reach-sub").SetAutoReconnect(false).
		SetUsername(testCreds.Username).SetPassword(testCreds.Password)
	c := paho.NewClient(o)
	deadline := time.Now().Add(30 * time.Second)
	for {
		tok := c.Connect()
		if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cannot connect to %s: %v", broker, tok.Error())
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer c.Disconnect(100)
	if tok := c.Subscribe("edgeinfer/reach/#", 1, func(_ paho.Client, m paho.Message) { msgs <- m }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	states, online := 0, false
	timeout := time.After(30 * time.Second)
	for states < 2 || !online {
		select {
		case m := <-msgs:
			switch m.Topic() {
			case "edgeinfer/reach/state":
				checkState(t, m.Payload(), labels)
				states++
			case "edgeinfer/reach/availability":
				online = online || string(m.Payload()) == mqtt.Online
			}
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		case <-timeout:
			t.Fatalf("after 30 s: %d states, online %v", states, online)
		}
	}
	checkBrokerAuth(t, broker, testCreds)
	checkPageAuth(t, "http://"+httpDial, testCreds, "/", "/metrics", "/frame.jpg")
	if code, _ := statusOf(t, "http://"+httpDial+"/", testCreds.Username, testCreds.Password); code != 200 {
		t.Errorf("status page with the credentials: %d", code)
	}
	// The broker's start is logged once, saying that clients must authenticate.
	if l := logs.String(); strings.Count(l, `msg="embedded MQTT broker`) != 1 || !strings.Contains(l, `msg="embedded MQTT broker: clients must authenticate" addr=`) {
		t.Errorf("want one log line of the embedded broker's start, with authentication:\n%s", l)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

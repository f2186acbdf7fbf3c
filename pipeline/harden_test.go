package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeinfer/edgeinfer/pipeline/decide"
	"github.com/edgeinfer/edgeinfer/publish/mqtt"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestThresholdsCommandSummarised: a thresholds command naming 100,000 unknown classes (and one
// known) writes one warning and one info line, not 100,000.
func TestThresholdsCommandSummarised(t *testing.T) {
	l := newTestLoop(t, decide.Config{Classes: []decide.Class{{Name: "goldfish, Carassius auratus", On: 0.5}}})
	var logs syncBuffer
	l.log = slog.New(slog.NewTextHandler(&logs, nil))
	th := map[string]mqtt.Threshold{"goldfish, Carassius auratus": {On: 0.9, Off: 0.2}}
	for i := range 100000 {
		th[fmt.Sprintf("class%06d", i)] = mqtt.Threshold{On: 0.9}
	}
	l.apply(mqtt.Command{Command: mqtt.CmdThresholds, Thresholds: th})
	out := logs.String()
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d log lines for one command, want 2 (one warning, one info):\n%.2000s", n, out)
	}
	if !strings.Contains(out, "refused=100000") || !strings.Contains(out, "classes=1 ") {
		t.Errorf("log does not count the refused and set classes:\n%.2000s", out)
	}
	if c := l.dec.Class(0); c.On != 0.9 || c.Off != 0.2 {
		t.Errorf("known class not set: %+v", c)
	}
}

// TestBrokerMaxPacket: the embedded broker disconnects a client sending a packet larger than
// BrokerMaxPacket instead of reading it and passing it on.
func TestBrokerMaxPacket(t *testing.T) {
	b, err := StartBroker("127.0.0.1:0", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	msgs := subscribe(t, b.URL(), "big/#")
	lost := make(chan error, 1)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("big-pub").SetAutoReconnect(false).
		SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err }))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	c.Publish("big/one", 1, false, make([]byte, 2*BrokerMaxPacket))
	select {
	case err := <-lost:
		t.Logf("publisher disconnected: %v", err)
	case m := <-msgs:
		t.Fatalf("a %d-byte message went through the broker", len(m.Payload()))
	case <-time.After(10 * time.Second):
		t.Fatal("the broker neither refused nor delivered the large packet")
	}
	// A message within the limit still goes through.
	c2 := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("small-pub"))
	if tok := c2.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c2.Disconnect(100)
	if tok := c2.Publish("big/two", 1, false, make([]byte, BrokerMaxPacket/2)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case m := <-msgs:
		if m.Topic() != "big/two" {
			t.Errorf("got %s", m.Topic())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a message within the limit was not delivered")
	}
}

// TestRunUndeliveredIsAnError: stopped (ctx cancelled) while its broker is unreachable, Run drains
// for DrainTimeout, then returns an error saying how many labels were not delivered (so the
// daemon exits non-zero), and /metrics counted the labels the full outbox dropped.
func TestRunUndeliveredIsAnError(t *testing.T) {
	mp, labels := modelAndLabels(t)
	broker, httpAddr := "tcp://"+freeAddr(t), freeAddr(t)
	var logs syncBuffer
	cfg := Config{
		Model: mp, Labels: labels, Source: "pattern:?size=320x240&fps=30", Device: "undelivered",
		Heartbeat: time.Millisecond, Listen: httpAddr, DrainTimeout: 300 * time.Millisecond,
		MQTT: MQTT{Broker: broker, Outbox: 5},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()
	var body string
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(body, `edgeinfer_mqtt_dropped_total{reason="outbox_full"}`) ||
		strings.Contains(body, `edgeinfer_mqtt_dropped_total{reason="outbox_full"} 0`) {
		if time.Now().After(deadline) {
			t.Fatalf("no dropped labels counted in /metrics after 60 s:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
		body = tryGet("http://" + httpAddr + "/metrics")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "messages not delivered to "+broker) {
			t.Errorf("Run: %v; want an error naming the undelivered labels", err)
		}
		t.Logf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	if n := strings.Count(logs.String(), "outbox is full"); n != 1 {
		t.Errorf("%d warnings that the outbox is full, want 1", n)
	}
}

// tryGet returns the body at url, or "" on an error.
func tryGet(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

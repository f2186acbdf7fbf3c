package pipeline

import (
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestBrokerPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = StartBroker(ln.Addr().String(), quietLog())
	if err == nil || !strings.Contains(err.Error(), "another broker is running: set mqtt.broker") {
		t.Fatalf("broker on a taken port: %v", err)
	}
}

func TestBrokerPubSub(t *testing.T) {
	b, err := StartBroker("127.0.0.1:0", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	msgs := subscribe(t, b.URL(), "a/#")
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("pub"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish("a/b", 1, false, "hello"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case m := <-msgs:
		if m.Topic() != "a/b" || string(m.Payload()) != "hello" {
			t.Errorf("got %s %q", m.Topic(), m.Payload())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not delivered")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "[::1]:80": true, "127.1.2.3:1": true,
		"192.168.1.5:1883": false, "[2001:db8::1]:1883": false, "garbage": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

package mqtt

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// exactSub is mosquitto_sub (Debian package mosquitto-clients, libmosquitto 2.0) subscribed at
// QoS 2 in a persistent session (-c, a fixed client id): a subscriber that implements QoS 2's
// exactly once. libmosquitto passes a QoS 2 message on when the broker's PUBREL comes (MQTT
// 3.1.1, 4.3.3, the first method of Figure 4.3) and keeps the messages waiting for their PUBREL
// across a reconnection, so a PUBLISH the broker sends again after a lost connection (DUP set) is
// released once. paho.mqtt.golang v1.5.1 does not: it passes every QoS 2 PUBLISH on as it
// arrives and remembers no packet identifier, so the broker's redelivery reaches the handler a
// second time (TestSubscriberQoS2Redelivery shows both). Its output (-d: the protocol trace,
// -F: the messages) is read while it runs.
type exactSub struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	exited  chan error
	stopped sync.Once
}

// exactSubPrefix starts the lines mosquitto_sub prints for a message (-F), to tell them from its
// trace (-d), whose lines start with "Client ".
const exactSubPrefix = "MSG "

// mosquittoSubBin finds mosquitto_sub, skipping t without it (failing under
// EDGEINFER_REQUIRE_DATA=1).
func mosquittoSubBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto_sub")
	if err != nil {
		unavailable(t, "mosquitto_sub is not installed (apt-get install mosquitto-clients): the exactly-once subscriber")
	}
	return bin
}

// newExactSub starts mosquitto_sub as client id on the broker at 127.0.0.1:port, subscribed at
// QoS 2 to topic, and waits for its SUBACK. Line buffering (stdbuf -oL) makes its trace readable
// while it runs; the messages it flushes itself.
func newExactSub(t testing.TB, port int, id, topic string) *exactSub {
	t.Helper()
	bin := mosquittoSubBin(t)
	args := []string{"-oL", bin, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-V", "mqttv311",
		"-q", "2", "-c", "-i", id, "-t", topic, "-d", "-F", exactSubPrefix + "%t %p"}
	s := &exactSub{out: &lockedBuffer{}, exited: make(chan error, 1)}
	s.cmd = exec.Command("stdbuf", args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		unavailable(t, "stdbuf (coreutils) and mosquitto_sub: "+err.Error())
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(s.stop)
	eventually(t, 10*time.Second, "mosquitto_sub subscribed", func() bool {
		select {
		case err := <-s.exited:
			s.exited <- err
			t.Fatalf("mosquitto_sub exited (%v): %s", err, s.out)
		default:
		}
		return strings.Contains(s.out.String(), "received SUBACK")
	})
	return s
}

// stop ends mosquitto_sub (SIGTERM: it disconnects) and waits for it.
func (s *exactSub) stop() {
	s.stopped.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// payloads returns the payloads of the messages received on topic, in arrival order.
func (s *exactSub) payloads(topic string) []string {
	var out []string
	for _, l := range strings.Split(s.out.String(), "\n") {
		rest, ok := strings.CutPrefix(l, exactSubPrefix)
		if !ok {
			continue
		}
		if tp, p, ok := strings.Cut(rest, " "); ok && tp == topic {
			out = append(out, p)
		}
	}
	return out
}

// seqs reads the seq of every state message received on topic, in arrival order.
func (s *exactSub) seqs(t testing.TB, topic string) []uint64 {
	t.Helper()
	var out []uint64
	for _, p := range s.payloads(topic) {
		var st struct {
			Seq uint64 `json:"seq"`
		}
		if err := json.Unmarshal([]byte(p), &st); err != nil {
			t.Fatalf("mosquitto_sub: state %q: %v", p, err)
		}
		out = append(out, st.Seq)
	}
	return out
}

// trace counts, in mosquitto_sub's protocol trace, the PUBLISH packets the broker sent again
// (DUP set), the PUBLISH packets in all and the CONNACKs accepting a connection.
func (s *exactSub) trace() (redelivered, publishes, connects int) {
	for _, l := range strings.Split(s.out.String(), "\n") {
		if !strings.HasPrefix(l, "Client ") {
			continue
		}
		switch {
		case strings.Contains(l, " received PUBLISH (d1,"):
			redelivered++
			publishes++
		case strings.Contains(l, " received PUBLISH ("):
			publishes++
		case strings.Contains(l, " received CONNACK (0)"):
			connects++
		}
	}
	return redelivered, publishes, connects
}

// TestSubscriberQoS2Redelivery: a broker whose connection to a subscriber goes down after it sent
// a QoS 2 PUBLISH, before it took in the PUBREC, sends that PUBLISH again on the next connection
// of the session (DUP set, same packet identifier; MQTT 3.1.1, 4.4), then the PUBREL. This plays
// that broker to each subscriber of the soak, followed by a second message that marks the end,
// and counts how often the first reaches the application: once from mosquitto_sub (exactSub), the
// subscriber the soak judges duplicates by, and twice from paho.mqtt.golang v1.5.1 (the soak's
// paho watcher), which is why the soak does not count that watcher's redeliveries against the
// Publisher.
func TestSubscriberQoS2Redelivery(t *testing.T) {
	mosquittoSubBin(t)
	for _, sub := range []struct {
		name string
		want int
		seqs func(t *testing.T, port int) func() []uint64
	}{
		{"mosquitto_sub", 1, func(t *testing.T, port int) func() []uint64 {
			s := newExactSub(t, port, "redelivery-exact", "t")
			return func() []uint64 { return s.seqs(t, "t") }
		}},
		{"paho.mqtt.golang", 2, func(t *testing.T, port int) func() []uint64 {
			w := newWatcherQoS(t, "tcp://127.0.0.1:"+strconv.Itoa(port), "redelivery-paho", true, 2, "t")
			return func() []uint64 { return seqs(t, w, "t") }
		}},
	} {
		t.Run(sub.name, func(t *testing.T) {
			port, script := redeliveringBroker(t)
			got := sub.seqs(t, port)
			eventually(t, 15*time.Second, "the second message received", func() bool { return slices.Contains(got(), 2) })
			if err := <-script; err != nil {
				t.Fatal(err)
			}
			want := append(slices.Repeat([]uint64{1}, sub.want), 2)
			t.Logf("%s received seqs %v", sub.name, got())
			if !slices.Equal(got(), want) {
				t.Errorf("%s received seqs %v, want %v (the redelivered message %d times)", sub.name, got(), want, sub.want)
			}
		})
	}
}

// redeliveringBroker plays, on a free port of 127.0.0.1, the broker of TestSubscriberQoS2Redelivery
// to one subscriber. The channel reports the end of its script (nil: done as planned).
func redeliveringBroker(t *testing.T) (int, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	accept := func() (net.Conn, error) {
		c, err := l.Accept()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		p, err := packets.ReadPacket(c)
		if err != nil {
			return nil, err
		}
		if _, ok := p.(*packets.ConnectPacket); !ok {
			return nil, fmt.Errorf("first packet %v, want CONNECT", p)
		}
		return c, nil
	}
	send := func(c net.Conn, p packets.ControlPacket) error { return p.Write(c) }
	publish := func(id uint16, seq int, dup bool) *packets.PublishPacket {
		p := publishPacket(id, 2, fmt.Sprintf(`{"seq":%d}`, seq))
		p.Dup = dup
		return p
	}
	go func() {
		done <- func() error {
			// The first connection: CONNACK, SUBACK, the PUBLISH; its PUBREC read but "lost" with the connection.
			c, err := accept()
			if err != nil {
				return err
			}
			if err := send(c, packets.NewControlPacket(packets.Connack)); err != nil {
				return err
			}
			p, err := packets.ReadPacket(c)
			if err != nil {
				return err
			}
			sub, ok := p.(*packets.SubscribePacket)
			if !ok {
				return fmt.Errorf("%v, want SUBSCRIBE", p)
			}
			ack := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
			ack.MessageID, ack.ReturnCodes = sub.MessageID, []byte{2}
			if err := send(c, ack); err != nil {
				return err
			}
			if err := send(c, publish(7, 1, false)); err != nil {
				return err
			}
			if p, err = packets.ReadPacket(c); err != nil {
				return err
			}
			if rec, ok := p.(*packets.PubrecPacket); !ok || rec.MessageID != 7 {
				return fmt.Errorf("%v, want PUBREC 7", p)
			}
			c.Close()
			// The session resumed: the PUBLISH again, then PUBREL for each PUBREC, and the second
			// message after the first one's PUBCOMP.
			if c, err = accept(); err != nil {
				return err
			}
			connack := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)
			connack.SessionPresent = true
			if err := send(c, connack); err != nil {
				return err
			}
			if err := send(c, publish(7, 1, true)); err != nil {
				return err
			}
			for {
				p, err := packets.ReadPacket(c)
				if err != nil {
					return err
				}
				switch p := p.(type) {
				case *packets.SubscribePacket: // mosquitto_sub subscribes at every connection
					ack := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
					ack.MessageID, ack.ReturnCodes = p.MessageID, []byte{2}
					err = send(c, ack)
				case *packets.PubrecPacket:
					rel := packets.NewControlPacket(packets.Pubrel).(*packets.PubrelPacket)
					rel.MessageID = p.MessageID
					err = send(c, rel)
				case *packets.PubcompPacket:
					if p.MessageID == 8 {
						return nil
					}
					err = send(c, publish(8, 2, false))
				case *packets.PingreqPacket:
					err = send(c, packets.NewControlPacket(packets.Pingresp))
				default:
					return fmt.Errorf("unexpected %v", p)
				}
				if err != nil {
					return err
				}
			}
		}()
	}()
	return l.Addr().(*net.TCPAddr).Port, done
}

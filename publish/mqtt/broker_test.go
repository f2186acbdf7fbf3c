package mqtt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// The tests run real mosquitto brokers on free ports of 127.0.0.1, each with its own config file,
// so that a broker can be stopped and started again on the same port, or given a password file
// or TLS. (internal/vmtest.StartMosquitto starts only an anonymous broker that cannot be
// restarted.)

// mosquittoBin finds mosquitto, skipping t without it (failing under EDGEINFER_REQUIRE_DATA=1).
func mosquittoBin(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("mosquitto"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	unavailable(t, "mosquitto is not installed (apt-get install mosquitto); MQTT tests need a real broker")
	return ""
}

// unavailable skips t for a missing tool, or fails it under EDGEINFER_REQUIRE_DATA=1 (CI).
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("EDGEINFER_REQUIRE_DATA") == "1" {
		t.Fatal(msg + " (EDGEINFER_REQUIRE_DATA=1)")
	}
	t.Skip(msg)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// brokerOpts configures a test broker.
type brokerOpts struct {
	port    int               // 0: a free one
	persist bool              // keep sessions and retained messages across a stop (SIGTERM) and start
	users   map[string]string // a password file with these users; no anonymous access
	tls     *testPKI          // a TLS listener with this server certificate, requiring client certificates
}

type testBroker struct {
	t      testing.TB
	bin    string
	port   int
	conf   string
	cmd    *exec.Cmd
	exited chan error
	out    *lockedBuffer
	upAt   time.Time // when the last start saw the port accept connections
}

// startBroker starts a mosquitto for t and stops it when t ends.
func startBroker(t testing.TB, o brokerOpts) *testBroker {
	t.Helper()
	bin := mosquittoBin(t)
	dir := t.TempDir()
	var lastErr error
	for range 5 {
		port := o.port
		if port == 0 {
			port = freePort(t)
		}
		b := &testBroker{t: t, bin: bin, port: port, conf: filepath.Join(dir, "mosquitto.conf")}
		var conf strings.Builder
		fmt.Fprintf(&conf, "listener %d 127.0.0.1\nlog_dest stderr\nlog_type error\nlog_type warning\n", port)
		if os.Geteuid() == 0 {
			conf.WriteString("user root\n") // stay root, so that it can use the test's directory
		}
		if o.persist {
			fmt.Fprintf(&conf, "persistence true\npersistence_location %s/\nautosave_interval 3600\nmax_queued_messages 0\n", dir)
		} else {
			conf.WriteString("persistence false\n")
		}
		if o.users != nil {
			pw := filepath.Join(dir, "passwd")
			for u, p := range o.users {
				args := []string{"-b", pw, u, p}
				if _, err := os.Stat(pw); err != nil {
					args = append([]string{"-c"}, args...)
				}
				if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
					unavailable(t, fmt.Sprintf("mosquitto_passwd (Debian package mosquitto): %v: %s", err, out))
				}
			}
			fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", pw)
		} else {
			conf.WriteString("allow_anonymous true\n")
		}
		if o.tls != nil {
			fmt.Fprintf(&conf, "cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n", o.tls.ca, o.tls.serverCert, o.tls.serverKey)
		}
		if err := os.WriteFile(b.conf, []byte(conf.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if lastErr = b.start(); lastErr == nil {
			t.Cleanup(b.stop)
			return b
		}
		if o.port != 0 {
			break
		}
	}
	t.Fatalf("mosquitto did not start: %v", lastErr)
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs mosquitto and waits until it accepts connections.
func (b *testBroker) start() error {
	b.out = &lockedBuffer{}
	b.cmd = exec.Command(b.bin, "-c", b.conf)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		return err
	}
	b.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(b.cmd, b.exited)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-b.exited:
			b.cmd = nil
			return fmt.Errorf("mosquitto on port %d exited (%v): %s", b.port, err, b.out)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			b.upAt = time.Now()
			c.Close()
			select {
			case err := <-b.exited: // someone else's listener
				b.cmd = nil
				return fmt.Errorf("mosquitto on port %d exited (%v): %s", b.port, err, b.out)
			case <-time.After(20 * time.Millisecond):
				return nil
			}
		}
		if time.Now().After(deadline) {
			b.stop()
			return fmt.Errorf("mosquitto on port %d not accepting connections: %s", b.port, b.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends mosquitto with SIGTERM (it saves its persistence file then) and waits for it.
func (b *testBroker) stop() {
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
	}
	b.cmd = nil
}

// restart starts the stopped broker again on the same port.
func (b *testBroker) restart() {
	b.t.Helper()
	var err error
	for range 50 { // the port may linger for a moment
		if err = b.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("restarting mosquitto: %v", err)
}

func (b *testBroker) url() string { return "tcp://127.0.0.1:" + strconv.Itoa(b.port) }

// rec is a message a watcher received.
type rec struct {
	topic, payload string
	retained       bool
	dup            bool // the DUP flag: the broker sent this message to the watcher before
}

// watcher is a plain paho client that records what it receives.
type watcher struct {
	c    paho.Client
	mu   sync.Mutex
	msgs []rec
}

// newWatcher connects a watcher subscribed to filters. With persistent, its session (and so its
// subscriptions and the QoS 1 messages for it) survives a broker restart with persistence.
func newWatcher(t testing.TB, url, id string, persistent bool, filters ...string) *watcher {
	t.Helper()
	return newWatcherQoS(t, url, id, persistent, 1, filters...)
}

// newWatcherQoS is newWatcher subscribing at qos.
func newWatcherQoS(t testing.TB, url, id string, persistent bool, qos byte, filters ...string) *watcher {
	t.Helper()
	w := &watcher{}
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(!persistent).
		SetProtocolVersion(4).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectTimeout(2 * time.Second).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
			w.mu.Lock()
			w.msgs = append(w.msgs, rec{m.Topic(), string(m.Payload()), m.Retained(), m.Duplicate()})
			w.mu.Unlock()
		})
	w.c = paho.NewClient(opts)
	if tok := w.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect: %v", tok.Error())
	}
	m := map[string]byte{}
	for _, f := range filters {
		m[f] = qos
	}
	if tok := w.c.SubscribeMultiple(m, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { w.c.Disconnect(100) })
	return w
}

// on returns the messages received on topic.
func (w *watcher) on(topic string) []rec {
	w.mu.Lock()
	defer w.mu.Unlock()
	var r []rec
	for _, m := range w.msgs {
		if m.topic == topic {
			r = append(r, m)
		}
	}
	return r
}

// publish sends a QoS 1 message and waits for its PUBACK.
func (w *watcher) publish(t testing.TB, topic, payload string, retained bool) {
	t.Helper()
	if tok := w.c.Publish(topic, 1, retained, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher publish %s: %v", topic, tok.Error())
	}
}

// eventually waits up to d for cond.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edgeinfer test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, []byte) {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der, kder
	}
	sc, sk := leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	cc, ck := leaf(3, "edgeinfer-client", x509.ExtKeyUsageClientAuth)
	return &testPKI{
		ca:         write("ca.pem", "CERTIFICATE", caDER),
		serverCert: write("server.pem", "CERTIFICATE", sc),
		serverKey:  write("server.key", "PRIVATE KEY", sk),
		clientCert: write("client.pem", "CERTIFICATE", cc),
		clientKey:  write("client.key", "PRIVATE KEY", ck),
	}
}

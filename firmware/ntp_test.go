package firmware

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/internal/vmtest"
)

func TestNTPTime(t *testing.T) {
	for _, s := range []string{"1970-01-01T00:00:00Z", "2026-12-03T07:52:10.123456789Z", "2035-12-31T23:59:59Z", "2036-02-07T06:28:16Z", "2040-05-01T12:00:00.5Z"} {
		want, _ := time.Parse(time.RFC3339Nano, s)
		got := toNTP(want).time()
		if d := got.Sub(want).Abs(); d > time.Nanosecond {
			t.Errorf("%s: round trip gives %v (off by %v)", s, got, d)
		}
	}
	// NTP era 0's first second (1900) reads as era 1 (2036): the server's clock is never before 1968.
	if got := ntpTime(0x80000000 << 32).time().UTC().Format(time.RFC3339); got != "1968-01-20T03:14:08Z" {
		t.Errorf("0x80000000 = %s", got)
	}
}

// answer builds a server answer to nonce: received at recv, sent at xmit.
func answer(nonce ntpTime, recv, xmit time.Time, mutate func([]byte)) []byte {
	b := make([]byte, 48)
	b[0] = 4<<3 | 4
	b[1] = 2
	binary.BigEndian.PutUint64(b[24:], uint64(nonce))
	binary.BigEndian.PutUint64(b[32:], uint64(toNTP(recv)))
	binary.BigEndian.PutUint64(b[40:], uint64(toNTP(xmit)))
	if mutate != nil {
		mutate(b)
	}
	return b
}

func TestParseNTP(t *testing.T) {
	// A client whose clock reads 1970 asks a server at 2026: 20 ms out, 10 ms back, 1 ms inside.
	t1 := time.Unix(100, 0)
	server := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	t2 := server.Add(20 * time.Millisecond)
	t3 := t2.Add(time.Millisecond)
	t4 := t1.Add(31 * time.Millisecond)
	const nonce = ntpTime(0x1122334455667788)
	r, err := parseNTP(answer(nonce, t2, t3, nil), nonce, t1, t4)
	if err != nil {
		t.Fatal(err)
	}
	if r.RTT != 30*time.Millisecond || r.Stratum != 2 {
		t.Errorf("RTT %v stratum %d, want 30ms and 2", r.RTT, r.Stratum)
	}
	// The true server time at t4 is t3 + 10 ms (the way back); the symmetric estimate says t3 + 15 ms.
	if want := t3.Add(15 * time.Millisecond); r.Time.Sub(want).Abs() > time.Microsecond {
		t.Errorf("time %v, want %v", r.Time, want)
	}
	bad := []struct {
		name   string
		b      []byte
		want   string
		stray  bool
		mutate func([]byte)
	}{
		{name: "short", b: make([]byte, 47), want: "47 bytes"},
		{name: "client mode", mutate: func(b []byte) { b[0] = 4<<3 | 3 }, want: "mode 3"},
		{name: "version 2", mutate: func(b []byte) { b[0] = 2<<3 | 4 }, want: "version 2"},
		{name: "other request", mutate: func(b []byte) { b[24] ^= 1 }, stray: true},
		{name: "kiss of death", mutate: func(b []byte) { b[1] = 0; copy(b[12:], "RATE") }, want: `kiss-of-death "RATE"`},
		{name: "unsynchronised", mutate: func(b []byte) { b[0] |= 3 << 6 }, want: "not synchronised"},
		{name: "stratum 16", mutate: func(b []byte) { b[1] = 16 }, want: "not synchronised"},
		{name: "no transmit time", mutate: func(b []byte) { clear(b[40:48]) }, want: "without a transmit timestamp"},
		{name: "sent before received", mutate: func(b []byte) { copy(b[40:48], b[32:40]); b[39]++ }, want: "before receiving"},
	}
	for _, c := range bad {
		b := c.b
		if b == nil {
			b = answer(nonce, t2, t3, c.mutate)
		}
		_, err := parseNTP(b, nonce, t1, t4)
		if c.stray {
			if err != errNTPStray {
				t.Errorf("%s: %v, want errNTPStray", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func FuzzParseNTP(f *testing.F) {
	now := time.Now()
	f.Add(answer(1, now, now.Add(time.Millisecond), nil))
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, b []byte) {
		var nonce ntpTime
		if len(b) >= 32 {
			nonce = ntpTime(binary.BigEndian.Uint64(b[24:32]))
		}
		r, err := parseNTP(b, nonce, now, now.Add(time.Millisecond))
		if err == nil && (r.RTT < 0 || r.Stratum < 1 || r.Stratum > 15) {
			t.Fatalf("accepted %x as %+v", b, r)
		}
	})
}

// TestQueryNTP asks a real NTP server (chronyd serving this machine's clock) for the time.
func TestQueryNTP(t *testing.T) {
	s := vmtest.StartNTPServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := QueryNTP(ctx, s.HostAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	// The same clock on both sides: the offset is the measurement's error only.
	if r.Offset.Abs() > 50*time.Millisecond || r.Stratum != 8 || r.RTT > time.Second {
		t.Errorf("offset %v stratum %d RTT %v: want about 0, 8, < 1 s", r.Offset, r.Stratum, r.RTT)
	}
	if _, err := QueryNTP(ctx, "127.0.0.1:9"); err == nil || !strings.HasPrefix(err.Error(), "firmware: ntp: 127.0.0.1:9") {
		t.Errorf("no server: %v", err)
	}
}

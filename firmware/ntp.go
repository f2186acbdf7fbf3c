package firmware

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// DefaultNTPServers are the time servers the appliance asks when the build names none.
var DefaultNTPServers = []string{"pool.ntp.org"}

// ntpAddr checks that s is host or host:port and returns host:port (port 123 by default).
func ntpAddr(s string) (string, error) {
	host, port := s, "123"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	}
	if host == "" || strings.ContainsAny(host, " /\t,@") {
		return "", fmt.Errorf("firmware: NTP server %q: want a host name or address, optionally with :port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("firmware: NTP server %q: bad port %q", s, port)
	}
	return net.JoinHostPort(host, port), nil
}

// NTPResult is one answer of an NTP server (RFC 5905, as a simple client: RFC 4330).
type NTPResult struct {
	Server  string        // the address asked
	Offset  time.Duration // add to the local clock to get the server's
	RTT     time.Duration // round trip, less the server's processing time
	Stratum int
	Time    time.Time // the server's time when the answer arrived (local clock + Offset)
}

// ntpEpochOffset is the number of seconds from 1900-01-01 (NTP's era 0) to 1970-01-01.
const ntpEpochOffset = 2208988800

// ntpTime is an NTP timestamp: seconds since 1900 (32 bits) and a binary fraction (32 bits).
type ntpTime uint64

func toNTP(t time.Time) ntpTime {
	ns := t.UnixNano()
	sec := uint64(ns/1e9 + ntpEpochOffset)
	frac := uint64(ns%1e9) << 32 / 1e9
	return ntpTime(sec<<32 | frac)
}

// time converts an NTP timestamp, taking seconds with the top bit clear to be in era 1 (from
// 2036-02-07): the appliance's clock may start at 1970 but the server's is current.
func (t ntpTime) time() time.Time {
	sec := int64(t >> 32)
	if sec&(1<<31) == 0 {
		sec += 1 << 32
	}
	frac := int64(uint64(t&0xffffffff) * 1e9 >> 32)
	return time.Unix(sec-ntpEpochOffset, frac)
}

// QueryNTP asks server (host or host:port; port 123 by default) for the time once, with a 5 s
// timeout (or ctx's).
func QueryNTP(ctx context.Context, server string) (NTPResult, error) {
	addr, err := ntpAddr(server)
	if err != nil {
		return NTPResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return NTPResult{}, fmt.Errorf("firmware: ntp: %s: %w", server, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// The transmit timestamp is random (RFC 9109: the server echoes it, which is all a client
	// needs to match the answer, and it does not reveal the local clock); T1 is kept here.
	req := make([]byte, 48)
	req[0] = 0<<6 | 4<<3 | 3 // LI 0, version 4, mode 3 (client)
	rand.Read(req[40:48])
	nonce := ntpTime(binary.BigEndian.Uint64(req[40:48]))
	t1 := time.Now()
	if _, err := conn.Write(req); err != nil {
		return NTPResult{}, fmt.Errorf("firmware: ntp: %s: %w", server, err)
	}
	buf := make([]byte, 128)
	for {
		n, err := conn.Read(buf)
		t4 := time.Now()
		if err != nil {
			return NTPResult{}, fmt.Errorf("firmware: ntp: %s: %w", server, err)
		}
		r, err := parseNTP(buf[:n], nonce, t1, t4)
		if errors.Is(err, errNTPStray) {
			continue // not the answer to this request
		}
		if err != nil {
			return NTPResult{}, fmt.Errorf("firmware: ntp: %s: %w", server, err)
		}
		r.Server = server
		return r, nil
	}
}

var errNTPStray = errors.New("answer to another request")

// parseNTP checks an NTP server's answer to the request whose transmit timestamp was nonce, sent at
// t1 and received at t4 (local clock), and computes the offset and round trip.
func parseNTP(b []byte, nonce ntpTime, t1, t4 time.Time) (NTPResult, error) {
	if len(b) < 48 {
		return NTPResult{}, fmt.Errorf("answer of %d bytes, want at least 48", len(b))
	}
	li, vn, mode := b[0]>>6, b[0]>>3&7, b[0]&7
	if mode != 4 {
		return NTPResult{}, fmt.Errorf("answer in mode %d, want 4 (server)", mode)
	}
	if vn < 3 || vn > 4 {
		return NTPResult{}, fmt.Errorf("NTP version %d, want 3 or 4", vn)
	}
	if ntpTime(binary.BigEndian.Uint64(b[24:32])) != nonce {
		return NTPResult{}, errNTPStray
	}
	stratum := int(b[1])
	if stratum == 0 {
		code := strings.TrimRight(string(b[12:16]), "\x00")
		return NTPResult{}, fmt.Errorf("kiss-of-death %q from the server (it refuses to answer)", code)
	}
	if stratum > 15 || li == 3 {
		return NTPResult{}, fmt.Errorf("server not synchronised (stratum %d, leap indicator %d)", stratum, li)
	}
	t2 := ntpTime(binary.BigEndian.Uint64(b[32:40])).time()
	t3 := ntpTime(binary.BigEndian.Uint64(b[40:48])).time()
	if binary.BigEndian.Uint64(b[40:48]) == 0 {
		return NTPResult{}, errors.New("answer without a transmit timestamp")
	}
	if t3.Before(t2) {
		return NTPResult{}, fmt.Errorf("server sent its answer (%v) before receiving the request (%v)", t3, t2)
	}
	// Offsets of tens of years (a clock at 1970) overflow time.Duration's arithmetic on times only
	// past 292 years, so Sub is safe.
	rtt := t4.Sub(t1) - t3.Sub(t2)
	if rtt < 0 {
		rtt = 0
	}
	offset := (t2.Sub(t1) + t3.Sub(t4)) / 2
	return NTPResult{Offset: offset, RTT: rtt, Stratum: stratum, Time: t4.Add(offset)}, nil
}

//go:build linux

package firmwarevmtest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/firmware"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
	"golang.org/x/sys/unix"
)

// TestSyncClock sets the guest's clock back to 2001, as a board without a battery-backed clock
// starts, then lets firmware.SyncClock set it from a chrony NTP server on the host: afterwards the
// guest's clock must agree with the host's.
func TestSyncClock(t *testing.T) {
	var env map[string]string
	var server *vmtest.NTPServer
	if !vmtest.InGuest() {
		vmtest.RequireVM(t)
		server = vmtest.StartNTPServer(t)
		env = map[string]string{"NTP_SERVER": server.GuestAddr(), "HOST_UNIX_START": strconv.FormatInt(time.Now().Unix(), 10)}
	}
	vmtest.Run(t, vmtest.Options{Env: env, Timeout: 3 * time.Minute}, func(t *testing.T) {
		hostStart, err := strconv.ParseInt(os.Getenv("HOST_UNIX_START"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		past := unix.NsecToTimespec(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		if err := unix.ClockSettime(unix.CLOCK_REALTIME, &past); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := firmware.SyncClock(ctx, []string{"192.0.2.1:123", os.Getenv("NTP_SERVER")})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		t.Logf("offset %v, RTT %v, stratum %d; clock now %v", r.Offset, r.RTT, r.Stratum, now.UTC())
		if r.Server != os.Getenv("NTP_SERVER") {
			t.Errorf("answer from %q, want the second server (the first, TEST-NET-1, never answers)", r.Server)
		}
		// The host started this test at hostStart; the guest boots and runs for at most the timeout.
		if lo, hi := time.Unix(hostStart, 0), time.Unix(hostStart, 0).Add(3*time.Minute); now.Before(lo) || now.After(hi) {
			t.Errorf("guest clock %v after SyncClock, want between %v and %v", now.UTC(), lo.UTC(), hi.UTC())
		}
		if r.Offset < 20*365*24*time.Hour {
			t.Errorf("offset %v, want the 25 years the clock was set back", r.Offset)
		}
	})
}

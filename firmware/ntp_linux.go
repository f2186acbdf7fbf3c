//go:build linux

package firmware

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"
)

// SyncClock asks the servers in turn and, from the first that answers, steps the system clock
// (CLOCK_REALTIME, which needs CAP_SYS_TIME) when it is off by more than 100 ms. It returns the answer
// used.
func SyncClock(ctx context.Context, servers []string) (NTPResult, error) {
	var errs []error
	for _, s := range servers {
		r, err := QueryNTP(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Offset > 100*time.Millisecond || r.Offset < -100*time.Millisecond {
			ts := unix.NsecToTimespec(time.Now().Add(r.Offset).UnixNano())
			if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
				return r, fmt.Errorf("firmware: ntp: setting the clock: %w", err)
			}
		}
		return r, nil
	}
	if len(errs) == 0 {
		return NTPResult{}, fmt.Errorf("firmware: ntp: no servers")
	}
	return NTPResult{}, fmt.Errorf("firmware: ntp: no server answered: %v", errs)
}

// ntpLoop keeps the clock set: every 2 s, doubling to 64 s, until a server answers (the network may
// not be up yet), then every hour. The Pi has no battery-backed clock: until then it counts from
// 1970.
func ntpLoop(ctx context.Context, log *slog.Logger, servers []string) {
	wait, synced := 2*time.Second, false
	for ctx.Err() == nil {
		r, err := SyncClock(ctx, servers)
		switch {
		case err == nil:
			if !synced || r.Offset.Abs() > time.Second {
				log.Info("edgeinfer init: clock set by NTP", "server", r.Server, "offset", r.Offset.Round(time.Millisecond), "stratum", r.Stratum, "now", time.Now().UTC().Format(time.RFC3339))
			}
			synced, wait = true, time.Hour
		case synced:
			log.Warn("edgeinfer init: NTP", "err", err)
			wait = 5 * time.Minute
		default:
			wait = min(2*wait, 64*time.Second)
		}
		sleepCtx(ctx, wait)
	}
}

//go:build unix

package firmware

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

func lchtimes(path string, t time.Time) error {
	ts := []unix.Timeval{unix.NsecToTimeval(t.UnixNano()), unix.NsecToTimeval(t.UnixNano())}
	if err := unix.Lutimes(path, ts); err != nil {
		return fmt.Errorf("firmware: lutimes %s: %w", path, err)
	}
	return nil
}

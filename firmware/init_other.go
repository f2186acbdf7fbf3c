//go:build !linux

package firmware

import (
	"context"
	"errors"
	"log/slog"
	"os"
)

// RunInit is PID 1 of the appliance image; it needs Linux.
func RunInit(context.Context, *slog.Logger) error {
	return errors.New("firmware: init: the appliance's init runs on Linux only")
}

// InitPID1 exits: only Linux runs the appliance.
func InitPID1() { os.Exit(1) }

//go:build !linux

package vmtest

import (
	"errors"
	"os"
)

func setupGuest(*guestConfig) error { return errors.New("vmtest: the guest side needs Linux") }

func powerOff(code int) { os.Exit(code) }

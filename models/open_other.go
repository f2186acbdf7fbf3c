//go:build !linux

package models

import "os"

// mapFile reads path into memory: only Linux maps it (open_linux.go).
func mapFile(path string) (data []byte, mapped bool, release func() error, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, nil, err
	}
	return b, false, func() error { return nil }, nil
}

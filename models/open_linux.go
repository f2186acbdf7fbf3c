//go:build linux

package models

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps path read-only and shared (FORMAT.md §4). It falls back to reading the file for
// what cannot be mapped: an empty file, a pipe or device, a filesystem without mmap.
func mapFile(path string) (data []byte, mapped bool, release func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, nil, err
	}
	size := fi.Size()
	if size > 0 && fi.Mode().IsRegular() {
		if int64(int(size)) != size {
			return nil, false, nil, fmt.Errorf("%s: %d bytes is too large to map on this system", path, size)
		}
		b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
		if err == nil {
			return b, true, func() error { return unix.Munmap(b) }, nil
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, nil, err
	}
	return b, false, func() error { return nil }, nil
}

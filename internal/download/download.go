package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ErrChecksum is wrapped by File when a download does not have the expected SHA-256.
var ErrChecksum = errors.New("checksum mismatch")

// CacheDir returns the directory sub of edgeinfer's cache: $EDGEINFER_CACHE/sub, or the user cache
// directory's edgeinfer/sub (~/.cache/edgeinfer/sub on Linux).
func CacheDir(sub string) (string, error) {
	if d := os.Getenv("EDGEINFER_CACHE"); d != "" {
		return filepath.Join(d, sub), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("download: no cache directory (set EDGEINFER_CACHE): %w", err)
	}
	return filepath.Join(d, "edgeinfer", sub), nil
}

// FileSHA256 returns the SHA-256 of the file at path, in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var client = &http.Client{Timeout: 5 * time.Minute}

// File downloads url to path through a temporary file beside it, checks its SHA-256 against want,
// then renames it into place. A file already at path with that hash is kept. progress, if not nil,
// receives one line.
func File(ctx context.Context, url, path, want string, progress io.Writer) error {
	if got, err := FileSHA256(path); err == nil && got == want {
		if progress != nil {
			fmt.Fprintf(progress, "%s: already present, sha256 verified\n", path)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download: %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download: %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pull-*")
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %s: %w", url, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("download: %s: %w: got sha256 %s, want %s (%d bytes); nothing was saved", url, ErrChecksum, got, want, n)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "%s: %d bytes, sha256 %s verified\n", path, n, want[:12])
	}
	return nil
}

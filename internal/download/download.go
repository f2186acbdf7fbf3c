package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// ConnectTimeout bounds each step of reaching a server before any byte of the file arrives: name
// resolution and TCP connect, the TLS handshake, and the wait for the response headers. Offline
// (no route, a black-holed address, a server that never answers), a download fails within it
// instead of hanging; without a network at all it fails at once.
const ConnectTimeout = 5 * time.Second

var client = &http.Client{
	Timeout: 5 * time.Minute,
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		ResponseHeaderTimeout: ConnectTimeout,
		ForceAttemptHTTP2:     true,
		IdleConnTimeout:       90 * time.Second,
	},
}

// IsRemote reports whether src is fetched over the network (http:// or https://), rather than a
// file:// URL or a local path.
func IsRemote(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// Join returns the source of the file name under base: base is a URL, http(s):// or file:// (a
// trailing slash is added if missing), or a plain directory.
func Join(base, name string) string {
	if strings.Contains(base, "://") {
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		return base + name
	}
	return filepath.Join(base, name)
}

// open opens src: an http(s):// URL, a file:// URL or a local path.
func open(ctx context.Context, src string) (io.ReadCloser, error) {
	if IsRemote(src) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("download: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("download: %w", err) // *url.Error: it names the URL
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("download: %s: %s", src, resp.Status)
		}
		return resp.Body, nil
	}
	path := src
	if strings.HasPrefix(src, "file://") {
		u, err := url.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("download: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("download: %s: a file:// URL names a local path (file:///dir/file), not host %q", src, u.Host)
		}
		path = u.Path
	} else if i := strings.Index(src, "://"); i > 0 && !strings.ContainsAny(src[:i], `/\`) {
		return nil, fmt.Errorf("download: %s: unsupported scheme %q (want http://, https://, file:// or a directory)", src, src[:i])
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err) // *fs.PathError: it names the path
	}
	return f, nil
}

// File copies src — an http(s):// URL, a file:// URL or a local path (a mirror directory) — to path
// through a temporary file beside it, checks its SHA-256 against want, then renames it into place.
// A file already at path with that hash is kept. progress, if not nil, receives one line.
func File(ctx context.Context, src, path, want string, progress io.Writer) error {
	if got, err := FileSHA256(path); err == nil && got == want {
		if progress != nil {
			fmt.Fprintf(progress, "%s: already present, sha256 verified\n", path)
		}
		return nil
	}
	body, err := open(ctx, src)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pull-*")
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %s: %w", src, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("download: %s: %w: got sha256 %s, want %s (%d bytes); nothing was saved", src, ErrChecksum, got, want, n)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "%s: %d bytes from %s, sha256 %s verified\n", path, n, src, want[:12])
	}
	return nil
}

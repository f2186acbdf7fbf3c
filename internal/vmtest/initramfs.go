package vmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// writeInitramfs writes an uncompressed newc cpio archive for the guest to w: /init (the file init on
// the host), /dev/console (the kernel opens it for init's stdin, stdout and stderr before anything is
// mounted), the mount points, /vmtest.json (cfg) and the modules cfg lists.
func writeInitramfs(w io.Writer, init string, cfg guestConfig) error {
	conf, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("vmtest: %w", err)
	}
	rw := cpio.Newc.Writer(w)
	recs := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("proc", 0o555),
		cpio.Directory("sys", 0o555),
		cpio.Directory("tmp", 0o1777),
		cpio.StaticRecord(conf, cpio.Info{Name: strings.TrimPrefix(guestConfigPath, "/"), Mode: cpio.S_IFREG | 0o644}),
	}
	if err := cpio.WriteRecordsAndDirs(rw, recs); err != nil {
		return fmt.Errorf("vmtest: initramfs: %w", err)
	}
	if err := writeFileRecord(rw, "init", init, 0o755); err != nil {
		return err
	}
	for _, m := range cfg.Modules {
		if err := writeFileRecord(rw, strings.TrimPrefix(m.Path, "/"), m.src, 0o644); err != nil {
			return err
		}
	}
	if err := cpio.WriteTrailer(rw); err != nil {
		return fmt.Errorf("vmtest: initramfs: %w", err)
	}
	return nil
}

// writeFileRecord copies the host file src into the archive as name, creating its directories.
func writeFileRecord(rw cpio.RecordWriter, name, src string, perm uint64) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("vmtest: initramfs: %w", err)
	}
	defer f.Close() // the cpio writer closes it too once copied; a second Close is harmless
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("vmtest: initramfs: %w", err)
	}
	rec := cpio.Record{ReaderAt: f, Info: cpio.Info{Name: name, Mode: cpio.S_IFREG | perm, FileSize: uint64(st.Size())}}
	if err := cpio.WriteRecordsAndDirs(rw, []cpio.Record{rec}); err != nil {
		return fmt.Errorf("vmtest: initramfs: %s: %w", src, err)
	}
	return nil
}

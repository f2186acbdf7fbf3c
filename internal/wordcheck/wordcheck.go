// Package wordcheck checks the WORD-encoded instructions of the project's arm64 assembly (the
// instructions Go's assembler lacks, written as `WORD $0x........ // mnemonic`) against the GNU
// assembler's encoding of the mnemonic. Its tests are the packages' own (kernels_arm, camera).
package wordcheck

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// wordLine matches the WORD encodings of instructions the Go assembler lacks: WORD $0x... // mnemonic
var wordLine = regexp.MustCompile(`^\s*WORD\s+\$0x([0-9a-fA-F]{8})\s*//\s*(.+?)\s*$`)

// Check assembles the GNU mnemonic of every WORD line of the .s files of package dir (a path from
// the module root, e.g. "kernels_arm"; marker is one of its .s files, to recognise it) with
// aarch64-linux-gnu-as and checks that it encodes to the same word. It skips t without the
// assembler (Debian: binutils-aarch64-linux-gnu) or the files.
func Check(t *testing.T, dir, marker string) {
	t.Helper()
	as, err := exec.LookPath("aarch64-linux-gnu-as")
	if err != nil {
		t.Skip("aarch64-linux-gnu-as not installed (Debian: binutils-aarch64-linux-gnu): WORD encodings not checked")
	}
	files := asmFiles(t, dir, marker)
	type word struct {
		where string
		enc   uint32
		mnem  string
	}
	var words []word
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			if !strings.Contains(text, "WORD") {
				continue
			}
			m := wordLine.FindStringSubmatch(text)
			if m == nil {
				t.Errorf("%s:%d: WORD without the form `WORD $0x........ // mnemonic`: %q", f, line, text)
				continue
			}
			v, _ := strconv.ParseUint(m[1], 16, 32)
			words = append(words, word{fmt.Sprintf("%s:%d", f, line), uint32(v), m[2]})
		}
	}
	if len(words) == 0 {
		t.Fatal("no WORD lines found")
	}
	tmp := t.TempDir()
	var src bytes.Buffer
	for _, w := range words {
		fmt.Fprintf(&src, "\t%s\n", w.mnem)
	}
	srcPath, objPath := filepath.Join(tmp, "words.s"), filepath.Join(tmp, "words.o")
	if err := os.WriteFile(srcPath, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(as, "-march=armv8.2-a+dotprod", "-o", objPath, srcPath).CombinedOutput()
	if err != nil {
		t.Fatalf("aarch64-linux-gnu-as: %v\n%s", err, out)
	}
	f, err := elf.Open(objPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, err := f.Section(".text").Data()
	if err != nil {
		t.Fatal(err)
	}
	if len(text) != 4*len(words) {
		t.Fatalf("assembled %d bytes for %d instructions", len(text), len(words))
	}
	for i, w := range words {
		if got := binary.LittleEndian.Uint32(text[4*i:]); got != w.enc {
			t.Errorf("%s: %s: WORD $0x%08x, aarch64-linux-gnu-as encodes $0x%08x", w.where, w.mnem, w.enc, got)
		}
	}
	t.Logf("%d WORD encodings checked in %d files", len(words), len(files))
}

// asmFiles returns the package's .s files: in the working directory (go test), or in pkg under the
// module root when the test binary runs elsewhere (qemu-aarch64 from the repository root).
func asmFiles(t *testing.T, pkg, marker string) []string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		for _, cand := range []string{d, filepath.Join(d, pkg)} {
			if files, _ := filepath.Glob(filepath.Join(cand, marker)); len(files) == 1 {
				all, _ := filepath.Glob(filepath.Join(cand, "*.s"))
				return all
			}
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
			break
		}
	}
	t.Skipf("%s/*.s not found from %s: run the test from the repository or the package directory", pkg, dir)
	return nil
}

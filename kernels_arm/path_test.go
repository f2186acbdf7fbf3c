package kernels

import (
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// hwcapFromAuxv reads AT_HWCAP from /proc/self/auxv (under qemu-user: the emulated CPU's), without
// golang.org/x/sys/cpu.
func hwcapFromAuxv() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, false
	}
	const atHWCAP = 16
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == atHWCAP {
			return binary.LittleEndian.Uint64(b[i+8:]), true
		}
	}
	return 0, false
}

// TestPathSelection checks the path init chose against the CPU's HWCAP bits and GODEBUG, and against
// EDGEINFER_EXPECT_PATH when set (the qemu runs set it: sdot for cortex-a76, neon for a72 and a53).
func TestPathSelection(t *testing.T) {
	got := Path()
	want := "generic"
	if haveAsm && runtime.GOARCH == "amd64" {
		// AVX2 as golang.org/x/sys/cpu sees it (CPUID and XGETBV, GODEBUG=cpu.avx2=off honoured).
		want = "generic"
		if cpu.X86.HasAVX2 {
			want = "avx2"
		}
	} else if haveAsm && runtime.GOOS == "linux" {
		hwcap, ok := hwcapFromAuxv()
		if !ok {
			t.Skip("no /proc/self/auxv: cannot check the path independently")
		}
		asimd, dot := hwcap&(1<<1) != 0, hwcap&(1<<20) != 0
		for _, opt := range strings.Split(os.Getenv("GODEBUG"), ",") {
			switch opt {
			case "cpu.asimddp=off":
				dot = false
			case "cpu.asimd=off", "cpu.all=off":
				asimd = false
			}
		}
		switch {
		case asimd && dot:
			want = "sdot"
		case asimd:
			want = "neon"
		}
		t.Logf("HWCAP %#x, GODEBUG %q: asimd %v asimddp %v; path %s", hwcap, os.Getenv("GODEBUG"), asimd, dot, got)
	}
	if got != want {
		t.Errorf("Path() = %s, want %s", got, want)
	}
	if exp := os.Getenv("EDGEINFER_EXPECT_PATH"); exp != "" && got != exp {
		t.Errorf("Path() = %s, EDGEINFER_EXPECT_PATH=%s", got, exp)
	}
	// A layer prepared now runs that path.
	c, err := NewConv(ConvParams{InH: 1, InW: 1, InC: 1, OutH: 1, OutW: 1, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, Weights: []int8{1}, WeightZero: []int32{0}, Mult: []int32{1 << 30}, Shift: []int32{0}, ActMin: -128, ActMax: 127})
	if err != nil {
		t.Fatal(err)
	}
	if c.Path() != got {
		t.Errorf("NewConv prepared path %s, Path() %s", c.Path(), got)
	}
}

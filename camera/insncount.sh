#!/usr/bin/env bash
# insncount.sh: executed AArch64 instructions per frame of the fused preprocessing under qemu, as the
# difference of two runs (N and 2N frames) divided by N, so that start-up and table set-up cancel out.
#
#   camera/insncount.sh CPU FORMAT_WxH_METHOD N     e.g.  camera/insncount.sh cortex-a72 yuyv_640x480_bilinear 4
#
# Run from the repository root; needs ../shared/tools/qemu-insn/count (see kernels_arm/insncount.sh).
set -euo pipefail
cpu=$1 workload=$2 n=$3
root=$(cd "$(dirname "$0")/.." && pwd)
count=$root/../shared/tools/qemu-insn/count
bin=${TMPDIR:-/tmp}/camera-insn.test
(cd "$root" && GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$bin" ./camera)
run() {
	EDGEINFER_INSN="$workload:$1" GOGC=off "$count" -cpu "$cpu" "$bin" -test.run '^TestInsnHarness$' 2>&1 |
		sed -n 's/.*insns=\([0-9]*\).*/\1/p' | tail -1
}
a=$(run "$n")
b=$(run $((2 * n)))
echo "$cpu $workload: $(( (b - a) / n )) instructions per frame ($n and $((2 * n)) frames: $a, $b)"

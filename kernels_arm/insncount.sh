#!/usr/bin/env bash
# insncount.sh: executed AArch64 instructions per repetition of a kernels_arm workload under qemu
# (TestInsnHarness), as the difference of two runs (N and 2N repetitions) divided by N, so that
# process start-up, data generation and weight packing cancel out (../shared/docs/PERF.md).
#
#   kernels_arm/insncount.sh CPU WORKLOAD N [ARGS]     e.g.  kernels_arm/insncount.sh cortex-a72 conv1x1 2
#
# Run from the repository root. CPU: cortex-a53 | cortex-a72 | cortex-a76. WORKLOAD and ARGS: see
# TestInsnHarness (gemm4/gemm1 take :kc:ntiles). Extra environment (GODEBUG=...) is passed through.
set -euo pipefail
cpu=$1 workload=$2 n=$3 args=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
count=$root/../shared/tools/qemu-insn/count
bin=${TMPDIR:-/tmp}/kernels_arm-insn.test
(cd "$root" && GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$bin" ./kernels_arm)
run() {
	EDGEINFER_INSN="$workload:$1$args" GOGC=off "$count" -cpu "$cpu" "$bin" -test.run '^TestInsnHarness$' 2>&1 |
		sed -n 's/.*insns=\([0-9]*\).*/\1/p' | tail -1
}
a=$(run "$n")
b=$(run $((2 * n)))
echo "$cpu $workload$args: $(( (b - a) / n )) instructions per repetition ($n and $((2 * n)) repetitions: $a, $b)"

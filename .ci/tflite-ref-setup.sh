#!/usr/bin/env bash
# tflite-ref-setup.sh prepares real TensorFlow Lite for the differential tests (internal/tfliteref,
# runtime/tfliteref_test.go):
#   - node and npm (Debian packages nodejs, npm) when node is not in PATH;
#   - ../shared/tools/tflite-ref/setup beside the repository, which installs the npm package
#     @tensorflow/tfjs-tflite (WebAssembly TensorFlow Lite) into $TFLITE_REF_HOME (default
#     ~/.cache/tflite-ref).
# Idempotent: a second run installs nothing. Environment:
#   TFLITE_REF_HOME       where the npm install goes (run.js and the tests read the same variable)
#   EDGEINFER_TFLITE_REF  the tflite-ref tool directory, instead of ../shared/tools/tflite-ref
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "tflite-ref-setup: $*" >&2; }

tool="${EDGEINFER_TFLITE_REF:-$(cd .. && pwd)/shared/tools/tflite-ref}"
if [ ! -f "$tool/setup" ]; then
	log "error: $tool/setup not found (../shared/tools/tflite-ref beside the repository, or set EDGEINFER_TFLITE_REF)"
	exit 1
fi

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
log "node $(node --version), npm $(npm --version)"

bash "$tool/setup" >&2
home="${TFLITE_REF_HOME:-$HOME/.cache/tflite-ref}"
wasm="$home/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc.wasm"
if [ ! -f "$wasm" ]; then
	log "error: $wasm missing after setup"
	exit 1
fi
echo "$home"

#!/usr/bin/env bash
# onnxruntime-setup.sh installs ONNX Runtime for node (npm onnxruntime-node@1.30.0), the oracle of the
# differential tests in quant/onnx (quant/onnx/testdata/ort_run.js), into $EDGEINFER_ORT_HOME (default
# ~/.cache/edgeinfer/ort), and prints that directory on stdout.
# ONNXRUNTIME_NODE_INSTALL=skip keeps the package's install script from downloading CUDA/TensorRT
# extras; the CPU binaries ship inside the npm tarball.
# Idempotent: a second run installs nothing. node and npm come from Debian (nodejs, npm) when missing.
set -euo pipefail
log() { echo "onnxruntime-setup: $*" >&2; }
version=1.30.0
home="${EDGEINFER_ORT_HOME:-$HOME/.cache/edgeinfer/ort}"

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

pkg="$home/node_modules/onnxruntime-node/package.json"
have=""
if [ -f "$pkg" ]; then
	have="$(node -p "require(process.argv[1]).version" "$pkg")"
fi
if [ "$have" != "$version" ]; then
	log "installing onnxruntime-node@$version into $home (node $(node --version))"
	mkdir -p "$home"
	[ -f "$home/package.json" ] || echo '{"private": true}' >"$home/package.json"
	(cd "$home" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error \
		"onnxruntime-node@$version" >&2)
fi
if ! (cd "$home" && node -e 'require("onnxruntime-node")') >&2; then
	log "error: onnxruntime-node in $home does not load"
	exit 1
fi
echo "$home"

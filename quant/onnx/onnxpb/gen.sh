#!/usr/bin/env bash
# gen.sh regenerates onnx.pb.go from onnx.proto, ONNX's own schema copied unmodified from
#   https://github.com/onnx/onnx/blob/f7546912001bc31e92a238b17068a21b373d882e/onnx/onnx.proto
# (commit f7546912001bc31e92a238b17068a21b373d882e, 2026-08-22; Apache-2.0, see the file's SPDX line).
# Tools: protoc from Debian's protobuf-compiler (libprotoc 3.21.12) and
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
# The .proto has no go_package option, so the import path is given with M on the command line.
set -euo pipefail
cd "$(dirname "$0")"
PATH="$(go env GOPATH)/bin:$PATH" protoc \
	--proto_path=. \
	--go_out=. --go_opt=paths=source_relative \
	--go_opt=Monnx.proto=github.com/edgeinfer/edgeinfer/quant/onnx/onnxpb \
	onnx.proto

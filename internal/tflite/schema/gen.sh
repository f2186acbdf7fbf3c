#!/bin/sh
# Regenerates the Go bindings of TensorFlow Lite's flatbuffer schema.
#
# schema.fbs is the official schema, unmodified, from tensorflow/lite/schema/schema.fbs as mirrored in
# tensorflow/tflite-micro at commit 28389e0ff0e0ed09b0b895770e0ac683e98e1768 (2023-10-30): the newest
# revision that Debian 12's flatc 2.0.8 (package flatbuffers-compiler) parses; later revisions put
# attributes on enum values. Apache-2.0, see the header of schema.fbs.
#
# Run from this directory: go generate ./internal/tflite/schema
set -eu
cd "$(dirname "$0")"
rm -rf tflitefb
flatc --go --gen-object-api --go-namespace tflitefb -o . schema.fbs
gofmt -w tflitefb

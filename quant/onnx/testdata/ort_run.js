// ort_run.js runs one ONNX model with ONNX Runtime (npm onnxruntime-node, CPU, one thread) for the
// differential tests of quant/onnx (ort_test.go).
//
//   node ort_run.js spec.json
//
// spec.json: {"model": "m.onnx", "inputs": {"x": {"shape": [1, 3, 8, 8], "file": "x.bin"}},
//             "outputs": {"y": "y.bin"}}
// Input files hold raw little-endian float32; each output is written the same way to its file, and
// stdout gets {"y": [dims...]}. onnxruntime-node is loaded from $EDGEINFER_ORT_HOME (default
// ~/.cache/edgeinfer/ort, where .ci/onnxruntime-setup.sh installs it).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

async function main() {
  if (process.argv.length !== 3) {
    throw new Error("usage: node ort_run.js spec.json");
  }
  const home = process.env.EDGEINFER_ORT_HOME || path.join(os.homedir(), ".cache", "edgeinfer", "ort");
  const ort = require(path.join(home, "node_modules", "onnxruntime-node"));
  const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const session = await ort.InferenceSession.create(spec.model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const feeds = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    const buf = fs.readFileSync(input.file);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    feeds[name] = new ort.Tensor("float32", data, input.shape);
  }
  const results = await session.run(feeds);
  const dims = {};
  for (const [name, file] of Object.entries(spec.outputs)) {
    const t = results[name];
    if (!t) {
      throw new Error(`output ${name} missing from the results`);
    }
    if (t.type !== "float32") {
      throw new Error(`output ${name} has type ${t.type}, want float32`);
    }
    fs.writeFileSync(file, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    dims[name] = Array.from(t.dims, Number);
  }
  process.stdout.write(JSON.stringify(dims) + "\n");
}

main().catch((err) => {
  process.stderr.write(`ort_run: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

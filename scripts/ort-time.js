// ort-time.js times one float ONNX model in ONNX Runtime (npm onnxruntime-node, CPU provider, one
// thread, as quant/onnx's differential tests run it), beside quant/graph's own benchmark:
//
//   node scripts/ort-time.js MODEL.onnx N [D1,D2,...]
//
// It feeds N inferences of one fixed random input (shape D1,D2,... or the model's, with batch 1)
// after 5 warm-up runs and prints min/median/max milliseconds per inference as JSON.
// onnxruntime-node is loaded from $EDGEINFER_ORT_HOME (default ~/.cache/edgeinfer/ort, where
// .ci/onnxruntime-setup.sh installs it).
"use strict";
const os = require("os");
const path = require("path");

async function main() {
  const [model, nArg, shapeArg] = process.argv.slice(2);
  if (!model || !nArg) {
    throw new Error("usage: node ort-time.js MODEL.onnx N [D1,D2,...]");
  }
  const n = Number(nArg);
  const home = process.env.EDGEINFER_ORT_HOME || path.join(os.homedir(), ".cache", "edgeinfer", "ort");
  const ort = require(path.join(home, "node_modules", "onnxruntime-node"));
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const shape = (shapeArg || "1,3,32,32").split(",").map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let seed = 1;
  for (let i = 0; i < size; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    data[i] = seed / 2147483648 - 0.5;
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, shape) };
  for (let i = 0; i < 5; i++) {
    await session.run(feeds);
  }
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const r = (x) => Math.round(x * 1000) / 1000;
  process.stdout.write(JSON.stringify({ model: path.basename(model), n, min_ms: r(ms[0]), median_ms: r(ms[n >> 1]), max_ms: r(ms[n - 1]) }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`ort-time: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

// ort_bench.js times one ONNX model with ONNX Runtime (npm onnxruntime-node, CPU execution
// provider, one intra-op and one inter-op thread, default graph optimizations) for the speed
// comparison of ort_speed_test.go.
//
//   node ort_bench.js model.onnx input_name d0,d1,... iterations warmup
//
// The input is random float32 in [-1, 1). stdout gets {"times_ms": [...], "cpu_ms": [...]}, one
// per timed run: wall time, and the process's CPU time (user + system, process.cpuUsage), which a
// loaded machine inflates less.
// onnxruntime-node is loaded from $EDGEINFER_ORT_HOME (default ~/.cache/edgeinfer/ort).
"use strict";
const os = require("os");
const path = require("path");

async function main() {
  if (process.argv.length !== 7) {
    throw new Error("usage: node ort_bench.js model.onnx input_name d0,d1,... iterations warmup");
  }
  const [model, input, dimsArg, itArg, warmArg] = process.argv.slice(2);
  const home = process.env.EDGEINFER_ORT_HOME || path.join(os.homedir(), ".cache", "edgeinfer", "ort");
  const ort = require(path.join(home, "node_modules", "onnxruntime-node"));
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const dims = dimsArg.split(",").map(Number);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.random() * 2 - 1;
  }
  const feeds = { [input]: new ort.Tensor("float32", data, dims) };
  for (let i = 0; i < Number(warmArg); i++) {
    await session.run(feeds);
  }
  const times = [];
  const cpu = [];
  for (let i = 0; i < Number(itArg); i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  process.stdout.write(JSON.stringify({ times_ms: times, cpu_ms: cpu }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`ort_bench: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

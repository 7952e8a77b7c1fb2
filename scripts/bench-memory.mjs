#!/usr/bin/env node
// Engine memory over many calls: RSS and V8 heap every 2,000 explain calls on a small
// XRayClassifier, after a warm-up that lets the allocators settle (RSS climbs for the first few
// thousand calls, then stays flat). One JSON line (used by scripts/bench.mjs).
import { Engine } from '@camflow/engine';
import { buildXRayClassifier, encodeModel } from '@camflow/onnx';

const calls = Number(process.env.MEMORY_CALLS ?? 10000);
const warmupCalls = 3000;
const engine = Engine.load(encodeModel(buildXRayClassifier({ nf: 4, size: 64 })));
const input = {
  data: new Float32Array(2 * 3 * 64 * 64).map((_, i) => Math.sin(i)),
  dims: [2, 3, 64, 64],
};
const round = (x) => Math.round(x * 10) / 10;
const sample = () => {
  global.gc?.();
  const m = process.memoryUsage();
  return { rssMB: round(m.rss / 2 ** 20), heapMB: round(m.heapUsed / 2 ** 20) };
};
const explain = () => engine.explain(input, { layer: 'resnet_blocks.4' });
for (let i = 0; i < warmupCalls; i++) await explain();
const checkpoints = [{ calls: 0, ...sample() }];
for (let i = 1; i <= calls; i++) {
  await explain();
  if (i % 2000 === 0 || i === calls) checkpoints.push({ calls: i, ...sample() });
}
await engine.close();
const first = checkpoints[0];
const last = checkpoints[checkpoints.length - 1];
process.stdout.write(
  `${JSON.stringify({
    calls,
    warmupCalls,
    rssAfterWarmupMB: first.rssMB,
    rssAfterMB: last.rssMB,
    growthMB: round(last.rssMB - first.rssMB),
    heapGrowthMB: round(last.heapMB - first.heapMB),
    checkpoints,
  })}\n`,
);

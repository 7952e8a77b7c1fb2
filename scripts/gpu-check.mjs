// GPU figures: camflow bench per execution provider on the seed's full-size model, and CAM
// parity of each provider against CPU on the golden fixtures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '@camflow/engine';
import { npyToFloat32 } from '@camflow/imaging';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'services/cli/bin/camflow.js');
const model = join(root, '.camflow/xray-nf64-256.onnx');
mkdirSync(join(root, '.camflow'), { recursive: true });
if (!existsSync(model)) execFileSync(process.execPath, [cli, 'make-model', 'xray', '--out', model]);
const seconds = process.env.BENCH_SECONDS ?? '15';

for (const provider of ['cpu', 'webgpu', 'cuda']) {
  for (const batch of [1, 8]) {
    const out = execFileSync(
      process.execPath,
      [cli, 'bench', '--model', model, '--batch', String(batch), '--seconds', seconds, '--json'],
      { env: { ...process.env, EXECUTION_PROVIDER: provider }, encoding: 'utf8' },
    );
    const r = JSON.parse(out);
    console.log(
      `bench ${provider.padEnd(6)} (ran on ${r.provider}) batch ${batch}: forward ${r.forward.imagesPerSec.toFixed(1)} img/s, ` +
        `gradcam ${r.gradcam.imagesPerSec.toFixed(1)} img/s, ratio ${r.ratio.toFixed(3)}`,
    );
  }
}

const goldens = join(root, 'test/fixtures/goldens');
const npy = (p) => npyToFloat32(new Uint8Array(readFileSync(join(goldens, p))));
for (const name of ['xray', 'resnet', 'mobilenet']) {
  const bytes = new Uint8Array(readFileSync(join(goldens, name, 'model.onnx')));
  const x = npy(`${name}/input.npy`);
  const input = { data: x.data, dims: x.shape };
  const cpu = await Engine.load(bytes).explain(input);
  for (const provider of ['webgpu', 'cuda']) {
    const engine = Engine.load(bytes, { executionProvider: provider, logger: { warn: () => {} } });
    const used = await engine.provider();
    const gpu = await engine.explain(input);
    let worst = 0;
    const per = cpu.cams.dims[1] * cpu.cams.dims[2];
    for (let o = 0; o < cpu.cams.data.length; o += per) {
      const a = cpu.cams.data.subarray(o, o + per);
      const b = gpu.cams.data.subarray(o, o + per);
      const ma = Math.max(...a, 1e-12);
      const mb = Math.max(...b, 1e-12);
      for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(a[i] / ma - b[i] / mb));
    }
    console.log(
      `parity ${name} ${provider} (ran on ${used}): max normalised CAM difference vs cpu ${worst.toExponential(2)}`,
    );
    await engine.close();
  }
}

import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { CAM_METHODS, type CamMethod, Engine } from '@camflow/engine';
import { oneOf, positiveInt, positiveNumber, usage } from '../args.js';
import { loadModelSource } from '../model-source.js';
import { UsageError } from '../usage.js';
import { engineOptions } from './runtime-options.js';

/**
 * `camflow bench`: in one process, interleaved, the unmodified model's forward against the
 * compiled Grad-CAM graph on the same random inputs, so machine noise hits both alike.
 */
export async function benchCommand(argv: string[], config: Config): Promise<number> {
  const { values } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        card: { type: 'string' },
        batch: { type: 'string' },
        seconds: { type: 'string' },
        layer: { type: 'string' },
        method: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  const batch = positiveInt(values.batch, 'batch', 1);
  const seconds = positiveNumber(values.seconds, 'seconds', 10);
  const method = oneOf(values.method, 'method', CAM_METHODS, 'gradcam') as CamMethod;
  const source = await loadModelSource(values.model, values.card);
  const engine = Engine.load(source.bytes, { ...engineOptions(config), maxBatch: batch });
  try {
    const sample = engine.input.dims;
    if (sample.some((d) => d < 0))
      throw new UsageError('the model input has free dimensions; bench needs a fixed input size');
    const count = batch * sample.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = Math.random() * 2 - 1;
    const input = { data, dims: [batch, ...sample] };
    const layer = values.layer ?? source.card?.layer;
    const forward = () => engine.predict(input);
    const gradcam = () => engine.explain(input, { layer, method });
    await forward();
    await gradcam();
    const time = { forward: 0, gradcam: 0 };
    let rounds = 0;
    const started = performance.now();
    const progress = !values.json && process.stderr.isTTY;
    while (performance.now() - started < seconds * 1000 || rounds < 2) {
      let t = performance.now();
      await forward();
      time.forward += performance.now() - t;
      t = performance.now();
      await gradcam();
      time.gradcam += performance.now() - t;
      rounds++;
      if (progress)
        process.stderr.write(
          `\rbench: ${rounds} rounds, ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
    }
    if (progress) process.stderr.write('\n');
    const rate = (ms: number) => (batch * rounds * 1000) / ms;
    const result = {
      batch,
      forward: { imagesPerSec: rate(time.forward) },
      gradcam: { imagesPerSec: rate(time.gradcam) },
      ratio: rate(time.gradcam) / rate(time.forward),
      provider: await engine.provider(),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const ms = (r: number) => (1000 / r).toFixed(2);
      process.stdout.write(
        `model ${source.name}, batch ${batch}, ${rounds} rounds, method ${method}, ${result.provider}\n` +
          `  forward  ${result.forward.imagesPerSec.toFixed(1)} img/s (${ms(result.forward.imagesPerSec)} ms/img)\n` +
          `  gradcam  ${result.gradcam.imagesPerSec.toFixed(1)} img/s (${ms(result.gradcam.imagesPerSec)} ms/img)\n` +
          `  ratio    ${result.ratio.toFixed(3)} (gradcam / forward)\n`,
      );
    }
    return 0;
  } finally {
    await engine.close();
  }
}

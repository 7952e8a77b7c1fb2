import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildXRayClassifier, encodeModel } from '@camflow/onnx';
import { positiveInt, usage } from '../args.js';
import { UsageError } from '../usage.js';

/** `camflow make-model xray`: writes the seed's XRayClassifier with random weights (for benchmarks). */
export async function makeModelCommand(argv: string[]): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        nf: { type: 'string' },
        size: { type: 'string' },
        seed: { type: 'string' },
      },
    }),
  );
  if (positionals[0] !== 'xray') throw new UsageError('make-model knows one architecture: xray');
  if (!values.out) throw new UsageError('--out is required');
  const size = positiveInt(values.size, 'size', 256);
  if (size % 32 !== 0) throw new UsageError('--size must be a multiple of 32');
  const model = buildXRayClassifier({
    nf: positiveInt(values.nf, 'nf', 64),
    size,
    seed: positiveInt(values.seed, 'seed', 1),
  });
  await writeFile(values.out, encodeModel(model));
  process.stderr.write(`wrote ${values.out}\n`);
  return 0;
}

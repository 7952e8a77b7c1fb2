import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { seedCardJson } from '@camflow/imaging';
import { buildXRayClassifier, encodeModel } from '@camflow/onnx';
import { positiveInt, usage } from '../args.js';
import { UsageError } from '../usage.js';

/**
 * `camflow make-model xray`: writes the seed's XRayClassifier with random weights (for
 * benchmarks), and its card as `<stem>.json` beside it, so explain preprocesses to its size.
 */
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
  if (extname(values.out).toLowerCase() === '.json')
    throw new UsageError('--out names the model (.onnx); its card is written beside it');
  const size = positiveInt(values.size, 'size', 256);
  if (size % 32 !== 0) throw new UsageError('--size must be a multiple of 32');
  const model = buildXRayClassifier({
    nf: positiveInt(values.nf, 'nf', 64),
    size,
    seed: positiveInt(values.seed, 'seed', 1),
  });
  await writeFile(values.out, encodeModel(model));
  const cardPath = join(dirname(values.out), `${basename(values.out, extname(values.out))}.json`);
  const card = {
    ...seedCardJson,
    description: `${seedCardJson.description}, random weights (camflow make-model)`,
    input: { ...seedCardJson.input, size, resizeTo: size },
  };
  await writeFile(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  process.stderr.write(`wrote ${values.out} and its card ${cardPath}\n`);
  return 0;
}

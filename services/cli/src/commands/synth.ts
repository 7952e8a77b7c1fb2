import { parseArgs } from 'node:util';
import { writeSynthDataset } from '@camflow/imaging';
import { positiveInt, usage } from '../args.js';
import { UsageError } from '../usage.js';

/** `camflow synth`: synthetic chest X-ray phantoms with lesion and marker masks. */
export async function synthCommand(argv: string[]): Promise<number> {
  const { values } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        shortcut: { type: 'string' },
      },
    }),
  );
  if (!values.out) throw new UsageError('--out is required');
  const count = positiveInt(values.count, 'count', 100);
  const seed = Number(values.seed ?? 1);
  if (!Number.isSafeInteger(seed))
    throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const shortcut = Number(values.shortcut ?? 0);
  if (!(shortcut >= 0 && shortcut <= 1))
    throw new UsageError(`--shortcut must be in [0, 1], got "${values.shortcut}"`);
  const size = positiveInt(values.size, 'size', 256);
  const tty = process.stderr.isTTY;
  let done = 0;
  const result = await writeSynthDataset({
    out: values.out,
    count,
    seed,
    size,
    shortcut,
    onSample: () => {
      done++;
      if (tty && (done % 25 === 0 || done === count))
        process.stderr.write(`\rsynth: ${done}/${count}`);
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(
    `wrote ${result.count} images to ${values.out} (${result.positives} pneumonia, ` +
      `${result.markers} with a marker: ${result.markersOnPositives} positive, ${result.markersOnNegatives} negative)\n`,
  );
  return 0;
}

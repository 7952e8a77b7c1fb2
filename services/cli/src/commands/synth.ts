import { parseArgs } from 'node:util';
import { ARTIFACT_KINDS, writeSynthDataset } from '@camflow/imaging';
import { oneOf, positiveInt, usage } from '../args.js';
import { UsageError } from '../usage.js';
import { parseSplits, synthImageFolder } from './synth-imagefolder.js';

function rate(value: string | undefined, name: string): number {
  const r = Number(value ?? 0);
  if (!(r >= 0 && r <= 1)) throw new UsageError(`--${name} must be in [0, 1], got "${value}"`);
  return r;
}

/** `camflow synth`: synthetic chest X-ray phantoms with lesion and artifact masks. */
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
        artifact: { type: 'string' },
        'artifact-rate': { type: 'string' },
        classes: { type: 'string' },
        'shortcut-class': { type: 'string' },
        layout: { type: 'string' },
        splits: { type: 'string' },
      },
    }),
  );
  if (!values.out) throw new UsageError('--out is required');
  const count = positiveInt(values.count, 'count', 100);
  const seed = Number(values.seed ?? 1);
  if (!Number.isSafeInteger(seed))
    throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const shortcut = rate(values.shortcut, 'shortcut');
  const markerRate = rate(values['artifact-rate'], 'artifact-rate');
  const size = positiveInt(values.size, 'size', 256);
  const artifact = oneOf(values.artifact, 'artifact', ARTIFACT_KINDS, 'marker');
  const classes = oneOf(values.classes, 'classes', ['2', '3'] as const, '2') === '3' ? 3 : 2;
  const shortcutClass = Number(values['shortcut-class'] ?? 1);
  if (!Number.isInteger(shortcutClass) || shortcutClass < 0 || shortcutClass >= classes)
    throw new UsageError(
      `--shortcut-class must be a class index in [0, ${classes - 1}], got "${values['shortcut-class']}"`,
    );
  const layout = oneOf(values.layout, 'layout', ['files', 'imagefolder'] as const, 'files');
  if (layout === 'imagefolder') {
    const common = { out: values.out, count, seed, size, shortcut, markerRate, artifact };
    return synthImageFolder({
      ...common,
      classes: classes as 2 | 3,
      shortcutClass,
      splits: parseSplits(values.splits),
    });
  }
  if (values.splits) throw new UsageError('--splits needs --layout imagefolder');
  const tty = process.stderr.isTTY;
  let done = 0;
  const result = await writeSynthDataset({
    out: values.out,
    count,
    seed,
    size,
    shortcut,
    markerRate,
    artifact,
    classes,
    shortcutClass,
    onSample: () => {
      done++;
      if (tty && (done % 25 === 0 || done === count))
        process.stderr.write(`\rsynth: ${done}/${count}`);
    },
  });
  if (tty) process.stderr.write('\n');
  if (classes === 2 && artifact === 'marker') {
    process.stdout.write(
      `wrote ${result.count} images to ${values.out} (${result.positives} pneumonia, ` +
        `${result.markers} with a marker: ${result.markersOnPositives} positive, ${result.markersOnNegatives} negative)\n`,
    );
  } else {
    const parts = result.perClass.map((c) => `${c.images} ${c.name} (${c.markers} with it)`);
    process.stdout.write(
      `wrote ${result.count} images to ${values.out} (${result.markers} with ${artifact === 'electrode' ? 'an' : 'a'} ${artifact}: ${parts.join(', ')})\n`,
    );
  }
  return 0;
}

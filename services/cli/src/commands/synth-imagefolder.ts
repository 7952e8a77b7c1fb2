import { type SplitShare, type SynthOptions, writeImageFolder } from '@camflow/imaging';
import { UsageError } from '../usage.js';

/** `--splits train=0.8,val=0.05,test=0.15` (shares are normalised). */
export function parseSplits(value: string | undefined): SplitShare[] | undefined {
  if (value === undefined) return undefined;
  const out = value.split(',').map((part) => {
    const m = /^([^=]+)=([0-9.]+)$/.exec(part.trim());
    const share = m ? Number(m[2]) : Number.NaN;
    if (!m || !(share > 0))
      throw new UsageError(
        `--splits: expected name=share,... (e.g. train=0.8,val=0.05,test=0.15), got "${part}"`,
      );
    return { name: m[1].trim(), share };
  });
  return out;
}

/**
 * `camflow synth --layout imagefolder`: the phantoms as `<split>/<CLASS>/<name>.jpeg`, the layout
 * of Kaggle's chest X-ray set, to try `runs create <dir> --labels folder` here.
 */
export async function synthImageFolder(
  opts: SynthOptions & { out: string; splits?: SplitShare[] },
): Promise<number> {
  const tty = process.stderr.isTTY;
  let done = 0;
  const r = await writeImageFolder({
    ...opts,
    onSample: () => {
      done++;
      if (tty && (done % 25 === 0 || done === opts.count))
        process.stderr.write(`\rsynth: ${done}/${opts.count}`);
    },
  }).catch((err: Error) => {
    // Bad splits, size or count: the library's RangeError names what is wrong.
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  });
  if (tty) process.stderr.write('\n');
  const splits = r.perSplit
    .map(
      (s) =>
        `${s.split} ${Object.values(s.classes).reduce((a, b) => a + b, 0)} (${Object.entries(
          s.classes,
        )
          .map(([c, n]) => `${n} ${c}`)
          .join(', ')})`,
    )
    .join('; ');
  process.stdout.write(
    `wrote ${r.count} JPEG films to ${opts.out}/<split>/<CLASS>/: ${splits}; ` +
      `${r.width[0]}-${r.width[1]} x ${r.height[0]}-${r.height[1]} px\n`,
  );
  return 0;
}

/**
 * Phantoms laid out like a public data set: `<split>/<CLASS>/<name>.jpeg` (the ImageFolder layout
 * of Kaggle's chest X-ray pneumonia set, `train|val|test/NORMAL|PNEUMONIA`), grey JPEGs of odd,
 * varying sizes like real films: each phantom is scaled up 0-50% and padded with its own
 * background or trimmed to a canvas 92-130% as wide and 92-112% as tall (so the body stays whole
 * under a centre crop), with its own seeded stream, so that one sample is the same however many
 * others are written. No labels file: the folders are the labels.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { deriveSeed, Random } from './prng.js';
import { classNames, type SynthOptions, type SynthSample, synthesize } from './synthesize.js';

/** A split and its share of the images. */
export interface SplitShare {
  name: string;
  share: number;
}

/** Kaggle's split names; shares that leave each split enough images to audit at a few hundred. */
export const DEFAULT_SPLITS: SplitShare[] = [
  { name: 'train', share: 0.8 },
  { name: 'val', share: 0.05 },
  { name: 'test', share: 0.15 },
];

export interface WriteImageFolderOptions extends SynthOptions {
  out: string;
  splits?: SplitShare[];
  /** JPEG quality (default 92). */
  quality?: number;
  onSample?: (sample: SynthSample, file: string) => void;
}

export interface WriteImageFolderResult {
  count: number;
  /** Images per split and class folder. */
  perSplit: { split: string; classes: Record<string, number> }[];
  /** The range of the films' sizes. */
  width: [number, number];
  height: [number, number];
}

/** Class folder names: the class names in capitals (NORMAL, PNEUMONIA, CARDIOMEGALY). */
export function classFolders(classes: 2 | 3 = 2): string[] {
  return classNames(classes).map((c) => c.toUpperCase());
}

/**
 * Which split each sample goes to: exact counts by largest remainder, shuffled by the seed.
 * Refuses shares that are not positive or split names that are not plain folder names.
 */
export function assignSplits(count: number, splits: SplitShare[], seed: number): string[] {
  if (splits.length === 0) throw new RangeError('give at least one split');
  for (const s of splits) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s.name))
      throw new RangeError(`split name "${s.name}": letters, digits, ".", "_" or "-"`);
    if (!(s.share > 0)) throw new RangeError(`split ${s.name}: the share must be positive`);
  }
  if (new Set(splits.map((s) => s.name)).size !== splits.length)
    throw new RangeError('split names must differ');
  const total = splits.reduce((a, s) => a + s.share, 0);
  const exact = splits.map((s) => (s.share / total) * count);
  const n = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0]);
  const missing = count - n.reduce((a, b) => a + b, 0);
  for (let k = 0; k < missing; k++) n[order[k][1]]++;
  const out = splits.flatMap((s, i) => Array<string>(n[i]).fill(s.name));
  const rng = new Random(deriveSeed(seed, 0x5b1175));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** One phantom as a film-like grey JPEG of its own size. */
export async function encodeFilm(
  sample: SynthSample,
  seed: number,
  quality = 92,
): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const rng = new Random(deriveSeed(seed, sample.index, 0xf11e));
  const s = sample.size;
  const side = Math.round(s * rng.uniform(1, 1.5));
  const width = Math.round(side * rng.uniform(0.92, 1.3));
  const height = Math.round(side * rng.uniform(0.92, 1.12));
  const background = cornerMean(sample.image, s);
  const scaled = await sharp(Buffer.from(sample.image), {
    raw: { width: s, height: s, channels: 1 },
  })
    .resize(side, side, { kernel: 'lanczos3' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (scaled.info.channels !== 1)
    throw new Error(`expected 1 channel, got ${scaled.info.channels}`);
  // Paste the scaled phantom on the canvas, centred with a random offset of up to a quarter of the
  // slack; what does not fit is trimmed.
  const canvas = new Uint8Array(width * height).fill(background);
  const ox = Math.round((width - side) / 2 + (rng.next() - 0.5) * 0.5 * Math.abs(width - side));
  const oy = Math.round((height - side) / 2 + (rng.next() - 0.5) * 0.5 * Math.abs(height - side));
  for (let y = Math.max(0, oy); y < Math.min(height, oy + side); y++) {
    const from = (y - oy) * side;
    const x0 = Math.max(0, ox);
    const x1 = Math.min(width, ox + side);
    canvas.set(scaled.data.subarray(from + x0 - ox, from + x1 - ox), y * width + x0);
  }
  const jpeg = await sharp(Buffer.from(canvas), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .jpeg({ quality })
    .toBuffer();
  return { jpeg, width, height };
}

function cornerMean(pixels: Uint8Array, s: number): number {
  const k = Math.max(1, Math.floor(s / 32));
  let sum = 0;
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++) sum += pixels[y * s + x] + pixels[y * s + (s - 1 - x)];
  return Math.round(sum / (2 * k * k));
}

/** Writes the phantoms as `<out>/<split>/<CLASS>/<name>.jpeg`. */
export async function writeImageFolder(
  opts: WriteImageFolderOptions,
): Promise<WriteImageFolderResult> {
  const splits = opts.splits ?? DEFAULT_SPLITS;
  const assigned = assignSplits(opts.count, splits, opts.seed);
  const folders = classFolders(opts.classes);
  for (const s of splits)
    for (const c of folders) await mkdir(join(opts.out, s.name, c), { recursive: true });
  // Every class in every split, in class order (a split without a class shows it with 0).
  const perSplit = new Map(
    splits.map((s) => [s.name, Object.fromEntries(folders.map((c) => [c, 0]))]),
  );
  const result: WriteImageFolderResult = {
    count: 0,
    perSplit: [],
    width: [Number.POSITIVE_INFINITY, 0],
    height: [Number.POSITIVE_INFINITY, 0],
  };
  const inFlight: Promise<void>[] = [];
  for (const sample of synthesize(opts)) {
    const split = assigned[sample.index];
    const cls = folders[sample.label];
    const file = join(split, cls, `${sample.name}.jpeg`);
    const write = encodeFilm(sample, opts.seed, opts.quality).then(async (f) => {
      result.width = [Math.min(result.width[0], f.width), Math.max(result.width[1], f.width)];
      result.height = [Math.min(result.height[0], f.height), Math.max(result.height[1], f.height)];
      await writeFile(join(opts.out, file), f.jpeg);
    });
    write.catch(() => {}); // surfaces when awaited below
    inFlight.push(write);
    if (inFlight.length >= 4) await inFlight.shift();
    const counts = perSplit.get(split)!;
    counts[cls]++;
    result.count++;
    opts.onSample?.(sample, file);
  }
  await Promise.all(inFlight);
  result.perSplit = [...perSplit].map(([split, classes]) => ({ split, classes }));
  return result;
}

/**
 * Encoding phantoms to files: grey PNGs, labels.csv, and a whole data-set directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  classNames,
  findingMask,
  type SynthOptions,
  type SynthSample,
  synthesize,
} from './synthesize.js';

/**
 * Encodes size x size 8-bit grey pixels as a single-channel PNG (no metadata: deterministic).
 * zlib level 3 without adaptive filtering: about as small as level 6 on these grainy images, and
 * twice as fast.
 */
export async function encodeGreyPng(
  pixels: Uint8Array,
  size: number,
  compressionLevel = 3,
): Promise<Buffer> {
  if (pixels.length !== size * size) {
    throw new RangeError(
      `expected ${size * size} pixels for ${size}x${size}, got ${pixels.length}`,
    );
  }
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width: size, height: size, channels: 1 },
  })
    .toColourspace('b-w') // without it sharp writes an RGB PNG
    .png({ compressionLevel, adaptiveFiltering: false })
    .toBuffer();
}

export interface SamplePngs {
  image: Buffer;
  /** The finding's mask: the opacities (pneumonia) or the heart shadow (cardiomegaly). */
  mask: Buffer;
  /** The artifact's mask. */
  marker: Buffer;
  /** The lung mask, only when asked for. */
  lungs?: Buffer;
}

export async function encodeSamplePngs(
  sample: SynthSample,
  opts: { lungs?: boolean } = {},
): Promise<SamplePngs> {
  const [image, mask, marker, lungs] = await Promise.all([
    encodeGreyPng(sample.image, sample.size),
    encodeGreyPng(findingMask(sample), sample.size),
    encodeGreyPng(sample.markerMask, sample.size),
    opts.lungs ? encodeGreyPng(sample.lungMask, sample.size) : undefined,
  ]);
  return lungs ? { image, mask, marker, lungs } : { image, mask, marker };
}

/** One labels.csv row: `<name>.png,<label>,<marker 0|1>` (the label is the class index). */
export function labelsCsvRow(sample: Pick<SynthSample, 'name' | 'label' | 'hasMarker'>): string {
  return `${sample.name}.png,${sample.label},${sample.hasMarker ? 1 : 0}\n`;
}

export const LABELS_CSV_HEADER = 'file,label,marker\n';

/** `file,label,marker` CSV (header and one row per sample, '\n' line ends). */
export function labelsCsv(
  samples: Iterable<Pick<SynthSample, 'name' | 'label' | 'hasMarker'>>,
): string {
  let text = LABELS_CSV_HEADER;
  for (const s of samples) text += labelsCsvRow(s);
  return text;
}

export interface WriteSynthOptions extends SynthOptions {
  /** Output directory (created if needed). */
  out: string;
  /** Also write `lungs/<name>.png` (the aerated-lung mask). Default false. */
  lungs?: boolean;
  /** Called after each sample is written. */
  onSample?: (sample: SynthSample) => void;
}

export interface WriteSynthResult {
  count: number;
  /** Images of label 1 (pneumonia). */
  positives: number;
  markers: number;
  /** Artifacts on images of label 1, and on the others. */
  markersOnPositives: number;
  markersOnNegatives: number;
  /** Per label (index = class): images and how many carry the artifact. */
  perClass: { name: string; images: number; markers: number }[];
}

/**
 * Writes `images/<name>.png`, `masks/<name>.png`, `markers/<name>.png` (and `lungs/<name>.png`
 * when asked) and `labels.csv` under `out`; with 3 classes also `classes.json` (the class names
 * by label, a JSON array).
 */
export async function writeSynthDataset(opts: WriteSynthOptions): Promise<WriteSynthResult> {
  const dirs = ['images', 'masks', 'markers', ...(opts.lungs ? ['lungs'] : [])];
  await Promise.all(dirs.map((d) => mkdir(join(opts.out, d), { recursive: true })));
  const result: WriteSynthResult = {
    count: 0,
    positives: 0,
    markers: 0,
    markersOnPositives: 0,
    markersOnNegatives: 0,
    perClass: classNames(opts.classes).map((name) => ({ name, images: 0, markers: 0 })),
  };
  const writeSample = async (sample: SynthSample): Promise<void> => {
    const pngs = await encodeSamplePngs(sample, { lungs: opts.lungs });
    const file = `${sample.name}.png`;
    await Promise.all([
      writeFile(join(opts.out, 'images', file), pngs.image),
      writeFile(join(opts.out, 'masks', file), pngs.mask),
      writeFile(join(opts.out, 'markers', file), pngs.marker),
      ...(pngs.lungs ? [writeFile(join(opts.out, 'lungs', file), pngs.lungs)] : []),
    ]);
  };
  // Encoding and writing run on libuv's thread pool while the next samples are generated on this
  // thread; a few samples may be in flight at once.
  const inFlight: Promise<void>[] = [];
  let csv = LABELS_CSV_HEADER;
  for (const sample of synthesize(opts)) {
    const write = writeSample(sample);
    // Marked as handled now; a failure still surfaces when the promise is awaited below.
    write.catch(() => {});
    inFlight.push(write);
    if (inFlight.length >= 4) await inFlight.shift();
    csv += labelsCsvRow(sample);
    result.count++;
    if (sample.label === 1) result.positives++;
    result.perClass[sample.label].images++;
    if (sample.hasMarker) {
      result.perClass[sample.label].markers++;
      result.markers++;
      if (sample.label === 1) result.markersOnPositives++;
      else result.markersOnNegatives++;
    }
    opts.onSample?.(sample);
  }
  await Promise.all(inFlight);
  await writeFile(join(opts.out, 'labels.csv'), csv);
  if (opts.classes === 3) {
    await writeFile(join(opts.out, 'classes.json'), `${JSON.stringify(classNames(3))}\n`);
  }
  return result;
}

/**
 * Synthetic chest X-ray phantoms with ground truth (lesion, marker and lung masks).
 */
import { sampleAnatomy } from './anatomy.js';
import { ARTIFACT_KINDS, type ArtifactInfo, type ArtifactKind, drawArtifact } from './artifact.js';
import { enlargeHeart, heartMask } from './cardiomegaly.js';
import type { MarkerInfo } from './marker.js';
import { type Lesion, renderPhantom, sampleLesions, toPixel } from './phantom.js';
import { sampleRandom } from './prng.js';

export interface SynthOptions {
  /** Number of samples (a non-negative integer). */
  count: number;
  /** Any safe integer. Same seed and options give byte-identical samples. */
  seed: number;
  /** Width and height in pixels (default 256, at least 64). */
  size?: number;
  /**
   * Shortcut strength r in [0, 1] (default 0): the artifact appears on a fraction r of the
   * images of `shortcutClass` (the positives) and on a fraction r * NEGATIVE_MARKER_FACTOR of the
   * others.
   */
  shortcut?: number;
  /**
   * Probability that a sample is positive (default 0.5). With 3 classes: that it is abnormal,
   * split evenly between pneumonia and cardiomegaly (default 2/3: a third per class).
   */
  positiveRate?: number;
  /** The shortcut artifact (default 'marker': the corner letter). */
  artifact?: ArtifactKind;
  /** 2 (default): normal / pneumonia; 3: normal / pneumonia / cardiomegaly. */
  classes?: 2 | 3;
  /** The class whose images carry the artifact at the shortcut rate (default 1, pneumonia). */
  shortcutClass?: number;
  /**
   * Multiplier on the opacities' density (default 1; must be > 0 and at most 4). Below 1 the
   * lesions get subtler (a harder task), above 1 more obvious.
   */
  lesionStrength?: number;
  /**
   * Label-independent marker rate b in [0, 1] (default 0): on top of the shortcut, every image
   * gets a marker with probability b whatever its label.
   */
  markerRate?: number;
}

/** Fraction of the shortcut rate with which markers also appear on negatives. */
export const NEGATIVE_MARKER_FACTOR = 0.05;

/** 0 = normal, 1 = pneumonia, 2 = cardiomegaly (only with `classes: 3`). */
export type SynthLabel = 0 | 1 | 2;

/** Class names by label, for `classes` 2 and 3. */
export function classNames(classes: 2 | 3 = 2): string[] {
  return classes === 3 ? ['normal', 'pneumonia', 'cardiomegaly'] : ['normal', 'pneumonia'];
}

/** Where an opacity was drawn, in image terms. */
export interface LesionInfo {
  /** Centre, normalised to [0, 1] (column / size, row / size). */
  cx: number;
  cy: number;
  /** Mean radius as a fraction of the image size. */
  radius: number;
}

export interface SynthSample {
  index: number;
  /** `img_` + zero-padded index, e.g. 'img_00042'. */
  name: string;
  /** 1 = pneumonia (at least one opacity), 0 = healthy, 2 = cardiomegaly (3 classes only). */
  label: SynthLabel;
  /** Carries the artifact (whatever its kind; the name is historical). */
  hasMarker: boolean;
  size: number;
  /** 8-bit grey pixels, row-major, size x size. */
  image: Uint8Array;
  /** 0/255: the opacities (empty for healthy images). */
  lesionMask: Uint8Array;
  /** 0/255: the artifact's extent (the marker's token box; empty without an artifact). */
  markerMask: Uint8Array;
  /** 0/255: aerated lung fields (both lungs minus heart and mediastinum). */
  lungMask: Uint8Array;
  /** 0/255: the heart shadow, with `classes: 3` only (else null). */
  heartMask: Uint8Array | null;
  lesions: LesionInfo[];
  /** The corner marker's description (artifact 'marker' only). */
  marker: MarkerInfo | null;
  /** The artifact's description, any kind; null without one. */
  artifact: ArtifactInfo | null;
}

interface Resolved {
  seed: number;
  size: number;
  shortcut: number;
  positiveRate: number;
  markerRate: number;
  lesionStrength: number;
  nameDigits: number;
  artifact: ArtifactKind;
  classes: 2 | 3;
  shortcutClass: number;
}

// Independent random streams of one sample.
const STREAM_LABEL = 1;
const STREAM_ANATOMY = 2;
const STREAM_LESIONS = 3;
const STREAM_TEXTURE = 4;
const STREAM_TONE = 5;
const STREAM_MARKER_DECISION = 6;
const STREAM_MARKER = 7;
const STREAM_CARDIOMEGALY = 8;

function checkRate(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`${name} must be a number in [0, 1], got ${value}`);
  }
  return value;
}

function checkStrength(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 4) {
    throw new RangeError(`lesionStrength must be a number in (0, 4], got ${value}`);
  }
  return value;
}

function resolve(opts: SynthOptions): Resolved {
  const { count, seed } = opts;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const size = opts.size ?? 256;
  if (!Number.isInteger(size) || size < 64 || size > 4096) {
    throw new RangeError(`size must be an integer in [64, 4096], got ${size}`);
  }
  const classes = opts.classes ?? 2;
  if (classes !== 2 && classes !== 3)
    throw new RangeError(`classes must be 2 or 3, got ${classes}`);
  const artifact = opts.artifact ?? 'marker';
  if (!ARTIFACT_KINDS.includes(artifact)) {
    throw new RangeError(`artifact must be one of ${ARTIFACT_KINDS.join(', ')}, got ${artifact}`);
  }
  const shortcutClass = opts.shortcutClass ?? 1;
  if (!Number.isInteger(shortcutClass) || shortcutClass < 0 || shortcutClass >= classes) {
    throw new RangeError(
      `shortcutClass must be an integer in [0, ${classes - 1}], got ${shortcutClass}`,
    );
  }
  return {
    seed,
    size,
    artifact,
    classes,
    shortcutClass,
    shortcut: checkRate('shortcut', opts.shortcut ?? 0),
    positiveRate: checkRate('positiveRate', opts.positiveRate ?? (classes === 3 ? 2 / 3 : 0.5)),
    markerRate: checkRate('markerRate', opts.markerRate ?? 0),
    lesionStrength: checkStrength(opts.lesionStrength ?? 1),
    nameDigits: Math.max(5, String(Math.max(0, count - 1)).length),
  };
}

/** Probability that an image with `label` carries the artifact. */
export function markerProbability(
  label: SynthLabel,
  shortcut: number,
  markerRate = 0,
  shortcutClass = 1,
): number {
  const p = label === shortcutClass ? shortcut : shortcut * NEGATIVE_MARKER_FACTOR;
  return p + (1 - p) * markerRate;
}

/** What a sample is, without its pixels. */
export interface SampleDescription {
  index: number;
  name: string;
  label: SynthLabel;
  hasMarker: boolean;
}

function decide(index: number, o: Resolved): SampleDescription {
  const u0 = sampleRandom(o.seed, index, STREAM_LABEL).next();
  // With 3 classes the abnormal share splits in halves: a binary positive stays abnormal.
  const label: SynthLabel =
    u0 >= o.positiveRate ? 0 : o.classes === 2 || u0 < o.positiveRate / 2 ? 1 : 2;
  // The decision has its own stream, so raising the shortcut only adds markers (same anatomy).
  const u = sampleRandom(o.seed, index, STREAM_MARKER_DECISION).next();
  return {
    index,
    name: `img_${String(index).padStart(o.nameDigits, '0')}`,
    label,
    hasMarker: u < markerProbability(label, o.shortcut, o.markerRate, o.shortcutClass),
  };
}

function render(index: number, o: Resolved): SynthSample {
  const { seed, size } = o;
  const { name, label, hasMarker } = decide(index, o);
  const anatomy = sampleAnatomy(sampleRandom(seed, index, STREAM_ANATOMY));
  // Its own stream: the anatomy's other parameters stay those of the same image without it.
  if (label === 2) enlargeHeart(anatomy, sampleRandom(seed, index, STREAM_CARDIOMEGALY));
  let lesions: Lesion[] = [];
  if (label === 1) {
    const rng = sampleRandom(seed, index, STREAM_LESIONS);
    // Placement almost always succeeds at the first try; retry with the same stream otherwise.
    for (let attempt = 0; attempt < 8 && lesions.length === 0; attempt++) {
      lesions = sampleLesions(anatomy, rng, o.lesionStrength);
    }
  }
  const rendered = renderPhantom(
    anatomy,
    lesions,
    size,
    sampleRandom(seed, index, STREAM_TEXTURE),
    sampleRandom(seed, index, STREAM_TONE),
  );
  if (label === 1 && !rendered.lesionMask.includes(255)) {
    throw new Error(`internal error: positive sample ${index} has an empty lesion mask`);
  }

  let markerMask: Uint8Array = new Uint8Array(size * size);
  let marker: MarkerInfo | null = null;
  let artifact: ArtifactInfo | null = null;
  if (hasMarker) {
    const drawn = drawArtifact(
      o.artifact,
      {
        image: rendered.image,
        anatomy,
        lung: rendered.lung,
        lesionMask: rendered.lesionMask,
        size,
      },
      sampleRandom(seed, index, STREAM_MARKER),
    );
    markerMask = drawn.mask;
    artifact = drawn.info;
    if (drawn.info.kind === 'marker') {
      const { kind: _, ...info } = drawn.info;
      marker = info;
    }
  }

  const lungMask = new Uint8Array(size * size);
  for (let k = 0; k < lungMask.length; k++) lungMask[k] = rendered.lung[k] > 0.5 ? 255 : 0;

  return {
    index,
    name,
    label,
    hasMarker,
    size,
    image: rendered.image,
    lesionMask: rendered.lesionMask,
    markerMask,
    lungMask,
    heartMask: o.classes === 3 ? heartMask(anatomy, size) : null,
    lesions: lesions.map((l) => {
      const [cj, ci] = toPixel(anatomy, size, l.x, l.y);
      const rPx = l.r * Math.sqrt(l.aspect) * anatomy.pose.scale * (size / 2);
      return { cx: (cj + 0.5) / size, cy: (ci + 0.5) / size, radius: rPx / size };
    }),
    marker,
    artifact,
  };
}

/**
 * The mask of what makes the label (written to `masks/`): the opacities for pneumonia, the heart
 * shadow for cardiomegaly, empty for a normal image.
 */
export function findingMask(sample: SynthSample): Uint8Array {
  return sample.label === 2 && sample.heartMask ? sample.heartMask : sample.lesionMask;
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`index must be a non-negative integer, got ${index}`);
  }
}

/**
 * Name, label and marker flag of sample `index`, as `synthesizeSample` would give them, without
 * rendering it (cheap: for statistics and listings).
 */
export function describeSample(opts: SynthOptions, index: number): SampleDescription {
  checkIndex(index);
  return decide(index, resolve(opts));
}

/**
 * Sample `index` of the set described by `opts` (`count` only sets the name's zero padding).
 * Depends only on (seed, index) and the options: generating it needs none of the others.
 */
export function synthesizeSample(opts: SynthOptions, index: number): SynthSample {
  checkIndex(index);
  return render(index, resolve(opts));
}

/**
 * Lazily generates `count` phantoms (indices 0 .. count - 1). Options are validated at the call,
 * before the first sample is generated. Works with `for ... of` and `for await ... of`.
 */
export function synthesize(opts: SynthOptions): IterableIterator<SynthSample> {
  const o = resolve(opts);
  function* gen(): IterableIterator<SynthSample> {
    for (let i = 0; i < opts.count; i++) yield render(i, o);
  }
  return gen();
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { Engine, type EngineOptions } from '@camflow/engine';
import {
  alignCam,
  CAM_ALIGNMENTS,
  type CamAlignment,
  type CamGrid,
  camStats,
  camToOriginal,
  decodeMask,
  type Geometry,
  type Mask,
  preprocess,
  seedCard,
} from '@camflow/imaging';
import { noGrid } from '../align.js';
import { oneOf, usage } from '../args.js';
import {
  type Evaluation,
  type EvaluationSettings,
  formatEvaluation,
  type ImageOutcome,
  summarise,
} from '../evaluation.js';
import { loadModelSource, type ModelSource, readBytes } from '../model-source.js';
import { UsageError } from '../usage.js';
import { engineOptions } from './runtime-options.js';

const BATCH = 16;

/**
 * `camflow evaluate --model <dir> --data <synth dir>`: accuracy, the pointing game, CAM energy
 * in the lesions, and how often the CAM peaks on a corner marker: the figures of an audit.
 */
export async function evaluateCommand(argv: string[], config: Config): Promise<number> {
  const { values } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        card: { type: 'string' },
        data: { type: 'string' },
        layer: { type: 'string' },
        method: { type: 'string' },
        align: { type: 'string' },
        limit: { type: 'string' },
        tolerance: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (!values.data) throw new UsageError('--data is required (a folder written by camflow synth)');
  const source = await loadModelSource(values.model, values.card);
  const e = await evaluateModel(source, values.data, engineOptions(config), {
    layer: values.layer,
    method: values.method,
    align:
      values.align === undefined
        ? undefined
        : oneOf(values.align, 'align', CAM_ALIGNMENTS, 'resize'),
    limit: values.limit ? Number(values.limit) : undefined,
    tolerance: values.tolerance === undefined ? undefined : tolerancePx(values.tolerance),
    progress: !values.json && process.stderr.isTTY,
  });
  if (e.align.requested === 'receptive-field' && e.align.applied !== 'receptive-field') {
    process.stderr.write(`camflow: warning: ${noGrid(e.layer)}\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ model: source.name, ...e })}\n`);
  else process.stdout.write(`${formatEvaluation(source.name, e, e)}\n`);
  return 0;
}

interface LabelRow {
  file: string;
  label: 0 | 1;
  marker: boolean;
}

async function readLabels(dir: string): Promise<LabelRow[]> {
  const text = await readFile(join(dir, 'labels.csv'), 'utf8').catch(() => {
    throw new UsageError(`${dir} has no labels.csv (make one with camflow synth)`);
  });
  const lines = text.trim().split('\n');
  if (lines[0] !== 'file,label,marker')
    throw new UsageError(`${dir}/labels.csv: expected the header file,label,marker`);
  return lines.slice(1).map((line) => {
    const [file, label, marker] = line.split(',');
    return { file, label: label === '1' ? 1 : 0, marker: marker === '1' };
  });
}

function mask(dir: string, kind: string, file: string): Promise<Uint8Array> {
  return readBytes(join(dir, kind, file), 'mask');
}

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Runs a model over a synthetic data set (a `camflow synth` folder) and sums up the audit figures. */
export async function evaluateModel(
  source: ModelSource,
  dataDir: string,
  runtime: EngineOptions,
  opts: {
    layer?: string;
    method?: string;
    /** Default: the card's. */
    align?: CamAlignment;
    limit?: number;
    /** Pixels of the tolerant pointing game; default 15 (Zhang et al. 2016). */
    tolerance?: number;
    progress?: boolean;
  } = {},
): Promise<Evaluation & EvaluationSettings> {
  const card = source.card ?? seedCard;
  const align = opts.align ?? card.align;
  const tolerance = opts.tolerance ?? 15;
  let applied: CamAlignment = align;
  let layer = opts.layer ?? card.layer ?? '';
  const rows = await readLabels(dataDir);
  const limit = opts.limit ?? rows.length;
  const selected = rows.slice(0, limit);
  const classes = card.output.classes;
  const positive =
    classes.length > 1
      ? Math.max(
          0,
          classes.findIndex((c) => /pneumonia|positive/i.test(c)),
        )
      : 0;
  const engine = Engine.load(source.bytes, runtime);
  const outcomes: ImageOutcome[] = [];
  const tty = opts.progress === true;
  try {
    for (let i = 0; i < selected.length; i += BATCH) {
      const chunk = selected.slice(i, i + BATCH);
      const pre = await Promise.all(
        chunk.map(async (r) => {
          const bytes = await readBytes(join(dataDir, 'images', r.file), 'image');
          return { row: r, p: await preprocess(bytes, card) };
        }),
      );
      const per = pre[0].p.tensor.length;
      const data = new Float32Array(per * pre.length);
      pre.forEach((x, k) => {
        data.set(x.p.tensor, k * per);
      });
      const r = await engine.explain(
        { data, dims: [pre.length, ...pre[0].p.shape] },
        {
          layer: opts.layer ?? card.layer,
          method: (opts.method ?? card.method ?? 'gradcam') as 'gradcam',
          target: positive,
        },
      );
      const [, h, w] = r.cams.dims;
      layer = r.layer;
      if (align === 'receptive-field' && !r.grid) applied = 'resize';
      for (const [k, x] of pre.entries()) {
        const scores = r.scores.subarray(k * r.numClasses, (k + 1) * r.numClasses);
        const predicted =
          r.numClasses === 1 ? (scores[0] >= 0.5 ? 1 : 0) : argmax(scores) === positive ? 1 : 0;
        const cam: CamGrid = alignCam(
          { width: w, height: h, data: r.cams.data.subarray(k * h * w, (k + 1) * h * w) },
          align,
          r.grid,
        );
        const heat = camToOriginal(cam, x.p.geometry);
        const cell = peakCellRegion(cam, x.p.geometry);
        const lesionMask =
          x.row.label === 1
            ? await decodeMask(await mask(dataDir, 'masks', x.row.file))
            : undefined;
        const markerMask = x.row.marker
          ? await decodeMask(await mask(dataDir, 'markers', x.row.file))
          : undefined;
        const lesion = lesionMask ? await camStats(heat, { mask: lesionMask }) : undefined;
        const marker = markerMask ? await camStats(heat, { mask: markerMask }) : undefined;
        const plain = lesion ?? marker ?? (await camStats(heat));
        outcomes.push({
          label: x.row.label,
          predicted,
          hasMarker: x.row.marker,
          peakInLesion: lesion?.peakInMask ?? null,
          peakCellInLesion: lesionMask ? regionTouches(lesionMask, cell) : null,
          peakNearLesion: lesionMask ? peakNear(lesion?.peak, lesionMask, tolerance) : null,
          peakNearMarker: markerMask ? peakNear(marker?.peak, markerMask, tolerance) : null,
          peakCellOnMarker: markerMask ? regionTouches(markerMask, cell) : null,
          lesionEnergy: lesion?.maskEnergy ?? null,
          peakOnMarker: marker?.peakInMask ?? null,
          markerEnergy: marker?.maskEnergy ?? null,
          borderEnergy: plain.borderEnergy,
        });
      }
      if (tty) process.stderr.write(`\revaluate: ${outcomes.length}/${selected.length}`);
    }
  } finally {
    if (tty) process.stderr.write('\n');
    await engine.close();
  }
  return {
    ...summarise(outcomes, tolerance),
    layer,
    align: { requested: align, applied },
  };
}

interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The original-image region of the CAM's hottest cell (the layer's argmax cell mapped back
 * through the crop or letterbox): the pointing game at the layer's own resolution. A cell is
 * the tensor's 1/w x 1/h tile, or with a grid the stride-sized square on its receptive-field
 * centre.
 */
export function peakCellRegion(cam: CamGrid, g: Geometry): Region {
  const { width: w, height: h, data } = cam;
  let best = 0;
  for (let i = 1; i < w * h; i++) if (data[i] > data[best]) best = i;
  const cx = best % w;
  const cy = Math.floor(best / w);
  // Continuous tensor coordinates [from, to) of cell i on one axis.
  const span = (i: number, n: number, size: number, a: 0 | 1): [number, number] => {
    if (!cam.grid) return [(i / n) * size, ((i + 1) / n) * size];
    const stride = cam.grid.stride[a];
    const centre = cam.grid.origin[a] + 0.5 + stride * i;
    return [centre - stride / 2, centre + stride / 2];
  };
  const sx = g.original.width / g.resized.width;
  const sy = g.original.height / g.resized.height;
  // tensor -> resized: minus the letterbox padding, plus the crop offset
  const tx = (t: number) => (t - g.padding.left + g.crop.left) * sx;
  const ty = (t: number) => (t - g.padding.top + g.crop.top) * sy;
  const [x0, x1] = span(cx, w, g.tensor.width, 0).map(tx);
  const [y0, y1] = span(cy, h, g.tensor.height, 1).map(ty);
  return { x0, x1, y0, y1 };
}

/** Whether any mask pixel lies inside the region. */
export function regionTouches(mask: Mask, r: Region): boolean {
  const x0 = Math.max(0, Math.floor(r.x0));
  const y0 = Math.max(0, Math.floor(r.y0));
  const x1 = Math.min(mask.width, Math.ceil(r.x1));
  const y1 = Math.min(mask.height, Math.ceil(r.y1));
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) if (mask.data[y * mask.width + x]) return true;
  return false;
}

function tolerancePx(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--tolerance must be pixels >= 0, got "${v}"`);
  return n;
}

/**
 * Whether the peak pixel (normalised coordinates, as `camStats` gives them) lies within `tol`
 * pixels (Euclidean, pixel centres) of a mask pixel: the pointing game as Zhang et al. ("Top-down
 * neural attention by excitation backprop", 2016) count it, with 15 px.
 */
export function peakNear(
  peak: { x: number; y: number } | null | undefined,
  mask: Mask,
  tol: number,
): boolean {
  if (!peak) return false;
  const px = Math.floor(peak.x * mask.width);
  const py = Math.floor(peak.y * mask.height);
  const r = Math.floor(tol);
  for (let y = Math.max(0, py - r); y <= Math.min(mask.height - 1, py + r); y++) {
    for (let x = Math.max(0, px - r); x <= Math.min(mask.width - 1, px + r); x++) {
      if (mask.data[y * mask.width + x] && (x - px) ** 2 + (y - py) ** 2 <= tol * tol) return true;
    }
  }
  return false;
}

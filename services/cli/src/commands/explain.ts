import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import {
  ENGINE_METHODS,
  Engine,
  type EngineMethod,
  type ExplainResult,
  LAYOUTS,
  type LayoutOption,
  type ScoreMode,
  type Target,
  type Targets,
} from '@camflow/engine';
import {
  alignCam,
  CAM_ALIGNMENTS,
  type CamAlignment,
  type CellGrid,
  renderExplanation,
} from '@camflow/imaging';
import { noGrid } from '../align.js';
import { oneOf, usage } from '../args.js';
import { groupByShape, type InputItem, loadInputs, stack } from '../inputs.js';
import { loadModelSource } from '../model-source.js';
import { UsageError } from '../usage.js';
import { engineOptions } from './runtime-options.js';

type Cam = { height: number; width: number; data: number[]; grid?: CellGrid };

interface Item {
  input: string;
  index: number;
  count: number;
  image?: InputItem['image'];
  scores: number[];
  target: number;
  cam: Cam;
  /** With several targets: each target's class, score and map (the first is `target`/`cam`). */
  cams?: { target: number; score: number; cam: Cam }[];
  /** guided-gradcam: the guided backpropagation map at the input, in the input's layout. */
  guided?: { dims: number[]; data: number[] };
}

/** `camflow explain`: CAMs for image files or preprocessed .npy arrays. */
export async function explainCommand(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        card: { type: 'string' },
        layer: { type: 'string', multiple: true },
        method: { type: 'string' },
        align: { type: 'string' },
        layout: { type: 'string' },
        target: { type: 'string' },
        score: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        'eigen-smooth': { type: 'boolean', default: false },
        'aug-smooth': { type: 'boolean', default: false },
      },
    }),
  );
  const source = await loadModelSource(values.model, values.card);
  const method = oneOf(
    values.method ?? source.card?.method,
    'method',
    ENGINE_METHODS,
    'gradcam',
  ) as EngineMethod;
  const align = oneOf(
    values.align ?? source.card?.align,
    'align',
    CAM_ALIGNMENTS,
    'resize',
  ) as CamAlignment;
  const layout = oneOf(
    values.layout ?? source.card?.layout,
    'layout',
    LAYOUTS,
    'auto',
  ) as LayoutOption;
  const score = oneOf(values.score, 'score', ['output', 'logit'] as const, 'output') as ScoreMode;
  const { target, targets } = parseTarget(values.target, source.card?.targets);
  const items = await loadInputs(positionals, source.card);
  const engine = Engine.load(source.bytes, {
    ...engineOptions(config),
    // The card says how images are laid in the input tensor; without one the graph tells.
    ...(source.card && { inputLayout: source.card.input.layout === 'NHWC' ? 'nhwc' : 'nchw' }),
  });
  try {
    // Several --layer: the maps are fused (averaged at the finest layer's resolution).
    const layers = values.layer ?? (source.card?.layer ? [source.card.layer] : []);
    const layer = layers.length > 1 ? layers : layers[0];
    const results: Item[] = [];
    let layerName = layers.join(',');
    for (const group of groupByShape(items)) {
      const r = await engine.explain(stack(group), {
        layer,
        method,
        score,
        layout,
        eigenSmooth: values['eigen-smooth'],
        augSmooth: values['aug-smooth'],
        ...(targets !== undefined ? { targets } : { target }),
      });
      layerName = r.layer;
      results.push(...toItems(group, r, align));
    }
    if (align === 'receptive-field' && results.some((it) => !it.cam.grid)) {
      process.stderr.write(`camflow: warning: ${noGrid(layerName)}\n`);
    }
    results.sort(
      (a, b) =>
        items.findIndex((i) => i.input === a.input) - items.findIndex((i) => i.input === b.input) ||
        a.index - b.index,
    );
    if (values.out) await writeOutputs(values.out, results);
    const doc = { model: source.name, layer: layerName, method, items: results.map(publicItem) };
    if (values.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
    else printSummary(doc.model, layerName, method, results, values.out);
    return 0;
  } finally {
    await engine.close();
  }
}

/**
 * `--target`: `predicted`, a class index, or several targets: `all`, a list `0,3,7`, `top<k>`.
 * Without it, the card's `targets`, else the predicted class.
 */
function parseTarget(
  v: string | undefined,
  card: Targets | undefined,
): { target: Target; targets?: Targets } {
  if (v === undefined) return { target: 'predicted', ...(card !== undefined && { targets: card }) };
  if (v === 'predicted') return { target: 'predicted' };
  if (v === 'all') return { target: 'predicted', targets: 'all' };
  const top = /^top(\d+)$/.exec(v);
  if (top && Number(top[1]) > 0) return { target: 'predicted', targets: { top: Number(top[1]) } };
  const list = v.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x)));
  if (list.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new UsageError(
      `--target must be "predicted", a class index, "all", a list like 0,3,7 or top<k>; got "${v}"`,
    );
  }
  return list.length === 1 ? { target: list[0] } : { target: list[0], targets: list };
}

function toItems(group: InputItem[], r: ExplainResult, align: CamAlignment): Item[] {
  const [, h, w] = r.cams.dims;
  const area = h * w;
  // `grid` appears only where the CAM is drawn on the receptive fields (see the card's align).
  const cam = (data: Float32Array, at: number) =>
    alignCam<Cam>(
      { height: h, width: w, data: Array.from(data.subarray(at, at + area)) },
      align,
      r.grid,
    );
  return group.map((it, i) => {
    const many = r.perTarget;
    return {
      input: it.input,
      index: it.index,
      count: it.count,
      image: it.image,
      scores: Array.from(r.scores.subarray(i * r.numClasses, (i + 1) * r.numClasses)),
      target: r.targets[i],
      cam: cam(r.cams.data, i * area),
      ...(r.guided && { guided: guidedOf(r.guided, i) }),
      ...(many && {
        cams: Array.from({ length: many.count }, (_, k) => {
          const j = i * many.count + k;
          return {
            target: many.classes[j],
            score: many.scores[j],
            cam: cam(many.cams.data, j * area),
          };
        }),
      }),
    };
  });
}

/** Image i's guided map. */
function guidedOf(g: { data: Float32Array; dims: number[] }, i: number) {
  const per = g.data.length / g.dims[0];
  return { dims: g.dims.slice(1), data: Array.from(g.data.subarray(i * per, (i + 1) * per)) };
}

/** The binding --json item shape; `index` is added for items of a multi-image .npy. */
function publicItem(it: Item) {
  return {
    input: it.input,
    ...(it.count > 1 ? { index: it.index } : {}),
    scores: it.scores,
    target: it.target,
    cam: it.cam,
    ...(it.cams && { cams: it.cams }),
    ...(it.guided && { guided: it.guided }),
  };
}

/**
 * `--out`: `<stem>.json` for every item; for image inputs also `<stem>.overlay.png` and
 * `<stem>.heatmap.png` (16-bit) at the source image's resolution, and CAM statistics.
 */
async function writeOutputs(dir: string, items: Item[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const it of items) {
    const stem = basename(it.input, extname(it.input)) + (it.count > 1 ? `_${it.index}` : '');
    let extra = {};
    if (it.image) {
      const x = await renderExplanation(it.image.bytes, it.image.geometry, it.cam);
      await writeFile(join(dir, `${stem}.overlay.png`), x.overlay);
      await writeFile(join(dir, `${stem}.heatmap.png`), x.heatmap);
      extra = { image: { width: x.width, height: x.height }, stats: x.stats };
      // Several targets: one overlay and heatmap per class as well.
      for (const t of it.cams ?? []) {
        const y = await renderExplanation(it.image.bytes, it.image.geometry, t.cam);
        await writeFile(join(dir, `${stem}.target${t.target}.overlay.png`), y.overlay);
        await writeFile(join(dir, `${stem}.target${t.target}.heatmap.png`), y.heatmap);
      }
    }
    await writeFile(
      join(dir, `${stem}.json`),
      `${JSON.stringify({ ...publicItem(it), ...extra }, null, 2)}\n`,
    );
  }
}

function printSummary(
  model: string,
  layer: string,
  method: string,
  items: Item[],
  out?: string,
): void {
  const lines = [`model ${model}, layer ${layer}, method ${method}`];
  for (const it of items) {
    const peak = Math.max(...it.cam.data);
    const name = it.count > 1 ? `${it.input}[${it.index}]` : it.input;
    const s = it.scores.map((x) => x.toFixed(4)).join(', ');
    lines.push(
      `  ${name}: target ${it.target}, scores [${s}], cam ${it.cam.height}x${it.cam.width} (max ${peak.toFixed(4)})`,
    );
    for (const t of it.cams ?? []) {
      lines.push(
        `    target ${t.target}: score ${t.score.toFixed(4)}, cam max ${Math.max(...t.cam.data).toFixed(4)}`,
      );
    }
  }
  if (out) lines.push(`outputs written to ${out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

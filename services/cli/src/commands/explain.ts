import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
  type CardTargets,
  type CellGrid,
  classIndex,
  type EmptyCamReason,
  emptyCamReason,
  type ModelCard,
  outputKind,
  predictedClass,
  predictedLabels,
  renderExplanation,
} from '@camflow/imaging';
import { noGrid } from '../align.js';
import { oneOf, usage } from '../args.js';
import { groupByShape, type InputItem, loadInputs, stack } from '../inputs.js';
import { loadModelSource } from '../model-source.js';
import { outputStems } from '../output-stems.js';
import { UsageError } from '../usage.js';
import { engineOptions } from './runtime-options.js';

type Cam = { height: number; width: number; data: number[]; grid?: CellGrid };

/** One target's map of an image. */
interface TargetCam {
  target: number;
  className?: string;
  score: number;
  cam: Cam;
  /** Set when the map is zero everywhere, with the likely reason. */
  empty?: EmptyCamReason;
}

interface Item {
  input: string;
  index: number;
  count: number;
  image?: InputItem['image'];
  scores: number[];
  target: number;
  cam: Cam;
  /** The predicted class (a yes/no model: 1 when its output is over the threshold). */
  predicted?: number;
  /** A multi-label model's predicted label set. */
  labels?: number[];
  /** With several targets: each target's class, score and map (the first is `target`/`cam`). */
  cams?: TargetCam[];
  /** The first map is zero everywhere, and why. */
  empty?: EmptyCamReason;
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
        target: { type: 'string', multiple: true },
        score: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
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
  const { target, targets, predictedSet } = parseTargets(values.target, source.card);
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
      checkClassCount(r.numClasses, source.card, source.path);
      results.push(...toItems(group, r, align, source.card, predictedSet));
    }
    warnEmpty(results);
    if (align === 'receptive-field' && results.some((it) => !it.cam.grid)) {
      process.stderr.write(`camflow: warning: ${noGrid(layerName)}\n`);
    }
    results.sort(
      (a, b) =>
        items.findIndex((i) => i.input === a.input) - items.findIndex((i) => i.input === b.input) ||
        a.index - b.index,
    );
    if (values.out) await writeOutputs(values.out, results, values.force);
    const doc = { model: source.name, layer: layerName, method, items: results.map(publicItem) };
    if (values.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
    else printSummary(doc.model, layerName, method, results, source.card, values.out);
    return 0;
  } finally {
    await engine.close();
  }
}

/**
 * `--target`: `predicted`, a class (index or name), or several: `all`, a list `0,3,7` (names
 * too), `top<k>`; repeating it (`--target 2 --target Pneumonia`) makes a list. Without it, the
 * card's `targets`, else for a multi-label model its predicted set, else the predicted class.
 * `predictedSet`: the engine runs every class and each image keeps its predicted labels.
 */
function parseTargets(
  values: string[] | undefined,
  card: ModelCard | undefined,
): { target: Target; targets?: Targets; predictedSet?: boolean } {
  const multiLabel = card !== undefined && outputKind(card) === 'multi-label';
  const setOrArgmax = () =>
    multiLabel
      ? { target: 'predicted' as const, targets: 'all' as const, predictedSet: true }
      : { target: 'predicted' as const };
  if (values === undefined || values.length === 0) {
    const t = card?.targets;
    if (!card || t === undefined || t === 'predicted') return setOrArgmax();
    return fromCard(t, card);
  }
  const tokens = values.flatMap((v) => v.split(',')).map((x) => x.trim());
  const special = tokens.filter((t) => t === 'predicted' || t === 'all' || /^top\d+$/.test(t));
  if (special.length > 0 && tokens.length > 1) {
    throw new UsageError(
      `--target ${special[0]} cannot be combined with other targets; got "${values.join(' ')}"`,
    );
  }
  const only = tokens[0];
  if (only === 'predicted') return setOrArgmax();
  if (only === 'all') return { target: 'predicted', targets: 'all' };
  const top = /^top(\d+)$/.exec(only ?? '');
  if (top) {
    if (Number(top[1]) < 1) throw new UsageError(`--target top<k> needs k >= 1; got "${only}"`);
    return { target: 'predicted', targets: { top: Number(top[1]) } };
  }
  const list = tokens.map((t) => classOf(t, card));
  return list.length === 1 ? { target: list[0] } : { target: list[0], targets: list };
}

/** A --target token as a class index: an index, or one of the card's class names. */
function classOf(token: string, card: ModelCard | undefined): number {
  if (/^\d+$/.test(token)) return Number(token);
  const i = card ? classIndex(card, token) : undefined;
  if (i !== undefined) return i;
  const names = card?.output.classes;
  throw new UsageError(
    names
      ? `--target "${token}" is not a class of ${card?.name}@${card?.version}; its classes: ${names.join(', ')}`
      : `--target must be "predicted", a class index, "all", a list like 0,3,7 or top<k> (class names need a model card); got "${token}"`,
  );
}

/** The card's `targets` as the engine takes them (names resolved). */
function fromCard(
  t: Exclude<CardTargets, 'predicted'>,
  card: ModelCard,
): {
  target: Target;
  targets: Targets;
} {
  if (t === 'all' || !Array.isArray(t)) return { target: 'predicted', targets: t };
  const list = t.map((x) => (typeof x === 'number' ? x : classOf(x, card)));
  return { target: list[0], targets: list };
}

/** Where the graph left the class count symbolic, the first run tells it: the card must agree. */
function checkClassCount(k: number, card: ModelCard | undefined, modelPath: string): void {
  if (!card || card.output.classes.length === k) return;
  throw new UsageError(
    `the card names ${card.output.classes.length} classes (${card.output.classes.join(', ')}), but ${modelPath} gives ${k} scores per image`,
  );
}

/** One line on stderr per map that is zero everywhere, with the likely reason. */
function warnEmpty(items: Item[]): void {
  for (const it of items) {
    const name = it.count > 1 ? `${it.input}[${it.index}]` : it.input;
    for (const e of it.cams ? it.cams.map((c) => c.empty) : [it.empty]) {
      if (e) process.stderr.write(`camflow: warning: ${name}: empty CAM: ${e.message}\n`);
    }
  }
}

function toItems(
  group: InputItem[],
  r: ExplainResult,
  align: CamAlignment,
  card: ModelCard | undefined,
  predictedSet = false,
): Item[] {
  const [, h, w] = r.cams.dims;
  const area = h * w;
  // `grid` appears only where the CAM is drawn on the receptive fields (see the card's align).
  const cam = (data: Float32Array, at: number) =>
    alignCam<Cam>(
      { height: h, width: w, data: Array.from(data.subarray(at, at + area)) },
      align,
      r.grid,
    );
  const name = (k: number) => card?.output.classes[k];
  const emptyOf = (c: Cam, k: number, score: number) =>
    card && !c.data.some((v) => v > 0)
      ? emptyCamReason(name(k) ?? `class ${k}`, score, card.output.activation)
      : undefined;
  return group.map((it, i) => {
    const many = r.perTarget;
    const scores = Array.from(r.scores.subarray(i * r.numClasses, (i + 1) * r.numClasses));
    const labels =
      card && outputKind(card) === 'multi-label' ? predictedLabels(scores, card) : undefined;
    let cams: TargetCam[] | undefined = many
      ? Array.from({ length: many.count }, (_, k) => {
          const j = i * many.count + k;
          const c = cam(many.cams.data, j * area);
          const t = many.classes[j];
          const e = emptyOf(c, t, many.scores[j]);
          return {
            target: t,
            ...(name(t) !== undefined && { className: name(t) }),
            score: many.scores[j],
            cam: c,
            ...(e && { empty: e }),
          };
        })
      : undefined;
    if (predictedSet && cams && labels) {
      // Every label over its threshold; none: the top label, so there is still a map to show.
      const keep = cams.filter((c) => labels.includes(c.target));
      const top = predictedClass(scores, { output: card!.output });
      cams = keep.length > 0 ? keep : cams.filter((c) => c.target === top);
    }
    const first = cams?.[0];
    const firstCam = first ? first.cam : cam(r.cams.data, i * area);
    const target = first ? first.target : r.targets[i];
    const empty = first ? first.empty : emptyOf(firstCam, target, scores[target] ?? scores[0]);
    return {
      input: it.input,
      index: it.index,
      count: it.count,
      image: it.image,
      scores,
      target,
      cam: firstCam,
      ...(card && { predicted: predictedClass(scores, card) }),
      ...(labels && { labels }),
      ...(r.guided && { guided: guidedOf(r.guided, i) }),
      ...(cams && { cams }),
      ...(empty && { empty }),
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
    ...(it.predicted !== undefined && { predicted: it.predicted }),
    ...(it.labels && { labels: it.labels }),
    ...(it.empty && { empty: it.empty }),
    ...(it.cams && { cams: it.cams }),
    ...(it.guided && { guided: it.guided }),
  };
}

/**
 * `--out`: `<stem>.json` for every item; for image inputs also `<stem>.overlay.png` and
 * `<stem>.heatmap.png` (16-bit) at the source image's resolution, and CAM statistics. Stems are
 * unique per input (see outputStems); an existing file is overwritten only with `--force`, and
 * that is checked for every file before any is written.
 */
async function writeOutputs(dir: string, items: Item[], force: boolean): Promise<void> {
  const stems = outputStems(items.map((it) => it.input));
  const planned = items.map((it) => {
    const stem = stems.get(it.input) + (it.count > 1 ? `_${it.index}` : '');
    const at = (suffix: string) => join(dir, `${stem}${suffix}`);
    return { it, at };
  });
  if (!force) {
    const files = planned.flatMap(({ it, at }) => [
      at('.json'),
      ...(it.image
        ? [
            at('.overlay.png'),
            at('.heatmap.png'),
            ...(it.cams ?? []).flatMap((t) => [
              at(`.target${t.target}.overlay.png`),
              at(`.target${t.target}.heatmap.png`),
            ]),
          ]
        : []),
    ]);
    for (const f of files) {
      if (
        await access(f).then(
          () => true,
          () => false,
        )
      )
        throw new UsageError(`${f} exists; pass --force to overwrite it, or another --out`);
    }
  }
  const write = async (file: string, data: string | Uint8Array) => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
  };
  for (const { it, at } of planned) {
    let extra = {};
    if (it.image) {
      const x = await renderExplanation(it.image.bytes, it.image.geometry, it.cam);
      await write(at('.overlay.png'), x.overlay);
      await write(at('.heatmap.png'), x.heatmap);
      extra = { image: { width: x.width, height: x.height }, stats: x.stats };
      // Several targets: one overlay and heatmap per class as well.
      for (const t of it.cams ?? []) {
        const y = await renderExplanation(it.image.bytes, it.image.geometry, t.cam);
        await write(at(`.target${t.target}.overlay.png`), y.overlay);
        await write(at(`.target${t.target}.heatmap.png`), y.heatmap);
      }
    }
    await write(at('.json'), `${JSON.stringify({ ...publicItem(it), ...extra }, null, 2)}\n`);
  }
}

function printSummary(
  model: string,
  layer: string,
  method: string,
  items: Item[],
  card: ModelCard | undefined,
  out?: string,
): void {
  const lines = [`model ${model}, layer ${layer}, method ${method}`];
  const named = (k: number) => {
    const n = card?.output.classes[k];
    return n === undefined ? `${k}` : `${k} (${n})`;
  };
  for (const it of items) {
    const peak = Math.max(...it.cam.data);
    const name = it.count > 1 ? `${it.input}[${it.index}]` : it.input;
    const s = it.scores.map((x) => x.toFixed(4)).join(', ');
    const predicted = it.labels
      ? `predicted {${it.labels.map((k) => card?.output.classes[k] ?? k).join(', ')}}, `
      : it.predicted === undefined || !card
        ? ''
        : card.output.classes.length === 1
          ? `predicted ${it.predicted === 1 ? '' : 'not '}${card.output.classes[0]}, `
          : `predicted ${card.output.classes[it.predicted] ?? it.predicted}, `;
    lines.push(
      `  ${name}: ${predicted}target ${named(it.target)}, scores [${s}], cam ${it.cam.height}x${it.cam.width} (max ${peak.toFixed(4)})`,
    );
    for (const t of it.cams ?? []) {
      lines.push(
        `    target ${named(t.target)}: score ${t.score.toFixed(4)}, cam max ${Math.max(...t.cam.data).toFixed(4)}${t.empty ? ' (empty)' : ''}`,
      );
    }
  }
  if (out) lines.push(`outputs written to ${out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

#!/usr/bin/env node
/**
 * camflow's own figures for a softmax model on a multi-class `camflow synth --classes 3` set,
 * with the card's settings (layer, method, align), through the same engine and imaging code as
 * `camflow evaluate` (which scores one positive class only: a label other than 1 counts as
 * negative there). Run from the repository root after `npx tsc -b`:
 *
 *   node test/reference/evaluate_classes.mjs --model test/fixtures/models/xray3-electrode \
 *     --data <synth dir> [--target predicted|true] [--tolerance 15] [--limit N] [--json]
 *
 * Per image: the argmax prediction and the CAM of the target class (default: the predicted one,
 * as the seed and `camflow explain` do). Figures: accuracy, recall per class (with and without the
 * artifact), and where the CAM peak lies: in the finding's mask (`masks/`: opacities for
 * pneumonia, the heart for cardiomegaly), within `tolerance` px of it, in the hottest layer cell;
 * the same for the artifact's mask (`markers/`), over the images that carry it; and, per class,
 * on the artifact vs on the finding for images that have both.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '@camflow/engine';
import { alignCam, camStats, camToOriginal, decodeMask, preprocess } from '@camflow/imaging';
import {
  peakCellRegion,
  peakNear,
  regionTouches,
} from '../../services/cli/dist/commands/evaluate.js';
import { loadModelSource } from '../../services/cli/dist/model-source.js';

const BATCH = 16;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    target: { type: 'string', default: 'predicted' },
    tolerance: { type: 'string', default: '15' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (!values.model || !values.data) {
  process.stderr.write('usage: evaluate_classes.mjs --model <dir> --data <synth dir>\n');
  process.exit(2);
}
if (values.target !== 'predicted' && values.target !== 'true') {
  process.stderr.write('--target must be predicted or true\n');
  process.exit(2);
}
const tolerance = Number(values.tolerance);
const source = await loadModelSource(values.model);
const card = source.card;
if (card?.output.activation !== 'softmax') {
  process.stderr.write('the model needs a card with a softmax output\n');
  process.exit(2);
}
const names = card.output.classes;
const rows = (await readFile(join(values.data, 'labels.csv'), 'utf8'))
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [file, label, marker] = line.split(',');
    return { file, label: Number(label), marker: marker === '1' };
  })
  .slice(0, values.limit ? Number(values.limit) : undefined);

const engine = Engine.load(source.bytes, { intraOpThreads: 2 });
const outcomes = [];
// The alignment actually applied: receptive-field needs the graph's cell grid.
let applied = card.align;
try {
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    const pre = await Promise.all(
      chunk.map(async (r) => ({
        row: r,
        p: await preprocess(await readFile(join(values.data, 'images', r.file)), card),
      })),
    );
    const per = pre[0].p.tensor.length;
    const data = new Float32Array(per * pre.length);
    for (const [k, x] of pre.entries()) data.set(x.p.tensor, k * per);
    const res = await engine.explain(
      { data, dims: [pre.length, ...pre[0].p.shape] },
      {
        layer: card.layer,
        method: card.method ?? 'gradcam',
        target: values.target === 'true' ? chunk.map((r) => r.label) : 'predicted',
      },
    );
    const [, h, w] = res.cams.dims;
    if (card.align === 'receptive-field' && !res.grid) applied = 'resize';
    for (const [k, x] of pre.entries()) {
      const scores = res.scores.subarray(k * res.numClasses, (k + 1) * res.numClasses);
      let predicted = 0;
      for (let c = 1; c < scores.length; c++) if (scores[c] > scores[predicted]) predicted = c;
      const cam = alignCam(
        { width: w, height: h, data: res.cams.data.subarray(k * h * w, (k + 1) * h * w) },
        card.align,
        res.grid,
      );
      const heat = camToOriginal(cam, x.p.geometry);
      const cell = peakCellRegion(cam, x.p.geometry);
      const where = async (dir) => {
        const mask = await decodeMask(await readFile(join(values.data, dir, x.row.file)));
        const s = await camStats(heat, { mask });
        return {
          peak: s.peakInMask === true,
          near: peakNear(s.peak, mask, tolerance),
          cell: regionTouches(mask, cell),
          energy: s.maskEnergy ?? 0,
        };
      };
      outcomes.push({
        label: x.row.label,
        predicted,
        target: res.targets[k],
        marker: x.row.marker,
        finding: x.row.label > 0 ? await where('masks') : null,
        artifact: x.row.marker ? await where('markers') : null,
      });
    }
    if (!values.json && process.stderr.isTTY) {
      process.stderr.write(`\revaluate: ${outcomes.length}/${rows.length}`);
    }
  }
} finally {
  await engine.close();
}
if (!values.json && process.stderr.isTTY) process.stderr.write('\n');

const rate = (xs, f) => (xs.length ? xs.filter(f).length / xs.length : null);
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const region = (os, key) => ({
  n: os.length,
  peak: rate(os, (o) => o[key].peak),
  near: rate(os, (o) => o[key].near),
  cell: rate(os, (o) => o[key].cell),
  energy: mean(os.map((o) => o[key].energy)),
});
const confusion = names.map((_, t) =>
  names.map((__, p) => outcomes.filter((o) => o.label === t && o.predicted === p).length),
);
const classes = {};
for (const [c, name] of names.entries()) {
  const of = outcomes.filter((o) => o.label === c);
  const withA = of.filter((o) => o.marker);
  const without = of.filter((o) => !o.marker);
  classes[name] = {
    images: of.length,
    recall: rate(of, (o) => o.predicted === c),
    recallWithArtifact: rate(withA, (o) => o.predicted === c),
    withArtifact: withA.length,
    recallWithoutArtifact: rate(without, (o) => o.predicted === c),
    withoutArtifact: without.length,
    finding: c > 0 ? region(of, 'finding') : null,
    // Images of this class that carry the artifact: does the peak go to it or to the finding?
    bothFinding: c > 0 && withA.length ? region(withA, 'finding') : null,
    bothArtifact: withA.length ? region(withA, 'artifact') : null,
  };
}
const summary = {
  model: source.name,
  data: values.data,
  images: outcomes.length,
  layer: card.layer,
  method: card.method ?? 'gradcam',
  align: applied,
  target: values.target,
  tolerance,
  accuracy: rate(outcomes, (o) => o.predicted === o.label),
  confusion,
  classes,
  artifact: region(
    outcomes.filter((o) => o.marker),
    'artifact',
  ),
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} else {
  const pct = (v) => (v === null ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);
  const reg = (r) =>
    r
      ? `${pct(r.peak)} in, ${pct(r.near)} within ${tolerance} px, cell ${pct(r.cell)}, energy ${r.energy.toFixed(3)} (n=${r.n})`
      : '-';
  const lines = [
    `${summary.model} on ${summary.data}: ${summary.images} images, ${summary.layer} ${summary.method} ${summary.align}, target ${summary.target}`,
    `  accuracy ${pct(summary.accuracy)}; confusion (rows true, columns predicted: ${names.join(', ')}): ${confusion.map((r) => r.join(' ')).join(' | ')}`,
    `  peak on the artifact (all images with it): ${reg(summary.artifact.n ? summary.artifact : null)}`,
  ];
  for (const [name, c] of Object.entries(classes)) {
    lines.push(
      `  ${name}: recall ${pct(c.recall)} (with artifact ${pct(c.recallWithArtifact)} n=${c.withArtifact}, without ${pct(c.recallWithoutArtifact)} n=${c.withoutArtifact})`,
    );
    if (c.finding) lines.push(`    peak on the finding: ${reg(c.finding)}`);
    if (c.bothArtifact) {
      lines.push(`    with the artifact: on it ${reg(c.bothArtifact)}`);
      if (c.bothFinding) lines.push(`                       on the finding ${reg(c.bothFinding)}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

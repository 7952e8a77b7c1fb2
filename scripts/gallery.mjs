#!/usr/bin/env node
// Renders the README gallery: a healthy and a pneumonia phantom (the latter with the hospital
// marker) explained by both reference models, with `camflow explain --out`. Writes
// docs/gallery/<model>-<case>.png. Deterministic for the seed below.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSample, encodeSamplePngs, synthesizeSample } from '@camflow/imaging';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'services/cli/bin/camflow.js');
const out = join(root, 'docs/gallery');
const work = mkdtempSync(join(tmpdir(), 'camflow-gallery-'));
mkdirSync(out, { recursive: true });

// First healthy image without a marker, first pneumonia image with one (seed 4242, held out).
const opts = { count: 200, seed: 4242, size: 256, shortcut: 0.8 };
const pick = (want) => {
  for (let i = 0; i < opts.count; i++) if (want(describeSample(opts, i))) return i;
  throw new Error('no such sample');
};
const cases = {
  healthy: pick((d) => d.label === 0 && !d.hasMarker),
  pneumonia: pick((d) => d.label === 1 && d.hasMarker),
};
for (const [name, index] of Object.entries(cases)) {
  const { image } = await encodeSamplePngs(synthesizeSample(opts, index));
  writeFileSync(join(work, `${name}.png`), image);
}
for (const model of ['xray-clean', 'xray-shortcut']) {
  const dir = join(work, model);
  execFileSync(
    process.execPath,
    [
      cli,
      'explain',
      ...Object.keys(cases).map((c) => join(work, `${c}.png`)),
      '--model',
      join(root, 'test/fixtures/models', model),
      '--out',
      dir,
    ],
    { stdio: 'inherit' },
  );
  for (const c of Object.keys(cases))
    copyFileSync(join(dir, `${c}.overlay.png`), join(out, `${model}-${c}.png`));
}
for (const c of Object.keys(cases))
  copyFileSync(join(work, `${c}.png`), join(out, `input-${c}.png`));
process.stdout.write(`gallery written to ${out}\n`);

/**
 * Issue 12: a Swin's channels-last stage once gave a 7x768 "CAM". Every float tensor of rank 3
 * or 4 of a Swin and a ViT export is given as the layer: each must give a map on the image's
 * grid (at the model's resolutions, rows and columns in order: the Swin input is 64x96, so a
 * swap or a channel axis read as space would show) or refuse in one line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '@camflow/engine';
import { npyToFloat32 } from '@camflow/imaging';
import { decodeModel, GraphIndex } from '@camflow/onnx';
import { afterAll, describe, expect, test } from 'vitest';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');
const open: Engine[] = [];
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
});

const REFUSAL =
  /^layer ".+" \[[^\]]+\] gives no 2-D map: [^;\n]+; (pass --layout nchw\|nhwc\|tokens|choose a layer whose output is a feature map)$|^layer ".+" does not depend on the input image$/;

/** Ops that only move values around: a view reached through them holds the same activations. */
const MOVES = new Set(['Reshape', 'Transpose', 'Identity', 'Flatten', 'Squeeze', 'Unsqueeze']);

describe.each([
  // name, grids the maps may have: [rows, columns] of the image grid at each resolution
  [
    'swin',
    [
      [16, 24],
      [8, 12],
      [8, 24],
    ],
  ],
  ['vit', [[4, 4]]],
])('every 3-D and 4-D tensor of the %s export as the layer', (name, grids) => {
  const bytes = new Uint8Array(readFileSync(join(goldens, name, 'model.onnx')));
  const engine = Engine.load(bytes);
  open.push(engine);
  const index = new GraphIndex(
    decodeModel(bytes).graph as NonNullable<ReturnType<typeof decodeModel>['graph']>,
  );
  const input = npyToFloat32(new Uint8Array(readFileSync(join(goldens, name, 'input.npy'))));
  const x = {
    data: input.data.subarray(0, input.data.length / 3),
    dims: [1, ...input.shape.slice(1)],
  };
  const all = engine.layerViews(x.dims.slice(1));
  // Explaining a layer compiles a graph (seconds for the Swin's 2,400 nodes): a few of each kind.
  const limit = name === 'swin' ? 2 : 3;

  test('each gives a map on the image grid or one refusal line', async () => {
    const views = await all;
    const ranked = views.filter((v) => v.dims.length === 3 || v.dims.length === 4);
    expect(ranked.length).toBeGreaterThan(name === 'swin' ? 150 : 50);
    let maps = 0;
    for (const v of ranked) {
      if (v.refusal) {
        expect(v.refusal).toMatch(REFUSAL);
        continue;
      }
      maps++;
      const view = v.view as NonNullable<typeof v.view>;
      expect(grids, `${v.tensor} [${v.dims}] -> ${view.height}x${view.width}`).toContainEqual([
        view.height,
        view.width,
      ]);
    }
    expect(maps).toBeGreaterThan(10);
  });

  test('maps from views of the same activations are the same map (EigenCAM reads A only)', async () => {
    const views = new Map((await all).map((v) => [v.tensor, v]));
    // A view reached from another map through Reshape/Transpose only (a window partition, the
    // [T, N, C] attention input) must be reassembled to that map exactly.
    const pairs: [string, string][] = [];
    for (const [t, v] of views) {
      if (!v.view || v.view.layout === 'nchw' || v.view.layout === 'nhwc') continue;
      let src = t;
      for (;;) {
        const p = index.producer.get(src);
        if (!p || !MOVES.has(p.opType ?? '')) break;
        src = (p.input ?? [])[0];
        const sv = views.get(src);
        if (sv?.view) {
          pairs.push([t, src]);
          break;
        }
      }
    }
    expect(pairs.length).toBeGreaterThan(0);
    for (const [view, source] of pairs.slice(0, limit)) {
      const a = await engine.explain(x, { layer: view, method: 'eigencam' });
      const b = await engine.explain(x, { layer: source, method: 'eigencam' });
      expect(a.cams.dims).toEqual(b.cams.dims);
      const scale = Math.max(...b.cams.data, 1e-9);
      a.cams.data.forEach((v, i) => {
        expect(Math.abs(v - b.cams.data[i]) / scale, `${view} vs ${source}`).toBeLessThan(1e-4);
      });
    }
  });

  test('a channels-last or token map equals the same layer read with the named layout', async () => {
    const seen = new Set<string>();
    for (const v of await all) {
      if (seen.size >= limit) break;
      const layout = v.view?.layout;
      if ((layout !== 'nhwc' && layout !== 'tokens') || (layout === 'tokens' && v.dims[0] !== -1))
        continue;
      const key = `${layout} ${v.dims.slice(1)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const auto = await engine.explain(x, { layer: v.tensor });
      const named = await engine.explain(x, { layer: v.tensor, layout });
      expect(auto.cams.dims).toEqual([1, v.view?.height, v.view?.width]);
      expect(Array.from(auto.cams.data)).toEqual(Array.from(named.cams.data));
    }
    expect(seen.size).toBeGreaterThan(0);
  });
});

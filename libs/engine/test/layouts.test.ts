// Layer layouts read from the graph: channels-last maps, token sequences, and refusals.
import { Engine, type TensorView } from '@camflow/engine';
import { afterAll, describe, expect, test } from 'vitest';
import { inputOf, TinyModel } from './support/tiny-model.js';

const open: Engine[] = [];
const load = (bytes: Uint8Array) => {
  const e = Engine.load(bytes);
  open.push(e);
  return e;
};
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
});

/** Grad-CAM from raw hooked A and G, with a function giving the flat index of (n, c, y, x). */
function gradcamFrom(
  a: TensorView,
  g: TensorView,
  n: number,
  c: number,
  h: number,
  w: number,
  at: (n: number, c: number, y: number, x: number) => number,
) {
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      let mean = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mean += g.data[at(i, k, y, x)];
      mean /= h * w;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[i * h * w + y * w + x] += mean * a.data[at(i, k, y, x)];
    }
  }
  return out.map((v) => Math.max(v, 0));
}

async function hooked(engine: Engine, layer: string, x: { data: Float32Array; dims: number[] }) {
  let a: TensorView | undefined;
  let g: TensorView | undefined;
  const f = engine.registerForwardHook(layer, (e) => {
    a = e.tensor;
  });
  const b = engine.registerBackwardHook(layer, (e) => {
    g = e.tensor;
  });
  await engine.run(x, { target: 'predicted' });
  f.remove();
  b.remove();
  return { a: a as TensorView, g: g as TensorView };
}

function expectClose(a: Float32Array, b: Float32Array) {
  expect(a.length).toBe(b.length);
  const scale = Math.max(...b, 1e-6);
  let worst = 0;
  a.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - b[i]) / scale);
  });
  expect(worst).toBeLessThan(1e-4);
}

/** tf2onnx-style: NHWC input, Transpose to NCHW for the Conv, back to NHWC, a channels-last head. */
function nhwcModel() {
  const m = new TinyModel();
  const nchw = m.op('stem', 'Transpose', ['x'], { perm: [0, 3, 1, 2] });
  const conv = m.op('stem', 'Conv', [nchw, m.rand([4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
  const nhwc = m.op('block', 'Transpose', [conv], { perm: [0, 2, 3, 1] });
  const act = m.op('block', 'Relu', [m.op('block', 'MatMul', [nhwc, m.rand([4, 5])])]);
  const pooled = m.op('head', 'ReduceMean', [act, m.ints([1, 2])], { keepdims: 0 });
  const y = m.op('head', 'MatMul', [pooled, m.rand([5, 3], 1)]);
  return m.bytes([8, 6, 3], y, 18);
}

/** ViT-style: patch Conv, tokens, a class token in front, token mixing, the class token read. */
function tokensModel(registers = 0) {
  const m = new TinyModel();
  const patches = m.op('patch', 'Conv', ['x', m.rand([6, 3, 4, 4])], { strides: [4, 4] });
  const flat = m.op('patch', 'Reshape', [patches, m.ints([0, 6, -1])]);
  const seq = m.op('patch', 'Transpose', [flat], { perm: [0, 2, 1] });
  const shape = m.op(
    'cls',
    'Concat',
    [
      m.op('cls', 'Slice', [m.op('cls', 'Shape', ['x']), m.ints([0]), m.ints([1])]),
      m.ints([1 + registers, 6]),
    ],
    { axis: 0 },
  );
  const cls = m.op('cls', 'Expand', [m.rand([1, 1 + registers, 6]), shape]);
  const tokens = m.op('embed', 'Concat', [cls, seq], { axis: 1 });
  const norm = m.op(
    'block/norm1',
    'LayerNormalization',
    [m.op('embed', 'Add', [tokens, m.rand([1, 1 + registers + 6, 6])]), m.rand([6], 1)],
    { axis: -1 },
  );
  const mixed = m.op('block', 'Add', [
    norm,
    m.op('block', 'ReduceMean', [m.op('block', 'Tanh', [norm]), m.ints([1])], { keepdims: 1 }),
  ]);
  const first = m.op('head', 'Gather', [mixed, m.ints([0], [])], { axis: 1 });
  const y = m.op('head', 'Gemm', [first, m.rand([4, 6], 1)], { transB: 1 });
  return m.bytes([3, 8, 12], y, 18);
}

describe('layouts from the graph', () => {
  test('channels-last [N, H, W, C] behind a Transpose: an NHWC map, equal to Grad-CAM on the raw hooks', async () => {
    const engine = load(nhwcModel());
    const x = inputOf([2, 8, 6, 3]);
    const r = await engine.explain(x, { layer: 'block' });
    expect(r.layout).toBe('nhwc');
    expect(r.cams.dims).toEqual([2, 8, 6]);
    const { a, g } = await hooked(engine, 'block', x);
    expect(a.dims).toEqual([2, 8, 6, 5]);
    const manual = gradcamFrom(a, g, 2, 5, 8, 6, (n, c, y, xx) => ((n * 8 + y) * 6 + xx) * 5 + c);
    expectClose(r.cams.data, manual);
    // Saying what the graph says changes nothing; the receptive-field grid is not claimed.
    const named = await engine.explain(x, { layer: 'block', layout: 'nhwc' });
    expectClose(named.cams.data, r.cams.data);
    expect(r.grid).toBeUndefined();
  });

  test('tokens: the class token dropped, the rest folded row-major to the patch grid (non-square)', async () => {
    const engine = load(tokensModel());
    const x = inputOf([2, 3, 8, 12]);
    const r = await engine.explain(x, { layer: 'block/norm1' });
    expect(r.layout).toBe('tokens');
    expect(r.cams.dims).toEqual([2, 2, 3]);
    const { a, g } = await hooked(engine, 'block/norm1', x);
    expect(a.dims).toEqual([2, 7, 6]);
    const manual = gradcamFrom(a, g, 2, 6, 2, 3, (n, c, y, xx) => (n * 7 + 1 + y * 3 + xx) * 6 + c);
    expectClose(r.cams.data, manual);
    expect(Math.max(...r.cams.data)).toBeGreaterThan(0);
  });

  test('register tokens after the class token count as extra tokens too', async () => {
    const engine = load(tokensModel(3));
    const x = inputOf([1, 3, 8, 12]);
    const r = await engine.explain(x, { layer: 'block/norm1' });
    expect(r.cams.dims).toEqual([1, 2, 3]);
    const { a, g } = await hooked(engine, 'block/norm1', x);
    const manual = gradcamFrom(
      a,
      g,
      1,
      6,
      2,
      3,
      (n, c, y, xx) => (n * 10 + 4 + y * 3 + xx) * 6 + c,
    );
    expectClose(r.cams.data, manual);
  });

  test('the default layer of a class-token model is the last module output before the token mixing', async () => {
    const engine = load(tokensModel());
    expect((await engine.defaultLayer([3, 8, 12])).name).toBe('block.norm1');
  });

  test('--layout tokens infers the prefix from the input aspect ratio when asked directly', async () => {
    const engine = load(tokensModel());
    const x = inputOf([1, 3, 8, 12]);
    const auto = await engine.explain(x, { layer: 'block/norm1' });
    const named = await engine.explain(x, { layer: 'block/norm1', layout: 'tokens' });
    expectClose(named.cams.data, auto.cams.data);
  });
});

describe('refusals: never a map whose axes are not spatial', () => {
  test('an op the layout rules do not know: one line naming --layout; naming the layout works', async () => {
    const m = new TinyModel();
    const nchw = m.op('stem', 'Transpose', ['x'], { perm: [0, 3, 1, 2] });
    const conv = m.op('stem', 'Conv', [nchw, m.rand([4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    const nhwc = m.op('block', 'Transpose', [conv], { perm: [0, 2, 3, 1] });
    const odd = m.op('odd', 'Tile', [nhwc, m.ints([1, 1, 1, 1])]);
    const y = m.op('head', 'ReduceMean', [m.op('head', 'Relu', [odd]), m.ints([1, 2])], {
      keepdims: 0,
    });
    const engine = load(m.bytes([8, 6, 3], y, 18));
    const x = inputOf([1, 8, 6, 3]);
    const err = await engine.explain(x, { layer: 'odd' }).catch((e: Error) => e);
    expect(String(err)).toMatch(
      /layer "odd" \[N, 8, 6, 4\] gives no 2-D map: the graph does not say .*; pass --layout nchw\|nhwc\|tokens$/,
    );
    expect(String(err)).not.toMatch(/\n/);
    const named = await engine.explain(x, { layer: 'odd', layout: 'nhwc' });
    expect(named.cams.dims).toEqual([1, 8, 6]);
  });

  test('windows of several images in the batch axis and attention matrices are refused', async () => {
    const m = new TinyModel();
    const nhwc = m.op('embed', 'Transpose', [m.op('embed', 'Conv', ['x', m.rand([4, 3, 1, 1])])], {
      perm: [0, 2, 3, 1],
    });
    const windows = m.op('attn', 'Reshape', [
      m.op('attn', 'Transpose', [m.op('attn', 'Reshape', [nhwc, m.ints([-1, 2, 2, 2, 2, 4])])], {
        perm: [0, 1, 3, 2, 4, 5],
      }),
      m.ints([-1, 4, 4]),
    ]);
    const scores = m.op(
      'attn',
      'Softmax',
      [
        m.op('attn', 'MatMul', [
          windows,
          m.op('attn', 'Transpose', [windows], { perm: [0, 2, 1] }),
        ]),
      ],
      { axis: -1 },
    );
    const out = m.op('attn', 'MatMul', [scores, windows]);
    const back = m.op('attn', 'Reshape', [
      m.op('attn', 'Transpose', [m.op('attn', 'Reshape', [out, m.ints([-1, 2, 2, 2, 2, 4])])], {
        perm: [0, 1, 3, 2, 4, 5],
      }),
      m.ints([-1, 4, 4, 4]),
    ]);
    const y = m.op('head', 'ReduceMean', [m.op('block', 'Add', [back, nhwc]), m.ints([1, 2])], {
      keepdims: 0,
    });
    const engine = load(m.bytes([3, 4, 4], y, 18));
    const x = inputOf([2, 3, 4, 4]);
    await expect(engine.explain(x, { layer: windows })).rejects.toThrow(
      /batch axis mixes the images/,
    );
    await expect(engine.explain(x, { layer: scores })).rejects.toThrow(/gives no 2-D map/);
    const block = await engine.explain(x, { layer: 'block' });
    expect([block.layout, ...block.cams.dims]).toEqual(['nhwc', 2, 4, 4]);
  });

  test('a pooled vector is not a map', async () => {
    const engine = load(nhwcModel());
    await expect(engine.explain(inputOf([1, 8, 6, 3]), { layer: 'head' })).rejects.toThrow(
      /gives no 2-D map/,
    );
  });
});

import { Engine, UnsupportedOpError } from '@camflow/engine';
import { describe, expect, it } from 'vitest';
import { buildCase, type GradCase, makeRng, type Net } from './harness.js';

/** Runs a backward pass on h and returns the error it throws. */
async function backwardError(c: Omit<GradCase, 'name'>): Promise<unknown> {
  const { bytes } = buildCase({ ...c, name: 'unsupported' });
  const engine = Engine.load(bytes);
  try {
    engine.registerBackwardHook('h', () => undefined);
    const rng = makeRng(3);
    const count = c.shape.reduce((a, d) => a * d, 1);
    const data = Float32Array.from({ length: count }, () => rng() - 0.5);
    // A plain forward pass works: only the gradient is refused.
    await engine.predict({ data, dims: c.shape });
    await engine.run({ data, dims: c.shape }, { target: 0 });
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await engine.close();
  }
}

/**
 * A scalar index in [0, 3] that depends on the image values (not on shapes), so it is known only
 * at run time: the argmax of the first 4 features summed over the batch.
 */
function dataIndex(n: Net): string {
  const flat = n.op('Flatten', ['x']);
  const first = n.op('Slice', [flat, n.ints([0]), n.ints([4]), n.ints([1])]);
  const total = n.op('ReduceSum', [first, n.ints([0])], { keepdims: 0 });
  return n.op('ArgMax', [total], { axis: 0, keepdims: 0 });
}

describe('ops the gradient cannot go through', () => {
  it('Gather with indices computed at run time: UnsupportedOpError naming the op and the node', async () => {
    const err = await backwardError({
      shape: [2, 4, 3],
      build: (n) => {
        const picked = dataIndex(n);
        const g = n.op('Gather', ['h', picked], { axis: 1 });
        n.nameLast('/head/pick/Gather');
        n.output(n.op('Flatten', [g]));
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    const e = err as UnsupportedOpError;
    expect(e.opType).toBe('Gather');
    expect(e.nodeName).toBe('/head/pick/Gather');
    expect(e.message).toMatch(/Gather/);
    expect(e.message).toMatch(/"\/head\/pick\/Gather"/);
    expect(e.message).toMatch(/layer "h"/);
    expect(e.message).toMatch(/indices computed at run time/);
  });

  it('TopK after h', async () => {
    const err = await backwardError({
      opset: 13,
      shape: [2, 6],
      build: (n) => {
        const [values] = n.opN('TopK', ['h', n.ints([3])], 2);
        n.nameLast('top3');
        n.output(values);
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/cannot differentiate TopK \(node "top3"\)/);
  });

  it('a custom-domain op (com.microsoft Gelu) is named with its domain', async () => {
    const err = await backwardError({
      opset: 17,
      domains: [{ domain: 'com.microsoft', version: 1 }],
      shape: [2, 5],
      build: (n) => {
        n.output(n.opN('Gelu', ['h'], 1, {}, 'com.microsoft')[0]);
        n.nameLast('ms_gelu');
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/com\.microsoft\.Gelu \(node "ms_gelu"\)/);
  });

  it('Slice with starts computed at run time', async () => {
    const err = await backwardError({
      opset: 13,
      shape: [2, 6],
      build: (n) => {
        const start = n.op('Unsqueeze', [dataIndex(n), n.ints([0])]);
        const end = n.op('Add', [start, n.ints([3])]);
        n.output(n.op('Slice', ['h', start, end, n.ints([1])]));
        n.nameLast('from_argmax');
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/Slice \(node "from_argmax"\).*non-constant starts/);
  });

  it('GatherElements below opset 16', async () => {
    const err = await backwardError({
      opset: 13,
      shape: [2, 3],
      build: (n) => {
        const idx = n.op('ArgMax', [n.op('Mul', ['h', n.rand([3])])], { axis: 1, keepdims: 1 });
        n.output(n.op('GatherElements', ['h', idx], { axis: 1 }));
        n.nameLast('pick');
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/GatherElements \(node "pick"\).*opset >= 16/);
  });

  it('Resize tf_crop_and_resize', async () => {
    const err = await backwardError({
      opset: 13,
      shape: [2, 1, 3, 3],
      build: (n) => {
        const roi = n.floats([0, 0, 0.1, 0.1, 1, 1, 0.9, 0.9]);
        n.output(
          n.op('Resize', ['h', roi, n.floats([1, 1, 2, 2])], {
            mode: 'linear',
            coordinate_transformation_mode: 'tf_crop_and_resize',
          }),
        );
        n.nameLast('crop');
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/Resize \(node "crop"\).*tf_crop_and_resize/);
  });
});

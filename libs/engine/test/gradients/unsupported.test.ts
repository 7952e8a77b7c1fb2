import { Engine, UnsupportedOpError } from '@camflow/engine';
import { describe, expect, it } from 'vitest';
import { buildCase, type GradCase, makeRng } from './harness.js';

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

describe('ops the gradient cannot go through', () => {
  it('Gather after h: UnsupportedOpError naming the op and the node', async () => {
    const err = await backwardError({
      shape: [2, 4, 3],
      build: (n) => {
        const g = n.op('Gather', ['h', n.ints([0, 2])], { axis: 1 });
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

  it('overlapping MaxPool below opset 16: a clear UnsupportedOpError', async () => {
    const err = await backwardError({
      opset: 13,
      shape: [2, 2, 7, 7],
      build: (n) => {
        const p = n.op('MaxPool', ['h'], {
          kernel_shape: [3, 3],
          strides: [2, 2],
          pads: [1, 1, 1, 1],
        });
        n.nameLast('/stem/maxpool/MaxPool');
        n.output(p);
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(
      /cannot differentiate MaxPool \(node "\/stem\/maxpool\/MaxPool"\).*overlapping.*opset >= 16/,
    );
  });

  it('Slice with step 2', async () => {
    const err = await backwardError({
      opset: 13,
      shape: [2, 6],
      build: (n) => {
        n.output(n.op('Slice', ['h', n.ints([0]), n.ints([6]), n.ints([1]), n.ints([2])]));
        n.nameLast('every_other');
      },
    });
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/Slice \(node "every_other"\).*steps/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildXRayClassifier,
  cellGrid,
  decodeModel,
  floatTensor,
  GraphIndex,
  int64Tensor,
  makeAttributes,
  makeModel,
  type NodeProto,
  resolveLayer,
  type TensorProto,
  valueInfo,
} from '@camflow/onnx';
import { describe, expect, test } from 'vitest';

type Attrs = Parameters<typeof makeAttributes>[0];

/** A tiny graph builder: each op reads the previous tensor unless told otherwise. */
function net() {
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let last = 'x';
  const api = {
    op(opType: string, attrs: Attrs = {}, inputs: string[] = [last], extra: string[] = []) {
      const out = `t${nodes.length}`;
      nodes.push({
        name: out,
        opType,
        input: [...inputs, ...extra],
        output: [out],
        attribute: makeAttributes(attrs),
      });
      last = out;
      return out;
    },
    conv(k: number, attrs: Attrs = {}, input = last) {
      const w = `w${inits.length}`;
      inits.push(floatTensor(w, [1, 1, k, k], new Array(k * k).fill(1)));
      return api.op('Conv', attrs, [input], [w]);
    },
    const(name: string, values: number[]) {
      inits.push(int64Tensor(name, [values.length], values));
      return name;
    },
    grid(tensor = last) {
      const model = makeModel({
        inputs: [valueInfo('x', ['N', 1, 64, 64])],
        outputs: [valueInfo(last, undefined)],
        nodes,
        initializers: inits,
      });
      return cellGrid(new GraphIndex(model.graph as NonNullable<typeof model.graph>), 'x', tensor);
    },
  };
  return api;
}

describe('cellGrid', () => {
  test('the seed classifier: stride-2 3x3 convolutions with padding 1 anchor cells at i * stride', () => {
    const model = buildXRayClassifier({ nf: 2, size: 64 });
    const index = new GraphIndex(model.graph as NonNullable<typeof model.graph>);
    const block = (i: number) => `/resnet_blocks/resnet_blocks.${i}/Relu_1_output_0`;
    expect(cellGrid(index, 'input', block(0))).toEqual({ origin: [0, 0], stride: [2, 2] });
    expect(cellGrid(index, 'input', block(3))).toEqual({ origin: [0, 0], stride: [16, 16] });
    expect(cellGrid(index, 'input', block(4))).toEqual({ origin: [0, 0], stride: [32, 32] });
  });

  test('2x2 pooling (VGG) centres cells where an image resize does: (stride - 1) / 2', () => {
    const n = net();
    n.conv(3, { pads: [1, 1, 1, 1] });
    n.op('Relu');
    n.op('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] });
    n.conv(3, { pads: [1, 1, 1, 1] });
    n.op('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] });
    expect(n.grid()).toEqual({ origin: [1.5, 1.5], stride: [4, 4] });
  });

  test('the torchvision ResNet stem (7x7/2 pad 3, max pool 3x3/2 pad 1)', () => {
    const n = net();
    n.conv(7, { strides: [2, 2], pads: [3, 3, 3, 3] });
    n.op('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(n.grid()).toEqual({ origin: [0, 0], stride: [4, 4] });
  });

  test('unpadded, dilated, asymmetric and auto_pad windows', () => {
    const valid = net();
    valid.conv(3);
    expect(valid.grid()).toEqual({ origin: [1, 1], stride: [1, 1] });
    const dilated = net();
    dilated.conv(3, { dilations: [2, 2] });
    expect(dilated.grid()).toEqual({ origin: [2, 2], stride: [1, 1] });
    const rows = net();
    rows.op('AveragePool', { kernel_shape: [1, 2], strides: [1, 2] });
    expect(rows.grid()).toEqual({ origin: [0.5, 0], stride: [2, 1] });
    const same = net();
    same.conv(4, { auto_pad: 'SAME_UPPER' }); // pads 1 before, 2 after: taps -1..2
    expect(same.grid()).toEqual({ origin: [0.5, 0.5], stride: [1, 1] });
    const lower = net();
    lower.conv(4, { auto_pad: 'SAME_LOWER' });
    expect(lower.grid()).toEqual({ origin: [-0.5, -0.5], stride: [1, 1] });
  });

  test('a Pad node shifts the origin by its leading pads (opset 11+ input form)', () => {
    const n = net();
    const pads = n.const('pads', [0, 0, 1, 2, 0, 0, 1, 2]);
    n.op('Pad', {}, ['x', pads]);
    n.conv(3);
    expect(n.grid()).toEqual({ origin: [-1, 0], stride: [1, 1] });
  });

  test('squeeze-and-excitation gates (global pool -> 1x1 conv -> Mul) keep the geometry', () => {
    const n = net();
    const feat = n.conv(3, { strides: [2, 2], pads: [1, 1, 1, 1] });
    n.op('GlobalAveragePool');
    n.conv(1);
    const gate = n.op('Sigmoid');
    n.op('Mul', {}, [feat, gate]);
    expect(n.grid()).toEqual({ origin: [0, 0], stride: [2, 2] });
    const r = net();
    const f2 = r.conv(1, { strides: [2, 2] });
    const axes = r.const('axes', [-1, -2]);
    r.op('ReduceMean', { keepdims: 1 }, [f2, axes]);
    const g2 = r.op('Sigmoid');
    r.op('Mul', {}, [f2, g2]);
    expect(r.grid()).toEqual({ origin: [0, 0], stride: [2, 2] });
  });

  test('channel concatenation keeps the geometry; concatenating along space loses it', () => {
    for (const [axis, kept] of [
      [1, true],
      [-3, true],
      [2, false],
    ] as const) {
      const n = net();
      const a = n.conv(3, { pads: [1, 1, 1, 1] });
      const b = n.conv(3, { pads: [1, 1, 1, 1] }, 'x');
      n.op('Concat', { axis }, [a, b]);
      expect(n.grid()).toEqual(kept ? { origin: [0, 0], stride: [1, 1] } : undefined);
    }
  });

  test('undefined where the geometry is lost or ambiguous', () => {
    const resize = net();
    resize.conv(3, { pads: [1, 1, 1, 1] });
    resize.op('Resize');
    resize.conv(3, { pads: [1, 1, 1, 1] });
    expect(resize.grid()).toBeUndefined();
    const strided = net();
    strided.conv(3, { strides: [2, 2], auto_pad: 'SAME_UPPER' });
    expect(strided.grid()).toBeUndefined();
    const fork = net();
    const a = fork.conv(1, { strides: [2, 2] });
    const b = fork.conv(2, { strides: [2, 2] }, 'x');
    fork.op('Add', {}, [a, b]);
    expect(fork.grid()).toBeUndefined();
    const pooled = net();
    pooled.op('GlobalAveragePool');
    expect(pooled.grid()).toBeUndefined();
    expect(pooled.grid('not-a-tensor')).toBeUndefined();
  });
});

describe('cellGrid against receptive fields measured by gradients in PyTorch', () => {
  // test/reference/camflow_ref/receptive_fields.py: the centre of mass of |d A[:, i, j] / d x|
  // for an interior cell, random weights, on the goldens' architectures.
  const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');
  const measured = JSON.parse(readFileSync(join(goldens, 'receptive-fields.json'), 'utf8')) as {
    cases: { model: string; layer: string; cell: [number, number]; centre: [number, number] }[];
  };
  const index = JSON.parse(readFileSync(join(goldens, 'index.json'), 'utf8')) as {
    models: { name: string; onnx: string }[];
  };
  test.each(measured.cases)('$model $layer', ({ model, layer, cell, centre }) => {
    const entry = index.models.find((m) => m.name === model);
    const proto = decodeModel(new Uint8Array(readFileSync(join(goldens, entry?.onnx ?? ''))));
    const graph = new GraphIndex(proto.graph as NonNullable<typeof proto.graph>);
    const grid = cellGrid(graph, graph.inputs[0], resolveLayer(graph, layer).tensor);
    expect(grid).toBeDefined();
    for (const a of [0, 1] as const) {
      const g = grid as NonNullable<typeof grid>;
      const predicted = g.origin[a] + g.stride[a] * cell[a];
      // Random weights make each effective field a little lopsided: a tenth of a cell.
      expect(Math.abs(predicted - centre[a])).toBeLessThanOrEqual(Math.max(1, g.stride[a] / 10));
    }
  });
});

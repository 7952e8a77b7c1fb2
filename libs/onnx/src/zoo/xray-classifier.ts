import { makeAttributes } from '../attributes.js';
import { makeModel, valueInfo } from '../model.js';
import type { ModelProto, NodeProto, TensorProto } from '../proto.js';
import { floatTensor } from '../tensor.js';
import { normalSampler } from './random.js';

export interface XRayClassifierOptions {
  /** Width: block i has nf * 2^i channels (the seed: 64). */
  nf?: number;
  /** Input side (the seed: 256); must be a multiple of 32. */
  size?: number;
  seed?: number;
  opset?: number;
}

/**
 * The seed's XRayClassifier as PyTorch exports it in eval mode (BatchNorm folded into the
 * convolutions, Dropout dropped), with random weights: five stride-2 ResNet blocks, then an
 * 8x8 Conv to one logit and a Sigmoid. Node names follow the export, so `resnet_blocks.4`
 * resolves as it would on a real export. Used for benchmarks and tests without Python.
 */
export function buildXRayClassifier(opts: XRayClassifierOptions = {}): ModelProto {
  const nf = opts.nf ?? 64;
  const size = opts.size ?? 256;
  if (size % 32 !== 0) throw new Error('size must be a multiple of 32');
  const normal = normalSampler(opts.seed ?? 1);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];

  const weight = (name: string, dims: number[], fanIn: number) => {
    const std = Math.sqrt(2 / fanIn);
    const n = dims.reduce((a, b) => a * b, 1);
    inits.push(
      floatTensor(
        name,
        dims,
        Array.from({ length: n }, () => normal() * std),
      ),
    );
    return name;
  };
  const bias = (name: string, n: number) => {
    inits.push(
      floatTensor(
        name,
        [n],
        Array.from({ length: n }, () => normal() * 0.05),
      ),
    );
    return name;
  };
  const node = (
    name: string,
    op: string,
    inputs: string[],
    attrs: Parameters<typeof makeAttributes>[0] = {},
  ) => {
    const out = `${name}_output_0`;
    nodes.push({
      name,
      opType: op,
      input: inputs,
      output: [out],
      attribute: makeAttributes(attrs),
    });
    return out;
  };
  let x = 'input';
  let cin = 3;
  for (let i = 0; i < 5; i++) {
    const cout = nf * 2 ** i;
    const s = `/resnet_blocks/resnet_blocks.${i}`;
    const c1 = nodeConv(`${s}/conv1/Conv`, x, cin, cout, 3, 2);
    const r1 = node(`${s}/Relu`, 'Relu', [c1]);
    const c2 = nodeConv(`${s}/conv2/Conv`, r1, cout, cout, 3, 1);
    const sc = nodeConv(`${s}/shortcut/shortcut.0/Conv`, x, cin, cout, 1, 2);
    const sum = node(`${s}/Add`, 'Add', [c2, sc]);
    x = node(`${s}/Relu_1`, 'Relu', [sum]);
    cin = cout;
  }
  const side = size / 32;
  const w = weight('classifier.0.weight', [1, cin, side, side], cin * side * side);
  const logit = node('/classifier/classifier.0/Conv', 'Conv', [x, w], {
    kernel_shape: [side, side],
  });
  node('/classifier/classifier.2/Sigmoid', 'Sigmoid', [logit]);
  const last = nodes[nodes.length - 1];
  last.output = ['output'];

  return makeModel({
    name: 'XRayClassifier',
    opset: opts.opset ?? 17,
    inputs: [valueInfo('input', ['N', 3, size, size])],
    outputs: [valueInfo('output', ['N', 1, 1, 1])],
    nodes,
    initializers: inits,
  });

  function nodeConv(
    name: string,
    input: string,
    ci: number,
    co: number,
    k: number,
    stride: number,
  ) {
    const wName = weight(`${name}.weight`, [co, ci, k, k], ci * k * k);
    const bName = bias(`${name}.bias`, co);
    const pad = (k - 1) / 2;
    return node(name, 'Conv', [input, wName, bName], {
      kernel_shape: [k, k],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
  }
}

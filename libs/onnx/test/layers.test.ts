import {
  decodeModel,
  encodeModel,
  GraphIndex,
  makeModel,
  nodeScopes,
  OnnxFormatError,
  resolveLayer,
  UnknownLayerError,
  valueInfo,
} from '@camflow/onnx';
import { describe, expect, test } from 'vitest';

/** A chain of Relu nodes with the given names (enough to test name resolution). */
function chain(names: string[], extra: { name: string; input: string }[] = []) {
  const nodes = names.map((name, i) => ({
    name,
    opType: 'Relu',
    input: [i === 0 ? 'x' : `t${i - 1}`],
    output: [i === names.length - 1 ? 'y' : `t${i}`],
  }));
  for (const e of extra)
    nodes.push({ name: e.name, opType: 'Relu', input: [e.input], output: [`${e.name}_out`] });
  const model = makeModel({
    inputs: [valueInfo('x', ['N', 4])],
    outputs: [valueInfo('y', ['N', 4])],
    nodes,
  });
  return new GraphIndex(model.graph as NonNullable<typeof model.graph>);
}

describe('nodeScopes', () => {
  test('rebuilds full module paths from PyTorch scope segments', () => {
    expect(nodeScopes('/features/features.17/conv/conv.2/Conv')).toEqual([
      'features',
      'features.17',
      'features.17.conv',
      'features.17.conv.2',
    ]);
    expect(nodeScopes('/net/layer4/layer4.0/relu_1/Relu')).toEqual([
      'net',
      'net.layer4',
      'net.layer4.0',
      'net.layer4.0.relu_1',
    ]);
    expect(nodeScopes('/resnet_blocks/resnet_blocks.4/Relu_1')).toEqual([
      'resnet_blocks',
      'resnet_blocks.4',
    ]);
    expect(nodeScopes('Relu_12')).toEqual([]);
  });
});

describe('resolveLayer', () => {
  const seed = chain([
    '/resnet_blocks/resnet_blocks.3/Relu_1',
    '/resnet_blocks/resnet_blocks.4/conv1/Conv',
    '/resnet_blocks/resnet_blocks.4/Relu',
    '/resnet_blocks/resnet_blocks.4/Relu_1',
    '/classifier/classifier.0/Conv',
    '/classifier/classifier.2/Sigmoid',
  ]);

  test('a module path resolves to the output of the last node of its scope', () => {
    expect(resolveLayer(seed, 'resnet_blocks.4')).toEqual({
      name: 'resnet_blocks.4',
      tensor: 't3',
      node: '/resnet_blocks/resnet_blocks.4/Relu_1',
    });
  });

  test('indexing like PyTorch: resnet_blocks[-1] and resnet_blocks[0]', () => {
    expect(resolveLayer(seed, 'resnet_blocks[-1]').tensor).toBe('t3');
    expect(resolveLayer(seed, 'resnet_blocks[-1]').name).toBe('resnet_blocks.4');
    expect(resolveLayer(seed, 'resnet_blocks[0]').tensor).toBe('t0');
    expect(resolveLayer(seed, 'model.resnet_blocks[-1]').tensor).toBe('t3');
  });

  test('node names and tensor names resolve directly', () => {
    expect(resolveLayer(seed, '/resnet_blocks/resnet_blocks.4/Relu').tensor).toBe('t2');
    expect(resolveLayer(seed, 't1').tensor).toBe('t1');
  });

  test('the scope output is the tensor used outside the scope, not the last node listed', () => {
    // A Constant-like side node listed after the real output, consumed only inside the scope.
    const idx = chain(
      ['/layer4/layer4.0/Relu', '/layer4/layer4.0/relu_1/Relu', '/fc/Gemm'],
      [{ name: '/layer4/layer4.0/Side', input: 'x' }],
    );
    expect(resolveLayer(idx, 'layer4').tensor).toBe('t1');
  });

  test('tf2onnx scopes resolve by segment', () => {
    const keras = chain([
      'model/conv5_block3_2_relu/Relu',
      'model/conv5_block3_out/Relu',
      'model/predictions/Softmax',
    ]);
    expect(resolveLayer(keras, 'conv5_block3_out').tensor).toBe('t1');
    expect(resolveLayer(keras, 'model/conv5_block3_out/Relu').tensor).toBe('t1');
  });

  test('an unknown layer lists close matches', () => {
    expect(() => resolveLayer(seed, 'resnet_block.4')).toThrow(UnknownLayerError);
    try {
      resolveLayer(seed, 'resnet_block.4');
    } catch (err) {
      expect((err as UnknownLayerError).suggestions[0]).toBe('resnet_blocks.4');
      expect((err as Error).message).toMatch(
        /^unknown layer "resnet_block.4"; close matches: resnet_blocks.4/,
      );
    }
  });
});

describe('decodeModel', () => {
  test('round-trips a model', () => {
    const model = makeModel({
      inputs: [valueInfo('x', ['N', 2])],
      outputs: [valueInfo('y', ['N', 2])],
      nodes: [{ name: 'r', opType: 'Relu', input: ['x'], output: ['y'] }],
    });
    const again = decodeModel(encodeModel(model));
    expect(again.graph?.node?.[0].opType).toBe('Relu');
    expect(Number(again.opsetImport?.[0].version)).toBe(17);
  });

  test.each([
    ['empty', new Uint8Array(0), /the file is empty/],
    ['text', new TextEncoder().encode('hello, this is not protobuf'), /not an ONNX model/],
    [
      'truncated',
      encodeModel(makeModel({ inputs: [], outputs: [], nodes: [] })).subarray(0, 3),
      /not an ONNX model/,
    ],
  ])('rejects %s bytes with a clear error', (_what, bytes, message) => {
    expect(() => decodeModel(bytes)).toThrow(OnnxFormatError);
    expect(() => decodeModel(bytes)).toThrow(message);
  });
});

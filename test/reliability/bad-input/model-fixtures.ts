// Bad models, made in memory: a file that is not ONNX, and a valid model whose head (TopK) the
// engine cannot differentiate.
import { encodeModel, floatTensor, int64Tensor, makeModel, valueInfo } from '@camflow/onnx';

/** Bytes that are not an ONNX protobuf (a half-downloaded or mistaken file). */
export const CORRUPT_ONNX = Buffer.from('this is not a protobuf at all, just text\n'.repeat(8));

/** Input side of the TopK model (32x32 RGB). */
export const TOPK_SIZE = 32;

/** Conv -> Flatten -> TopK(k=2): runs, but has no gradient from its output to 'features'. */
export function topkModel(): Uint8Array {
  const s = TOPK_SIZE;
  const model = makeModel({
    opset: 13,
    inputs: [valueInfo('x', ['N', 3, s, s])],
    outputs: [valueInfo('y', ['N', 2])],
    initializers: [
      int64Tensor('k', [1], [2]),
      floatTensor('w', [2, 3, 1, 1], [1, 0.5, -0.5, 0.25, 1, -1]),
    ],
    nodes: [
      { name: '/features/Conv', opType: 'Conv', input: ['x', 'w'], output: ['h'] },
      { name: '/flat/Flatten', opType: 'Flatten', input: ['h'], output: ['f'] },
      { name: '/head/TopK', opType: 'TopK', input: ['f', 'k'], output: ['y', 'idx'] },
    ],
  });
  return encodeModel(model);
}

/** The card of the TopK model (merged over the seed card by `pushModel`). */
export const topkCard = {
  input: {
    size: TOPK_SIZE,
    channels: 3,
    colorSpace: 'rgb',
    resizeTo: TOPK_SIZE,
    scale: 1 / 255,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  },
  output: { activation: 'logits', classes: ['first', 'second'] },
  layer: 'features',
};

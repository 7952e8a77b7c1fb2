import { attrInts, attrString, type NodeProto } from '@camflow/onnx';
import { RuleLimitError } from '../context.js';

/** Explicit geometry of a Conv or pooling window, with auto_pad resolved to pads. */
export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin..., end...] */
  pads: number[];
  /** The extra rows/columns a transposed window needs to give back the input's exact size. */
  outputPadding: number[];
}

/**
 * Resolves a window op's geometry from its attributes and the static spatial sizes of its
 * input and output (from the probe). `kernel` comes from the weights for Conv.
 */
export function windowGeometry(
  node: NodeProto,
  kernel: number[],
  inSpatial: number[],
  outSpatial: number[],
): WindowGeometry {
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array(2 * n).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const total = Math.max(
        0,
        (outSpatial[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inSpatial[i],
      );
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i];
    }
  } else if (autoPad === 'VALID') {
    pads = new Array(2 * n).fill(0);
  }
  const outputPadding = inSpatial.map((size, i) => {
    const covered =
      (outSpatial[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + n];
    const extra = size - covered;
    if (extra < 0 || extra >= Math.max(strides[i], dilations[i])) {
      // ceil_mode windows that overhang the input land here too.
      throw new RuleLimitError(`window geometry that cannot be transposed (extra ${extra})`);
    }
    return extra;
  });
  return { kernel, strides, dilations, pads, outputPadding };
}

/** A static spatial shape (dims from 2 on), or an error naming the op. */
export function spatial(shape: number[], what: string): number[] {
  const s = shape.slice(2);
  if (s.some((d) => d < 0)) throw new RuleLimitError(`${what} with dynamic spatial size`);
  return s;
}

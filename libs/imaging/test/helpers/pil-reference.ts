/**
 * A deliberately slow, straightforward restatement of Pillow's antialiased resize, written from
 * its documented behaviour rather than from src/resample.ts, as the oracle for parity tests:
 *  - per axis, scale = in / out; when shrinking the filter is stretched by scale (support =
 *    filter support * max(scale, 1)); output i is centred at (i + 0.5) * scale in input pixels;
 *  - input pixel j (centre j + 0.5) weighs filter((j + 0.5 - centre) / max(scale, 1)), weights
 *    normalised to sum 1;
 *  - horizontal pass first, rounded to 8 bits, then the vertical pass, rounded to 8 bits;
 *  - an axis whose size does not change is left alone.
 * It uses float weights and Math.round where Pillow uses 22-bit fixed point, so it can differ
 * by one step of 1/255 where a sum lands next to a rounding boundary.
 */
const filters = {
  bilinear: { support: 1, f: (x: number) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    f: (x: number) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1;
      if (t < 2) return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a;
      return 0;
    },
  },
};

function weightsFor(inSize: number, outSize: number, i: number, kind: keyof typeof filters) {
  const { support, f } = filters[kind];
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const centre = (i + 0.5) * scale;
  const taps: [number, number][] = [];
  for (let j = 0; j < inSize; j++) {
    const d = (j + 0.5 - centre) / stretch;
    if (Math.abs(d) < support) taps.push([j, f(d)]);
  }
  const total = taps.reduce((s, [, w]) => s + w, 0);
  return taps.map(([j, w]) => [j, w / total] as const);
}

const to8 = (v: number) => Math.min(255, Math.max(0, Math.round(v)));

/** Resizes interleaved 8-bit pixels to outW x outH like Pillow's Image.resize. */
export function pilResizeReference(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outW: number,
  outH: number,
  kind: keyof typeof filters = 'bilinear',
): Uint8Array {
  let cur = src;
  let w = width;
  if (outW !== width) {
    const next = new Uint8Array(outW * height * channels);
    for (let x = 0; x < outW; x++) {
      const taps = weightsFor(width, outW, x, kind);
      for (let y = 0; y < height; y++) {
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (const [j, wt] of taps) sum += cur[(y * width + j) * channels + c] * wt;
          next[(y * outW + x) * channels + c] = to8(sum);
        }
      }
    }
    cur = next;
    w = outW;
  }
  if (outH !== height) {
    const next = new Uint8Array(w * outH * channels);
    for (let y = 0; y < outH; y++) {
      const taps = weightsFor(height, outH, y, kind);
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (const [j, wt] of taps) sum += cur[(j * w + x) * channels + c] * wt;
          next[(y * w + x) * channels + c] = to8(sum);
        }
      }
    }
    cur = next;
  }
  return cur;
}

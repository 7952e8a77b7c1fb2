import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCard } from '../src/card.js';
import { preprocess } from '../src/preprocess.js';
import { picture } from './helpers/pixels.js';

interface Case {
  input: [number, number, 1 | 3];
  transform: 'seed' | 'bilinear' | 'bicubic' | 'nearest' | 'grey';
  sha256: string;
  sum: number;
}

const golden: { pillow: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('./fixtures/pillow/resize-golden.json', import.meta.url), 'utf8'),
);

const base = { name: 'm', version: '1', output: { activation: 'logits', classes: ['a'] } };
// scale 1 and NHWC, so the tensor holds the uint8 pixels in numpy's HWC order.
const small = { size: 64, resizeTo: 72, scale: 1, layout: 'NHWC' } as const;
const cards = {
  seed: parseCard({ ...base, input: { size: 256, resizeTo: 256, scale: 1, layout: 'NHWC' } }),
  bilinear: parseCard({ ...base, input: { ...small, interpolation: 'bilinear' } }),
  bicubic: parseCard({ ...base, input: { ...small, interpolation: 'bicubic' } }),
  nearest: parseCard({ ...base, input: { ...small, interpolation: 'nearest' } }),
  grey: parseCard({ ...base, input: { ...small, channels: 1 } }),
};

describe(`bit-exact parity with Pillow ${golden.pillow} (torchvision Resize + CenterCrop)`, () => {
  it('has goldens for every transform', () => {
    expect(new Set(golden.cases.map((c) => c.transform)).size).toBe(5);
    expect(golden.cases.length).toBe(50);
  });

  for (const c of golden.cases) {
    const [w, h, channels] = c.input;
    it(`${c.transform} of a ${w}x${h}x${channels} picture`, async () => {
      const data = picture(w, h, channels, w * 7 + h);
      const image = { width: w, height: h, channels, data, format: 'png' as const, bitDepth: 8 };
      const { tensor } = await preprocess(image, cards[c.transform]);
      const bytes = Uint8Array.from(tensor);
      expect(bytes.reduce((s, v) => s + v, 0)).toBe(c.sum);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(c.sha256);
    });
  }
});

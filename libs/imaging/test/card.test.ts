import { describe, expect, it } from 'vitest';
import { ModelCardError, parseCard, seedCard, seedCardJson } from '../src/card.js';

const minimal = {
  name: 'm',
  version: '1',
  input: { size: 224 },
  output: { activation: 'softmax', classes: ['a', 'b'] },
};

function errorOf(json: unknown): ModelCardError {
  try {
    parseCard(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelCardError);
    return err as ModelCardError;
  }
  throw new Error('parseCard accepted an invalid card');
}

describe('parseCard', () => {
  it('resolves the seed card to the tutorial preprocessing', () => {
    expect(seedCard.input).toEqual({
      size: [256, 256],
      channels: 3,
      colorSpace: 'rgb',
      layout: 'NCHW',
      resize: 'shorter-side-center-crop',
      resizeTo: 256,
      interpolation: 'bilinear',
      scale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      pad: 0,
    });
    expect(seedCard.output).toEqual({ activation: 'sigmoid', classes: ['pneumonia'] });
    expect(seedCard.layer).toBe('resnet_blocks.4');
    expect(seedCard.method).toBe('gradcam');
    // The JSON form round-trips through text, as it would from model.json on disk.
    expect(parseCard(JSON.stringify(seedCardJson))).toEqual(seedCard);
  });

  it('fills defaults for a minimal card', () => {
    const card = parseCard(minimal);
    expect(card.input).toEqual({
      size: [224, 224],
      channels: 3,
      colorSpace: 'rgb',
      layout: 'NCHW',
      resize: 'shorter-side-center-crop',
      resizeTo: 224,
      interpolation: 'bilinear',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      pad: 0,
    });
    expect(card.layer).toBeUndefined();
    // The CAM is drawn like the seed (an image resize) unless the card asks otherwise.
    expect(card.align).toBe('resize');
    expect(parseCard({ ...minimal, align: 'receptive-field' }).align).toBe('receptive-field');
  });

  it('takes [h, w] sizes and defaults resizeTo to the longer crop side', () => {
    const card = parseCard({ ...minimal, input: { size: [200, 300] } });
    expect(card.input.size).toEqual([200, 300]);
    expect(card.input.resizeTo).toBe(300);
  });

  it('defaults a 1-channel card to grayscale and broadcasts scalar mean/std', () => {
    const card = parseCard({ ...minimal, input: { size: 64, channels: 1, mean: 0.2, std: [0.3] } });
    expect(card.input.colorSpace).toBe('grayscale');
    expect(card.input.mean).toEqual([0.2]);
    expect(card.input.std).toEqual([0.3]);
  });

  it('accepts a Caffe-style card: scale 1, BGR, per-channel mean', () => {
    const card = parseCard({
      ...minimal,
      input: {
        size: 224,
        colorSpace: 'bgr',
        scale: 1,
        mean: [103.9, 116.8, 123.7],
        resize: 'stretch',
      },
    });
    expect(card.input.scale).toBe(1);
    expect(card.input.colorSpace).toBe('bgr');
    expect(card.input.mean).toEqual([103.9, 116.8, 123.7]);
  });
});

describe('parseCard render settings', () => {
  it('accepts overlay format, quality and sizes, and refuses others', () => {
    const card = parseCard({
      ...seedCardJson,
      render: { overlay: { format: 'png', maxSide: 'source' }, heatmap: { maxSide: 512 } },
    });
    expect(card.render).toEqual({
      overlay: { format: 'png', maxSide: 'source' },
      heatmap: { maxSide: 512 },
    });
    expect(parseCard(seedCardJson).render).toBeUndefined();
    expect(() => parseCard({ ...seedCardJson, render: { overlay: { format: 'gif' } } })).toThrow(
      /render\.overlay\.format/,
    );
    expect(() => parseCard({ ...seedCardJson, render: { heatmap: { maxSide: 0 } } })).toThrow(
      /render\.heatmap\.maxSide/,
    );
    expect(() => parseCard({ ...seedCardJson, render: { overlay: { quality: 101 } } })).toThrow(
      ModelCardError,
    );
  });
});

describe('parseCard errors', () => {
  it('names every offending field in one message', () => {
    const err = errorOf({
      name: '',
      version: '1',
      input: { size: -3, layout: 'CHW' },
      output: { activation: 'relu', classes: [] },
    });
    expect(err.message).toMatch(/^invalid model card: /);
    expect(err.message).toContain('name:');
    expect(err.message).toContain('input.size:');
    expect(err.message).toContain('input.layout:');
    expect(err.message).toContain('output.activation:');
    expect(err.message).toContain('output.classes:');
    expect(err.issues.length).toBe(5);
    expect(err.permanent).toBe(true);
  });

  it('rejects unknown keys, so typos do not silently fall back to defaults', () => {
    const err = errorOf({ ...minimal, input: { size: 224, interpolaton: 'bicubic' } });
    expect(err.message).toMatch(/input: Unrecognized key\(s\) in object: 'interpolaton'/);
  });

  it('checks mean/std lengths against channels and forbids std 0', () => {
    expect(errorOf({ ...minimal, input: { size: 8, mean: [1, 2] } }).message).toContain(
      'input.mean: 2 values for 3 channels',
    );
    expect(errorOf({ ...minimal, input: { size: 8, std: [1, 0, 1] } }).message).toContain(
      'input.std: must not contain 0',
    );
  });

  it('rejects inconsistent geometry and colour settings', () => {
    expect(errorOf({ ...minimal, input: { size: 256, resizeTo: 200 } }).message).toContain(
      'input.resizeTo: 200 is smaller than the crop 256x256',
    );
    expect(
      errorOf({ ...minimal, input: { size: 8, resize: 'stretch', resizeTo: 9 } }).message,
    ).toContain("only applies to resize 'shorter-side-center-crop'");
    expect(
      errorOf({ ...minimal, input: { size: 8, channels: 1, colorSpace: 'rgb' } }).message,
    ).toContain("input.colorSpace: 'rgb' needs 3 channels");
    expect(
      errorOf({ ...minimal, output: { activation: 'softmax', classes: ['only'] } }).message,
    ).toContain('softmax needs at least 2 classes');
  });

  it('names the allowed CAM alignments', () => {
    const err = errorOf({ ...minimal, align: 'centre' });
    expect(err.message).toMatch(/align: .*'resize' \| 'receptive-field'/);
  });

  it('reports text that is not JSON', () => {
    expect(errorOf('{"name": ').message).toMatch(/^invalid model card: not JSON/);
  });

  it('reports a non-object', () => {
    expect(errorOf(42).message).toMatch(/^invalid model card: \(card\): Expected object/);
  });
});

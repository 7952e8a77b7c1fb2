// Which classes a job explains (targets.ts) and what its event says it predicted
// (prediction.ts), on the cards of the issue-16 reference models; the predicted label sets are
// PyTorch's (test/reference/camflow_ref/byom.py, committed in test/fixtures/byom/expected.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermanentError } from '@camflow/contracts';
import { type ModelCard, parseCard } from '@camflow/imaging';
import { describe, expect, it } from 'vitest';
import type { ItemResult } from '../src/micro-batcher.js';
import { explainedCaption, predictionOf } from '../src/prediction.js';
import { chooseTargets, planTargets } from '../src/targets.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const card = (name: string) =>
  parseCard(readFileSync(join(FIXTURES, 'models', name, 'model.json'), 'utf8'));
const expected = JSON.parse(readFileSync(join(FIXTURES, 'byom/expected.json'), 'utf8'));
const cxr14 = card('cxr14-tiny');
const tri = card('tri-tiny');
const predicted = { target: 'predicted' as const };

/** An engine result for one image that computed every class: map k is filled with k + 1. */
function everyClass(scores: number[]): ItemResult {
  const cam = (k: number) => ({ data: new Float32Array(4).fill(k + 1), width: 2, height: 2 });
  return {
    scores,
    numClasses: scores.length,
    target: 0,
    layer: 'layer4',
    cam: cam(0),
    perTarget: {
      classes: scores.map((_, k) => k),
      scores: scores.slice(),
      cams: scores.map((_, k) => cam(k)),
    },
    batchSize: 1,
    waitMs: 0,
    explainMs: 0,
  } as ItemResult;
}

describe('planTargets', () => {
  it('explains a multi-label model’s predicted set by default, one target otherwise', () => {
    expect(planTargets(predicted, cxr14, 'cxr14-tiny@1')).toEqual({
      engine: 'all',
      predictedSet: true,
    });
    expect(planTargets(predicted, tri, 'tri-tiny@1')).toBeUndefined();
    // A job asking for one class by index gets that class only.
    expect(planTargets({ target: 6 }, cxr14, 'cxr14-tiny@1')).toBeUndefined();
  });

  it('resolves names (any case) and indices in order, once each; top k capped at the classes', () => {
    const c: ModelCard = { ...cxr14, targets: ['pneumonia', 2, 'Pneumonia'] };
    expect(planTargets(predicted, c, 'm')).toEqual({ engine: [6, 2], predictedSet: false });
    expect(planTargets({ ...predicted, targets: [7, 0] }, c, 'm')?.engine).toEqual([7, 0]);
    expect(planTargets({ ...predicted, targets: { top: 9 } }, tri, 'm')?.engine).toEqual({
      top: 3,
    });
    expect(planTargets({ ...predicted, targets: 'all' }, tri, 'm')?.engine).toBe('all');
    // `predicted` on a softmax model: its argmax, as a one-map list so that `cams` names it.
    expect(planTargets({ target: 1, targets: 'predicted' }, tri, 'm')?.engine).toEqual({
      top: 1,
    });
  });

  it('fails permanently, naming the classes, for a class the model lacks or too many maps', () => {
    const bad = () => planTargets({ ...predicted, targets: [3] }, tri, 'tri-tiny@1');
    expect(bad).toThrow(PermanentError);
    expect(bad).toThrow(
      'target 3 is not a class of tri-tiny@1 (3 outputs: normal, pneumonia, cardiomegaly)',
    );
    const named = { ...tri, targets: ['Hernia'] } as ModelCard;
    expect(() => planTargets(predicted, named, 'tri-tiny@1')).toThrow('target "Hernia"');
    const wide = {
      ...tri,
      output: { ...tri.output, classes: Array.from({ length: 100 }, (_, i) => `c${i}`) },
    };
    expect(() => planTargets({ ...predicted, targets: 'all' }, wide, 'imagenet@1')).toThrow(
      'more than the 64 CAMs',
    );
  });
});

describe('chooseTargets', () => {
  it('keeps each image’s labels over their thresholds (PyTorch’s sets, per-label thresholds)', () => {
    const ref = expected['cxr14-tiny'];
    const plan = planTargets(predicted, cxr14, 'm');
    ref.scores.forEach((scores: number[], i: number) => {
      const kept = chooseTargets(everyClass(scores), plan, cxr14);
      const names = kept.map((t) => cxr14.output.classes[t.target]);
      expect(names, expected.keys[i]).toEqual(ref.predicted[i]);
      for (const t of kept) {
        expect(t.score).toBe(scores[t.target]);
        expect(t.cam.data[0]).toBe(t.target + 1);
      }
    });
  });

  it('keeps the top label of an image with no label over its threshold', () => {
    const scores = Array.from({ length: 14 }, (_, k) => 0.1 + k / 100);
    scores[4] = 0.45;
    const kept = chooseTargets(everyClass(scores), planTargets(predicted, cxr14, 'm'), cxr14);
    expect(kept.map((t) => t.target)).toEqual([4]);
  });

  it('keeps every computed map of a list, and the one map of a single target', () => {
    const r = everyClass([0.2, 0.5, 0.3]);
    const list = planTargets({ ...predicted, targets: [2, 0] }, tri, 'm');
    // The engine computed [2, 0] only:
    const two: ItemResult = {
      ...r,
      perTarget: {
        classes: [2, 0],
        scores: [0.3, 0.2],
        cams: [r.perTarget!.cams[2], r.perTarget!.cams[0]],
      },
    };
    expect(chooseTargets(two, list, tri).map((t) => [t.target, t.score])).toEqual([
      [2, 0.3],
      [0, 0.2],
    ]);
    const single = chooseTargets({ ...r, perTarget: undefined, target: 1 }, undefined, tri);
    expect(single.map((t) => [t.target, t.score])).toEqual([[1, 0.5]]);
  });
});

describe('predictionOf', () => {
  it('a multi-label model: every score, the predicted set, each label’s threshold', () => {
    const ref = expected['cxr14-tiny'];
    ref.scores.forEach((scores: number[], i: number) => {
      const p = predictionOf(scores, cxr14, 6);
      expect(p.kind).toBe('multi-label');
      expect(p.scores).toEqual(scores);
      expect(p.target).toBe(6);
      expect(p.labels?.map((k) => cxr14.output.classes[k])).toEqual(ref.predicted[i]);
      expect(p.thresholds).toEqual(ref.thresholds);
    });
  });

  it('a softmax model: the argmax, no set and no thresholds', () => {
    const ref = expected['tri-tiny'];
    ref.scores.forEach((scores: number[], i: number) => {
      const p = predictionOf(scores, tri, 0);
      expect(p).toMatchObject({ kind: 'multi-class', classes: tri.output.classes });
      expect(tri.output.classes[p.predicted]).toBe(ref.predicted[i]);
      expect(p.labels).toBeUndefined();
      expect(p.thresholds).toBeUndefined();
    });
  });

  it('a Secondary Capture’s caption names the class its map explains, and the prediction', () => {
    expect(explainedCaption([0.2, 0.7, 0.1], tri, 1)).toBe('pneumonia (score 0.700)');
    expect(explainedCaption([0.2, 0.7, 0.1], tri, 2)).toBe(
      'cardiomegaly (score 0.100); predicted pneumonia (score 0.700)',
    );
    const scores = Array.from({ length: 14 }, () => 0.1);
    scores[6] = 0.65;
    scores[2] = 0.45;
    expect(explainedCaption(scores, cxr14, 6)).toBe(
      'Pneumonia (score 0.650); predicted: Effusion, Pneumonia',
    );
    expect(
      explainedCaption(
        scores.map(() => 0.2),
        cxr14,
        0,
      ),
    ).toBe('Atelectasis (score 0.200); predicted: none');
  });
});

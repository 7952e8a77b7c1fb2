// The card's output semantics (kind, thresholds, predicted sets, empty-map reasons) and the card
// checked against what a graph says about its input and output.
import { describe, expect, test } from 'vitest';
import {
  cardModelIssues,
  classIndex,
  emptyCamReason,
  labelThresholds,
  type ModelCard,
  type ModelIO,
  modelIO,
  outputKind,
  parseCard,
  predictedClass,
  predictedLabels,
} from '../src/index.js';

const base = {
  name: 'm',
  version: '1',
  input: { size: 224, resizeTo: 256, channels: 3 as const },
  output: { activation: 'softmax' as const, classes: ['a', 'b', 'c'] },
};
const labels14 = Array.from({ length: 14 }, (_, i) => `L${i}`);
const multi = parseCard({
  ...base,
  input: { ...base.input, channels: 1 },
  output: { activation: 'sigmoid', classes: labels14, thresholds: { L6: 0.6, L2: 0.4 } },
});

describe('output kinds and thresholds', () => {
  test('kinds: one output binary, several sigmoids multi-label, softmax multi-class, or as written', () => {
    expect(outputKind(parseCard(base))).toBe('multi-class');
    expect(outputKind(multi)).toBe('multi-label');
    const one = parseCard({ ...base, output: { activation: 'sigmoid', classes: ['x'] } });
    expect(outputKind(one)).toBe('binary');
    const logits = parseCard({
      ...base,
      output: { activation: 'logits', classes: ['a', 'b'], type: 'multi-label' },
    });
    expect(outputKind(logits)).toBe('multi-label');
  });

  test('thresholds by name, list or one number; the rest 0.5', () => {
    expect(labelThresholds(multi)[6]).toBe(0.6);
    expect(labelThresholds(multi)[2]).toBe(0.4);
    expect(labelThresholds(multi).filter((t) => t === 0.5)).toHaveLength(12);
    const one = parseCard({ ...multi, output: { ...multi.output, thresholds: 0.3 } });
    expect(new Set(labelThresholds(one))).toEqual(new Set([0.3]));
  });

  test('the predicted set: each label at or over its own threshold (logits through a sigmoid)', () => {
    const scores = labels14.map(() => 0.45);
    scores[6] = 0.59; // under its 0.6
    scores[2] = 0.41; // over its 0.4
    scores[3] = 0.5; // at 0.5: in
    expect(predictedLabels(scores, multi)).toEqual([2, 3]);
    // The argmax stays what `predicted` always was.
    expect(predictedClass(scores, multi)).toBe(6);
    const logits = parseCard({
      ...base,
      output: {
        activation: 'logits',
        classes: ['a', 'b'],
        type: 'multi-label',
        thresholds: [0.7, 0.5],
      },
    });
    // sigmoid(0.8) = 0.69 < 0.7; sigmoid(0) = 0.5 >= 0.5
    expect(predictedLabels([0.8, 0], logits)).toEqual([1]);
    const binary = parseCard({ ...base, output: { activation: 'logits', classes: ['x'] } });
    expect(predictedClass([0.1], binary)).toBe(1);
    expect(predictedClass([-0.1], binary)).toBe(0);
  });

  test('classes by name (any case) or index', () => {
    expect(classIndex(multi, 'l6')).toBe(6);
    expect(classIndex(multi, 'L13')).toBe(13);
    expect(classIndex(multi, '3')).toBe(3);
    expect(classIndex(multi, 14)).toBeUndefined();
    expect(classIndex(multi, 'Hernia')).toBeUndefined();
  });

  test('cards whose output fields contradict each other are refused, naming the field', () => {
    const bad =
      (output: object, extra: object = {}) =>
      () =>
        parseCard({ ...base, ...extra, output: { ...base.output, ...output } });
    expect(bad({ type: 'multi-label' })).toThrow(/multi-label' needs independent outputs/);
    expect(bad({ activation: 'sigmoid', thresholds: [0.5, 0.5] })).toThrow(
      /thresholds: 2 values for 3 classes/,
    );
    expect(bad({ activation: 'sigmoid', thresholds: { z: 0.5 } })).toThrow(/"z" is not one of/);
    expect(bad({ thresholds: 0.5 })).toThrow(/only a multi-label or binary output/);
    expect(bad({ classes: ['a', 'a'] })).toThrow(/"a" appears twice/);
    expect(bad({}, { targets: ['a', 'nope'] })).toThrow(/targets: "nope" is not one of/);
    expect(bad({}, { targets: [3] })).toThrow(/targets: 3 is not a class index/);
    expect(parseCard({ ...base, targets: ['c', 0] }).targets).toEqual(['c', 0]);
    expect(parseCard({ ...base, targets: 'predicted' }).targets).toBe('predicted');
  });
});

describe('empty maps', () => {
  test('a saturated probability says so; otherwise there is no evidence', () => {
    expect(emptyCamReason('Hernia', 1, 'sigmoid').reason).toBe('saturated');
    expect(emptyCamReason('Hernia', 1, 'sigmoid').message).toMatch(/Hernia score is 1.*logit/);
    expect(emptyCamReason('b', 0, 'softmax').reason).toBe('saturated');
    expect(emptyCamReason('b', 0.3, 'softmax').reason).toBe('no-evidence');
    expect(emptyCamReason('b', 12, 'logits').reason).toBe('no-evidence');
  });
});

describe('the card against the model', () => {
  const io = (input: (number | null)[], output: (number | null)[], lastOp?: string): ModelIO => ({
    input: { name: 'input', dims: input },
    output: { name: 'output', dims: output },
    ...(lastOp && { lastOp }),
  });
  const card = parseCard(base) as ModelCard;

  test('agreeing, or where the graph does not say: no issues', () => {
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 3], 'Softmax'))).toEqual([]);
    expect(cardModelIssues(card, io([null, null, null, null], [null, null]))).toEqual([]);
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 3], 'Mul'))).toEqual([]);
  });

  test('each contradiction in one sentence naming both sides', () => {
    expect(cardModelIssues(card, io([null, 1, 224, 224], [null, 3]))).toEqual([
      'input.channels: the card says 3, but the model\'s input "input" is [N, 1, 224, 224]: it takes 1',
    ]);
    expect(cardModelIssues(card, io([1, 3, 256, 256], [1, 3]))[0]).toMatch(
      /input.size: the card says 224x224 .* is \[1, 3, 256, 256\]: it takes 256x256/,
    );
    expect(cardModelIssues(card, io([null, 224, 224, 3], [null, 3]))[0]).toMatch(
      /input.layout: the card says NCHW .*\[N, 224, 224, 3\] \(channels last\): set "layout": "NHWC"/,
    );
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 2]))[0]).toMatch(
      /output.classes: the card names 3 classes, but the model's output "output" is \[N, 2\]: 2 scores/,
    );
    // A conv head's [N, K, 1, 1] counts K scores.
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 3, 1, 1]))).toEqual([]);
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 3], 'Sigmoid'))[0]).toMatch(
      /the card says softmax, but .* comes from a Sigmoid: set "activation": "sigmoid"/,
    );
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 3], 'Gemm'))[0]).toMatch(
      /comes from Gemm \(no activation at the end: logits\): set "activation": "logits", or export the model with its softmax/,
    );
    expect(cardModelIssues(card, io([null, 3, 224, 224], [null, 3], 'LogSoftmax'))[0]).toMatch(
      /LogSoftmax \(log-probabilities\)/,
    );
    expect(cardModelIssues(card, io([null, 224, 224], [null, 3]))[0]).toMatch(
      /input: the card describes images/,
    );
  });

  test('modelIO reads the first real input, the output, and the op behind reshapes', () => {
    const graph = {
      input: [
        { name: 'w', type: { tensorType: { shape: { dim: [{ dimValue: 3 }] } } } },
        {
          name: 'x',
          type: {
            tensorType: {
              shape: {
                dim: [{ dimParam: 'N' }, { dimValue: 1 }, { dimValue: 64 }, { dimValue: 48 }],
              },
            },
          },
        },
      ],
      initializer: [{ name: 'w' }],
      output: [
        {
          name: 'y',
          type: { tensorType: { shape: { dim: [{ dimParam: 'N' }, { dimValue: 5 }] } } },
        },
      ],
      node: [
        { opType: 'Gemm', input: ['f', 'w'], output: ['z'] },
        { opType: 'Sigmoid', input: ['z'], output: ['s'] },
        { opType: 'Flatten', input: ['s'], output: ['y'] },
      ],
    };
    expect(modelIO(graph)).toEqual({
      input: { name: 'x', dims: [null, 1, 64, 48] },
      output: { name: 'y', dims: [null, 5] },
      lastOp: 'Sigmoid',
    });
  });
});

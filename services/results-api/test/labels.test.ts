import type { CompletedEvent } from '@camflow/contracts';
import { describe, expect, it } from 'vitest';
import { histogramSvg } from '../src/report/svg.js';
import { esc } from '../src/report/template.js';
import { classNames, evaluate, labelIndex, outcomeOf } from '../src/store/labels.js';
import { completed } from './helpers.js';

const withLabel = (score: number, label: number | string, classes?: string[]): CompletedEvent => {
  const e = completed({ jobId: 'j', runId: 'r', score, label });
  return classes ? { ...e, prediction: { ...e.prediction, classes } } : e;
};

describe('labels', () => {
  it('maps manifest labels onto class indexes', () => {
    const binary = ['not pneumonia', 'pneumonia'];
    expect(labelIndex(1, binary)).toBe(1);
    expect(labelIndex('0', binary)).toBe(0);
    expect(labelIndex('Pneumonia', binary)).toBe(1);
    expect(labelIndex('yes', binary)).toBe(1);
    expect(labelIndex('maybe', binary)).toBeUndefined();
    expect(labelIndex(3, binary)).toBeUndefined();
    expect(classNames(withLabel(0.9, 1, ['pneumonia']).prediction)).toEqual(binary);
  });

  it('gives binary outcomes, accuracy and the confusion matrix', () => {
    const events = [
      withLabel(0.9, 1),
      withLabel(0.8, 0),
      withLabel(0.1, 1),
      withLabel(0.2, 'negative'),
      withLabel(0.3, 'unknown-label'),
    ];
    expect(events.map(outcomeOf)).toEqual(['TP', 'FP', 'FN', 'TN', undefined]);
    expect(evaluate(events)).toEqual({
      labelled: 4,
      correct: 2,
      accuracy: 0.5,
      classes: ['negative', 'positive'],
      matrix: [
        [1, 1],
        [1, 1],
      ],
    });
    expect(evaluate([completed({ jobId: 'j', runId: 'r' })])).toBeUndefined();
  });

  it('treats multi-class results as right or wrong', () => {
    const e = completed({ jobId: 'j', runId: 'r', label: 'cat' });
    const multi: CompletedEvent = {
      ...e,
      prediction: {
        target: 2,
        scores: [0.1, 0.2, 0.7],
        predicted: 2,
        classes: ['dog', 'cow', 'cat'],
      },
    };
    expect(outcomeOf(multi)).toBe('correct');
    expect(outcomeOf({ ...multi, label: 0 })).toBe('wrong');
    expect(evaluate([multi])?.matrix[2]).toEqual([0, 0, 1]);
  });
});

describe('html', () => {
  it('escapes text and attributes, also in SVG titles', () => {
    expect(esc(`<img src=x onerror="a('b')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
    );
    const svg = histogramSvg({ title: '<b>', xLabel: '"x"', values: [0.1, 0.5, 0.5, 2] });
    expect(svg).toContain('&lt;b&gt;');
    expect(svg).not.toContain('<b>');
  });
});

import { createHash } from 'node:crypto';
import { explainJobId, type RunRecord } from '@camflow/contracts';
import { describe, expect, test } from 'vitest';
import { settingsOf } from '../src/run-expander.js';

const record: RunRecord = {
  runId: 'run-1',
  kind: 'run',
  model: 'xray@1',
  method: 'gradcam',
  target: 'predicted',
  priority: 'bulk',
  source: { bucket: 'data', prefix: 'scans/' },
  owner: 'o',
  createdAt: 1,
};

describe('run settings and job ids', () => {
  test("a run's align reaches its jobs; without one the card decides", () => {
    expect(settingsOf(record)).toEqual({ model: 'xray@1', method: 'gradcam', target: 'predicted' });
    expect(settingsOf({ ...record, layer: 'resnet_blocks.3', align: 'receptive-field' })).toEqual({
      model: 'xray@1',
      method: 'gradcam',
      target: 'predicted',
      layer: 'resnet_blocks.3',
      align: 'receptive-field',
    });
  });

  test('job ids without align are what they were before align existed; with it they differ', () => {
    const source = { bucket: 'data', key: 'scans/a.png', etag: '"abc"' };
    const settings = settingsOf(record);
    // The id formula as it stood: sha256 of the JSON list of these parts, 40 hex digits.
    const parts = ['data', 'scans/a.png', '', 'abc', 'xray@1', '', 'gradcam', 'predicted'];
    const before = `x${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40)}`;
    expect(explainJobId(source, settings)).toBe(before);
    const aligned = explainJobId(source, { ...settings, align: 'receptive-field' });
    expect(aligned).not.toBe(before);
    expect(explainJobId(source, { ...settings, align: 'resize' })).not.toBe(aligned);
  });
});

// The whole audit on a small case with a known answer: a fake model (behind the library's
// `Predict` interface) that says "positive" when a bright token sits in the top-right corner,
// or when an opacity sits anywhere in a broad central region.
import { describe, expect, test } from 'vitest';
import {
  AuditCollector,
  type AuditImage,
  executeImageTask,
  finalizeAudit,
  type ImageTensor,
  planAudit,
} from '../src/index.js';
import { positive, uniform } from './helpers.js';

const S = 256;

interface Scene {
  token: boolean;
  opacity?: [number, number];
}

function render(s: Scene): ImageTensor {
  const data = new Float32Array(S * S).fill(0.2);
  if (s.token) for (let y = 12; y < 28; y++) for (let x = 228; x < 244; x++) data[y * S + x] = 1;
  if (s.opacity) {
    const [ox, oy] = s.opacity;
    for (let y = oy - 10; y < oy + 10; y++)
      for (let x = ox - 10; x < ox + 10; x++) data[y * S + x] = 0.8;
  }
  return { data, width: S, height: S, channels: 1, layout: 'NCHW' };
}

/** Positive when the token is there (strongly) or when any opacity is (weakly). */
function model(x: Float32Array): number[] {
  let token = 0;
  for (let y = 12; y < 28; y++)
    for (let xx = 228; xx < 244; xx++) token += x[y * S + xx] > 0.9 ? 1 : 0;
  let opacity = 0;
  for (let i = 0; i < x.length; i++) if (x[i] > 0.7 && x[i] < 0.9) opacity++;
  const p = Math.min(0.99, 0.1 + 0.85 * (token / 256) + 0.5 * Math.min(1, opacity / 400));
  return [1 - p, p];
}

async function audit(scenes: Map<string, Scene>, images: AuditImage[]) {
  const c = new AuditCollector({ faithfulnessImages: 4 });
  for (const img of images) c.add(img);
  const plan = planAudit(c.result());
  const predict = async (xs: Float32Array[]) => xs.map(model);
  const results = [];
  for (const task of plan.tasks)
    results.push(await executeImageTask(task, render(scenes.get(task.id)!), predict));
  return finalizeAudit(plan, results, { name: 'fake@1', classNames: ['healthy', 'finding'] });
}

describe('audit of a fake model with a known answer', () => {
  test('a token shortcut: shortcut-suspected, the finding box on the token, occlusion beats controls', async () => {
    const u = uniform(11);
    const scenes = new Map<string, Scene>();
    const images: AuditImage[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `t${i}`;
      scenes.set(id, { token: true });
      images.push({ ...positive(id, 14, 1, model(render({ token: true }).data)[1]) });
    }
    for (let i = 0; i < 40; i++) {
      const id = `o${i}`;
      const cx = Math.floor(u(4, 12));
      const cy = Math.floor(u(5, 12));
      const scene: Scene = { token: false, opacity: [cx * 16 + 8, cy * 16 + 8] };
      scenes.set(id, scene);
      images.push(positive(id, cx, cy, model(render(scene).data)[1]));
    }
    const doc = await audit(scenes, images);
    expect(doc.verdict).toBe('shortcut-suspected');
    expect(doc.findings).toHaveLength(1);
    const f = doc.findings[0];
    expect(f.class).toBe(1);
    expect(f.className).toBe('finding');
    // The token spans x 228..244, y 12..28 of 256: the box covers it and stays in the corner.
    // (boxes are rounded to 4 decimals)
    expect(f.box.x).toBeLessThanOrEqual(228 / S + 1e-4);
    expect(f.box.x + f.box.width).toBeGreaterThanOrEqual(244 / S - 1e-4);
    expect(f.box.y).toBeLessThanOrEqual(12 / S + 1e-4);
    expect(f.box.y + f.box.height).toBeGreaterThanOrEqual(28 / S - 1e-4);
    expect(f.imageShare).toBeCloseTo(0.6, 2);
    expect(f.occlusion.scoreDrop).toBeGreaterThan(0.5);
    expect(f.occlusion.flipRate).toBe(1);
    expect(f.occlusion.controlFlipRate).toBe(0);
    expect(f.occlusion.controlScoreDrop).toBeCloseTo(0, 5);
    expect(f.place).toBe('top-right corner');
    expect(doc.summary).toMatch(
      /^Shortcut suspected: heat on 60% of the finding predictions concentrates in a \d+% region at the top-right corner/,
    );
    expect(doc.atlas.width * doc.atlas.height).toBe(doc.atlas.data.length);
    expect((doc.faithfulness as { images: number }).images).toBe(4);
  });

  test('a softmax model with 3 classes: the finding names the class whose token it is', async () => {
    // Class 2 ("cardiomegaly") when the token is there; class 1 ("pneumonia") for an opacity
    // anywhere in the middle; class 0 otherwise. Softmax-like probabilities that sum to 1.
    const three = (x: Float32Array): number[] => {
      const [, p] = model(x);
      let token = 0;
      for (let y = 12; y < 28; y++)
        for (let xx = 228; xx < 244; xx++) token += x[y * S + xx] > 0.9 ? 1 : 0;
      const t = token / 256;
      const c2 = 0.9 * t;
      const c1 = (1 - c2) * (t > 0 ? 0.1 : p);
      return [1 - c1 - c2, c1, c2];
    };
    const u = uniform(17);
    const scenes = new Map<string, Scene>();
    const images: AuditImage[] = [];
    const add = (id: string, scene: Scene, cx: number, cy: number) => {
      scenes.set(id, scene);
      const probs = three(render(scene).data);
      const predicted = probs.indexOf(Math.max(...probs));
      images.push({ ...positive(id, cx, cy), numOutputs: 3, probs, predicted, target: predicted });
    };
    for (let i = 0; i < 60; i++) add(`t${i}`, { token: true }, 14, 1);
    for (let i = 0; i < 60; i++) {
      const cx = Math.floor(u(4, 12));
      const cy = Math.floor(u(5, 12));
      add(`o${i}`, { token: false, opacity: [cx * 16 + 8, cy * 16 + 8] }, cx, cy);
    }
    const c = new AuditCollector({ faithfulnessImages: 4 });
    for (const img of images) c.add(img);
    const plan = planAudit(c.result());
    const results = [];
    for (const task of plan.tasks)
      results.push(
        await executeImageTask(task, render(scenes.get(task.id)!), async (xs) => xs.map(three)),
      );
    const doc = finalizeAudit(plan, results, {
      name: 'three@1',
      classNames: ['normal', 'pneumonia', 'cardiomegaly'],
    });
    expect(doc.verdict).toBe('shortcut-suspected');
    expect(doc.findings.map((f) => [f.class, f.className, f.place])).toEqual([
      [2, 'cardiomegaly', 'top-right corner'],
    ]);
    expect(doc.findings[0].occlusion.flipRate).toBe(1);
    expect(doc.findings[0].occlusion.controlFlipRate).toBe(0);
  });

  test('opacities spread over a broad region: no-finding', async () => {
    const u = uniform(5);
    const scenes = new Map<string, Scene>();
    const images: AuditImage[] = [];
    for (let i = 0; i < 100; i++) {
      const id = `o${i}`;
      const cx = Math.floor(u(3, 13));
      const cy = Math.floor(u(4, 12));
      const scene: Scene = { token: false, opacity: [cx * 16 + 8, cy * 16 + 8] };
      scenes.set(id, scene);
      images.push(positive(id, cx, cy, model(render(scene).data)[1]));
    }
    const doc = await audit(scenes, images);
    expect(doc.verdict).toBe('no-finding');
    expect(doc.findings).toEqual([]);
  });

  test('too few images of any class: inconclusive', async () => {
    const scenes = new Map<string, Scene>([['a', { token: true }]]);
    const doc = await audit(scenes, [positive('a', 14, 1)]);
    expect(doc.verdict).toBe('inconclusive');
    expect(doc.summary).toMatch(/20 predicted images/);
  });
});

import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';

/** Share of pneumonia phantoms that carry the hospital marker (the shortcut a model can learn). */
export const DEMO_SHORTCUT = 0.8;

export interface DemoDataset {
  prefix: string;
  manifestKey: string;
  count: number;
  positives: number;
  markers: number;
}

/**
 * Synthetic chest X-ray phantoms uploaded under `data/<prefix>`, plus a CSV manifest with the
 * ground-truth labels (the audit report then shows accuracy and a confusion matrix). A strong
 * marker shortcut: most pneumonia images carry a corner token, as in the classic failure.
 */
export async function uploadDemoDataset(
  store: ObjectStore,
  opts: { count: number; seed: number; prefix: string; onProgress?: (done: number) => void },
): Promise<DemoDataset> {
  const synth = { count: opts.count, seed: opts.seed, size: 256, shortcut: DEMO_SHORTCUT };
  const lines = ['key,label'];
  let positives = 0;
  let markers = 0;
  for (let i = 0; i < opts.count; i++) {
    const sample = synthesizeSample(synth, i);
    const { image } = await encodeSamplePngs(sample);
    const key = `${opts.prefix}${sample.name}.png`;
    await store.put('data', key, image, 'image/png');
    lines.push(`${key},${sample.label}`);
    positives += sample.label;
    if (sample.hasMarker) markers++;
    opts.onProgress?.(i + 1);
  }
  const manifestKey = `${opts.prefix}manifest.csv`;
  await store.put('data', manifestKey, `${lines.join('\n')}\n`, 'text/csv');
  return { prefix: opts.prefix, manifestKey, count: opts.count, positives, markers };
}

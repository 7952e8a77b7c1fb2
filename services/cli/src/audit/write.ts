/**
 * `camflow audit --out <dir>`: the document (audit.json), the atlas drawn over the audited
 * class's typical image (atlas.png), each finding's examples with the region outlined
 * (finding-<k>-<i>.png) and a page that shows them (report.html), all beside each other so the
 * folder opens anywhere.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { meanPixels, renderAtlas, renderExample } from '@camflow/audit';
import { type Pixels, tensorPixels } from '@camflow/imaging';
import { type AuditView, renderAuditPage } from '@camflow/results-api';
import type { LocalAudit } from './local.js';

export async function writeAuditFolder(dir: string, audit: LocalAudit): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { doc, plan, inputs, card } = audit;
  const pixels = async (file: string): Promise<Pixels> => tensorPixels(await readFile(file), card);
  const typical = [...inputs.values()]
    .filter((i) => i.predicted === doc.atlasClass && i.cam)
    .slice(0, 12);
  let atlasUrl: string | undefined;
  const background = meanPixels(await Promise.all(typical.map((i) => pixels(i.file))));
  if (background && plan.frame) {
    await writeFile(join(dir, 'atlas.png'), await renderAtlas(doc.atlas, background));
    atlasUrl = 'atlas.png';
  }
  const findings = [];
  for (const [k, f] of doc.findings.entries()) {
    const exampleUrls: string[] = [];
    for (const [i, file] of f.examples.entries()) {
      const cam = inputs.get(file)?.cam;
      if (!cam) continue;
      const name = `finding-${k + 1}-${i + 1}.png`;
      await writeFile(join(dir, name), await renderExample(await pixels(file), cam, [f.box]));
      exampleUrls.push(name);
    }
    findings.push({ ...f, exampleUrls });
  }
  await writeFile(join(dir, 'audit.json'), `${JSON.stringify(doc, null, 1)}\n`);
  const view = { ...doc, status: 'done', runId: '', atlasUrl, findings } as unknown as AuditView;
  const note = `${doc.images} images; written by camflow audit on ${new Date().toISOString()}`;
  await writeFile(join(dir, 'report.html'), renderAuditPage(view, `Audit of ${doc.model}`, note));
}

/**
 * A report saved to disk keeps its images when the stack is gone: every image it shows (atlas,
 * examples, overlays) is downloaded into `<name>_files/` beside the HTML and the page points at
 * those copies instead of presigned URLs that expire.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ApiClient } from './api-client.js';

export async function saveReport(
  api: ApiClient,
  runId: string,
  out: string,
): Promise<{ images: number; folder: string }> {
  const page = await api.requestText(
    'results',
    'GET',
    `/v1/runs/${encodeURIComponent(runId)}/report`,
  );
  const folder = `${basename(out, extname(out))}_files`;
  await mkdir(join(dirname(out), folder), { recursive: true });
  const urls = [
    ...new Set([...page.matchAll(/(?:src|href)="(https?:\/\/[^"]+)"/g)].map((m) => m[1])),
  ];
  const local = new Map<string, string>();
  let n = 0;
  for (const escaped of urls) {
    const url = escaped.replaceAll('&amp;', '&');
    const res = await fetch(url).catch(() => undefined);
    if (!res?.ok) continue;
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith('image/') && !type.includes('json')) continue;
    const ext = type.includes('json')
      ? '.json'
      : `.${type.split('/')[1].split(';')[0].replace('jpeg', 'jpg')}`;
    const name = `${folder}/${String(++n).padStart(4, '0')}${ext}`;
    await writeFile(join(dirname(out), name), Buffer.from(await res.arrayBuffer()));
    local.set(escaped, name);
  }
  const saved = page.replace(/(src|href)="(https?:\/\/[^"]+)"/g, (m, attr: string, u: string) =>
    local.has(u) ? `${attr}="${local.get(u)}"` : m,
  );
  await writeFile(out, saved);
  return { images: n, folder };
}

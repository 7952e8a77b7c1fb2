/**
 * What `camflow audit` reads: image files named on the command line or found under folders, and
 * an optional labels CSV (camflow synth's labels.csv, or any `file|key|path, label` table).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../usage.js';

const IMAGE_EXTENSIONS = new Set([
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.tif',
  '.tiff',
  '.dcm',
  '.bmp',
  '.gif',
]);

/** Image files, in a stable order: files as given, folders walked recursively (sorted). */
export async function listImages(paths: string[]): Promise<{ files: string[]; roots: string[] }> {
  if (paths.length === 0) throw new UsageError('no inputs given: name image files or a folder');
  const files: string[] = [];
  const roots: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new UsageError(`cannot read ${p}: no such file or folder`);
    if (s.isDirectory()) {
      roots.push(p);
      const found = await walk(p);
      if (found.length === 0)
        throw new UsageError(`${p}: no image files (${[...IMAGE_EXTENSIONS].join(', ')})`);
      files.push(...found);
    } else files.push(p);
  }
  return { files, roots };
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

/**
 * Labels by file: a CSV with a header naming a file column (`file`, `key`, `path`, `image`) and
 * a `label` column. A row matches an input by its path relative to a folder given, by its path
 * relative to the CSV, or by its file name when that is unique.
 */
export async function readLabels(
  csvPath: string,
  files: string[],
  roots: string[],
): Promise<{ labels: Map<string, string>; unmatched: number }> {
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read labels ${csvPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let rows: Record<string, string>[];
  try {
    rows = parse(text, {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      bom: true,
      trim: true,
    });
  } catch (err) {
    throw new UsageError(`labels ${csvPath}: ${(err as Error).message}`);
  }
  const fileCol = ['file', 'key', 'path', 'image'].find((c) => rows.length > 0 && c in rows[0]);
  if (rows.length > 0 && (!fileCol || !('label' in rows[0]))) {
    throw new UsageError(
      `labels ${csvPath}: the header must name a file column (file, key, path or image) and a label column`,
    );
  }
  const byKey = new Map<string, string>();
  const names = new Map<string, number>();
  for (const f of files) names.set(basename(f), (names.get(basename(f)) ?? 0) + 1);
  for (const f of files) {
    const keys = [
      resolve(f),
      ...roots.map((r) => relative(r, f)),
      relative(resolve(csvPath, '..'), resolve(f)),
    ];
    if (names.get(basename(f)) === 1) keys.push(basename(f));
    for (const k of keys) byKey.set(k.split('\\').join('/'), f);
  }
  const labels = new Map<string, string>();
  let unmatched = 0;
  for (const row of rows) {
    const key = (row[fileCol as string] ?? '').split('\\').join('/');
    const file = byKey.get(key) ?? byKey.get(resolve(key)) ?? byKey.get(basename(key));
    if (file === undefined) unmatched++;
    else if (row.label !== undefined && row.label !== '') labels.set(file, row.label);
  }
  return { labels, unmatched };
}

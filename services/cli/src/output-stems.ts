import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';

/**
 * Where each input's outputs go under `--out`, as a stem (a path without the suffixes): the
 * file's name where the names differ, else its path below the inputs' common folder (a/x.png
 * and b/x.png: a/x and b/x), with the extension kept where only that differs (x.png, x.jpg:
 * x_png, x_jpg). No two inputs share a stem, so none overwrites another's outputs.
 */
export function outputStems(inputs: string[]): Map<string, string> {
  const unique = [...new Set(inputs)];
  const stems = new Map<string, string>();
  const names = unique.map((p) => basename(p, extname(p)));
  if (new Set(names).size === names.length) {
    for (const [i, p] of unique.entries()) stems.set(p, names[i]);
    return stems;
  }
  const root = commonFolder(unique.map((p) => dirname(resolve(p))));
  const mirrored = unique.map((p) => {
    const rel = relative(root, resolve(p));
    return join(dirname(rel), basename(rel, extname(rel)));
  });
  const clash = (s: string) => mirrored.filter((m) => m === s).length > 1;
  for (const [i, p] of unique.entries()) {
    const ext = extname(p).slice(1);
    stems.set(p, clash(mirrored[i]) && ext ? `${mirrored[i]}_${ext}` : mirrored[i]);
  }
  return stems;
}

/** The deepest folder holding all of these (absolute) folders. */
function commonFolder(folders: string[]): string {
  const parts = folders.map((f) => f.split(sep));
  const shared: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0][i]); i++)
    shared.push(parts[0][i]);
  return shared.join(sep) || sep;
}

/**
 * A survey of a folder-labelled source before anything is queued: images per split and class,
 * and everything that is not a labelled image, each with a count and example keys: folders that
 * name no class (fatal: labels are never guessed), files that are not images, keys the key policy
 * refuses, mixed extensions, empty splits and splits missing a class (reported, not fatal).
 */
import { keyViolation } from '@camflow/contracts';
import { type FolderClasses, isJunkFolder, placeKey } from './folder-labels.js';

/** A count and a few example keys. */
export interface Examples {
  count: number;
  examples: string[];
}

export interface SplitFigures {
  /** The split's folder name; null when class folders are at the top. */
  split: string | null;
  /** The split folder's path ('' for none). */
  path: string;
  images: number;
  /** Images per class (by the name `classes` spells). */
  classes: Record<string, number>;
}

/** What a folder-labelled source holds (stored with the run as its `layout`). */
export interface LayoutSurvey {
  images: number;
  classes: Record<string, number>;
  splits: SplitFigures[];
  unknownFolders: ({ folder: string; path: string } & Examples)[];
  notImages: Examples;
  unsafeKeys: Examples;
  /** Image extensions as written, when there is more than one (else empty). */
  mixedExtensions: ({ extension: string } & Examples)[];
  /** Folders beside the splits that hold no image. */
  emptySplits: { split: string; path: string }[];
  /** Splits without any image of a class that other splits have. */
  missingClasses: { split: string | null; path: string; classes: string[] }[];
}

const EXAMPLES = 3;

function note(e: Examples, key: string): void {
  e.count++;
  if (e.examples.length < EXAMPLES) e.examples.push(key);
}

/** The map's value for `key`, made by `make` the first time. */
function entry<V>(map: Map<string, V>, key: string, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

const parentOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));
const lastOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Accumulates a survey key by key (a listing page at a time: nothing but counts is held). */
export class FolderSurvey {
  private images = 0;
  private readonly splits = new Map<string, SplitFigures>();
  private readonly unknown = new Map<string, { folder: string; path: string } & Examples>();
  private readonly notImages: Examples = { count: 0, examples: [] };
  private readonly unsafe: Examples = { count: 0, examples: [] };
  private readonly extensions = new Map<string, Examples>();
  private readonly folders = new Set<string>();

  constructor(private readonly classes: FolderClasses) {}

  /** Counts one object key; `image` overrides the name-based check (sniffed local files). */
  addKey(key: string, image?: boolean): void {
    if (key.endsWith('/')) {
      this.addFolder(key);
      return;
    }
    if (keyViolation(key)) {
      note(this.unsafe, key);
      return;
    }
    const place = placeKey(key, this.classes, image);
    if (place.kind === 'not-image') {
      note(this.notImages, key);
      return;
    }
    note(
      entry(this.extensions, place.extension, () => ({ count: 0, examples: [] })),
      key,
    );
    if (place.kind === 'unlabelled') {
      const u = entry(this.unknown, place.folderPath, () => ({
        folder: place.folder,
        path: place.folderPath,
        count: 0,
        examples: [],
      }));
      note(u, key);
      return;
    }
    this.images++;
    const s = this.split(place.splitPath, place.split ?? null);
    s.images++;
    s.classes[place.className] = (s.classes[place.className] ?? 0) + 1;
  }

  /** A folder (a local directory, or a listing's `name/` placeholder): may reveal empty splits. */
  addFolder(path: string): void {
    const p = path.replace(/\/+$/, '');
    if (p) this.folders.add(p);
  }

  private split(path: string, name: string | null): SplitFigures {
    return entry(this.splits, path, () => ({ split: name, path, images: 0, classes: {} }));
  }

  result(): LayoutSurvey {
    // A class folder with nothing in it still shows its split (with 0 images).
    for (const f of this.folders) {
      if (!this.classes.find(lastOf(f))) continue;
      const path = parentOf(f);
      const name = path ? lastOf(path) : null;
      if (!this.splits.has(path)) this.split(path, name);
    }
    const splitParents = new Set([...this.splits.keys()].filter(Boolean).map(parentOf));
    const holds = (f: string, path: string) => path === f || path.startsWith(`${f}/`);
    const emptySplits = [...this.folders]
      .filter(
        (f) =>
          splitParents.has(parentOf(f)) &&
          !this.classes.find(lastOf(f)) &&
          !isJunkFolder(lastOf(f)) &&
          ![...this.splits.keys()].some((p) => holds(f, p)) &&
          ![...this.unknown.keys()].some((p) => holds(f, p)),
      )
      .map((path) => ({ split: lastOf(path), path }));
    for (const s of this.splits.values())
      if (s.images === 0) emptySplits.push({ split: s.split ?? '', path: s.path });
    const seen = new Set(
      [...this.splits.values()].flatMap((s) => Object.keys(s.classes).filter((c) => s.classes[c])),
    );
    const splits = [...this.splits.values()].sort((a, b) => a.path.localeCompare(b.path));
    const missingClasses = splits
      .filter((s) => s.images > 0)
      .map((s) => ({
        split: s.split,
        path: s.path,
        classes: [...seen].filter((c) => !s.classes[c]).sort(),
      }))
      .filter((m) => m.classes.length > 0);
    return {
      images: this.images,
      classes: { ...this.classes.classes },
      splits,
      unknownFolders: [...this.unknown.values()].sort((a, b) => b.count - a.count),
      notImages: this.notImages,
      unsafeKeys: this.unsafe,
      mixedExtensions:
        this.extensions.size > 1
          ? [...this.extensions]
              .map(([extension, e]) => ({ extension, ...e }))
              .sort((a, b) => b.count - a.count)
          : [],
      emptySplits: emptySplits.sort((a, b) => a.path.localeCompare(b.path)),
      missingClasses,
    };
  }
}

const examples = (e: Examples) => (e.examples.length ? `, e.g. ${e.examples.join(', ')}` : '');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Why a survey cannot be run as labelled (folders naming no class, or nothing to explain), in
 * one line with counts and example keys; undefined when it can. `hint` says how to map them.
 */
export function surveyError(s: LayoutSurvey, hint?: string): string | undefined {
  if (s.unknownFolders.length > 0) {
    const n = s.unknownFolders.reduce((a, u) => a + u.count, 0);
    const list = s.unknownFolders
      .slice(0, 8)
      .map((u) => `"${u.folder || '(top level)'}" (${plural(u.count, 'image')}${examples(u)})`)
      .join('; ');
    const more = s.unknownFolders.length > 8 ? `; and ${s.unknownFolders.length - 8} more` : '';
    const known = Object.entries(s.classes)
      .map(([c, i]) => `${c}=${i}`)
      .join(', ');
    return (
      `${plural(n, 'image')} in folders that name no class (classes: ${known}): ${list}${more}; ` +
      (hint ?? 'map each folder to a class index in labels.classes, or leave it out of the source')
    );
  }
  if (s.images === 0) {
    const other = s.notImages.count
      ? ` (${plural(s.notImages.count, 'file')} that are not images${examples(s.notImages)})`
      : '';
    return `no images in class folders${other}`;
  }
  return undefined;
}

/** What is reported but does not stop the run, one line each. */
export function surveyWarnings(s: LayoutSurvey): string[] {
  const out: string[] = [];
  if (s.notImages.count)
    out.push(`${plural(s.notImages.count, 'file')} not an image, skipped${examples(s.notImages)}`);
  if (s.unsafeKeys.count)
    out.push(
      `${plural(s.unsafeKeys.count, 'key')} refused by the key policy, skipped${examples(s.unsafeKeys)}`,
    );
  if (s.mixedExtensions.length)
    out.push(
      `mixed extensions (all explained): ${s.mixedExtensions
        .map((e) => `${e.extension || '(none)'} ${e.count}${examples(e)}`)
        .join('; ')}`,
    );
  for (const e of s.emptySplits) out.push(`empty split "${e.split}" (${e.path}/): no images`);
  for (const m of s.missingClasses)
    out.push(
      `split "${m.split ?? '(none)'}"${m.path ? ` (${m.path}/)` : ''} has no ${m.classes.join(', ')} images`,
    );
  return out;
}

/**
 * Labels from folder names (the ImageFolder layout most public data sets use:
 * `<split>/<class>/<image>`, e.g. Kaggle's `chest_xray/test/PNEUMONIA/person1_virus_6.jpeg`).
 * Pure functions of an object key: no IO, shared by ingest's expansion and the CLI.
 */

/** Extensions of the formats camflow decodes (PNG, JPEG, WebP, TIFF, DICOM), lower case. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.tif',
  '.tiff',
  '.dcm',
]);

/** The extension as written (`.JPG` stays `.JPG`), or '' when the name has none. */
export function extensionOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot) : '';
}

/**
 * Whether a key names an image by its name alone: an image extension, and not an archive's
 * debris (macOS `__MACOSX/` folders and `._*` resource forks, which carry image extensions,
 * and other hidden files). Local files are sniffed instead (their bytes decide).
 */
export function looksLikeImage(key: string): boolean {
  const segments = key.split('/');
  if (segments.some((s) => s === '__MACOSX' || s.startsWith('.'))) return false;
  return IMAGE_EXTENSIONS.has(extensionOf(key).toLowerCase());
}

/** Folder names that are never a split or a class (archive debris, hidden folders). */
export function isJunkFolder(name: string): boolean {
  return name === '__MACOSX' || name.startsWith('.');
}

/** One class a folder name maps to. */
export interface FolderClass {
  /** The name as `classes` spells it (what figures are shown under). */
  name: string;
  index: number;
}

/** Folder name -> class index, matched case-insensitively (`NORMAL`, `normal`, `Normal`). */
export class FolderClasses {
  private readonly byName = new Map<string, FolderClass>();

  /** Throws when two names differ only by case but map to different classes. */
  constructor(readonly classes: Readonly<Record<string, number>>) {
    for (const [name, index] of Object.entries(classes)) {
      const k = name.toLowerCase();
      const seen = this.byName.get(k);
      if (seen && seen.index !== index)
        throw new Error(
          `classes: "${seen.name}" and "${name}" differ only by case but map to ${seen.index} and ${index}`,
        );
      if (!seen) this.byName.set(k, { name, index });
    }
  }

  /** The class a folder name names, if any. */
  find(folder: string): FolderClass | undefined {
    return this.byName.get(folder.toLowerCase());
  }

  /** `NORMAL=0, PNEUMONIA=1`, for messages. */
  describe(): string {
    return Object.entries(this.classes)
      .map(([n, i]) => `${n}=${i}`)
      .join(', ');
  }
}

/** Where a key sits in the layout. */
export type KeyPlace =
  | {
      kind: 'image';
      label: number;
      className: string;
      /** The folder above the class folder (its name); absent when the class folder is the top. */
      split?: string;
      /** That folder's path ('' when there is none). */
      splitPath: string;
      extension: string;
    }
  | {
      kind: 'unlabelled';
      /** The image's own folder, which names no class ('' at the top level). */
      folder: string;
      /** That folder's path. */
      folderPath: string;
      extension: string;
    }
  | { kind: 'not-image'; extension: string };

/**
 * Places a key: its label is the nearest parent folder that names a class, its split the folder
 * above that one (`chest_xray/chest_xray/test/NORMAL/x.jpeg`: NORMAL, split `test`). `image`
 * overrides the name-based check (local files whose bytes were sniffed).
 */
export function placeKey(key: string, classes: FolderClasses, image?: boolean): KeyPlace {
  const extension = extensionOf(key);
  if (!(image ?? looksLikeImage(key))) return { kind: 'not-image', extension };
  const dirs = key.split('/').slice(0, -1);
  for (let i = dirs.length - 1; i >= 0; i--) {
    const c = classes.find(dirs[i]);
    if (!c) continue;
    return {
      kind: 'image',
      label: c.index,
      className: c.name,
      ...(i > 0 && { split: dirs[i - 1] }),
      splitPath: dirs.slice(0, i).join('/'),
      extension,
    };
  }
  return {
    kind: 'unlabelled',
    folder: dirs.at(-1) ?? '',
    folderPath: dirs.join('/'),
    extension,
  };
}

/**
 * A local folder as objects to upload: every regular file under it (symbolic links are not
 * followed, so a link loop cannot hang the walk), its key (`<prefix><path with />`), and whether
 * its bytes are an image camflow decodes (sniffed: a `.jpeg` that is really text is no image, a
 * DICOM file without an extension is one).
 */
import { open, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type ImageFormat, sniffFormat } from '@camflow/imaging';

export interface LocalFile {
  path: string;
  /** Path relative to the folder, with `/`. */
  rel: string;
  /** The sniffed format; undefined: not an image camflow reads. */
  format?: ImageFormat;
}

export interface LocalTree {
  files: LocalFile[];
  /** Sub-folders (relative, with `/`), empty ones included. */
  folders: string[];
}

/** Walks `dir` (sorted, so keys and output are stable). */
export async function walkFolder(dir: string): Promise<LocalTree> {
  const files: LocalFile[] = [];
  const folders: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const p = join(d, e.name);
      const rel = relative(dir, p).split(sep).join('/');
      if (e.isDirectory()) {
        folders.push(rel);
        await walk(p);
      } else if (e.isFile()) files.push({ path: p, rel, format: await sniff(p) });
    }
  };
  await walk(dir);
  return { files, folders };
}

/** The format from a file's first bytes (DICOM's magic sits at offset 128). */
export async function sniff(path: string): Promise<ImageFormat | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(132);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return sniffFormat(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  tiff: 'image/tiff',
  dicom: 'application/dicom',
};

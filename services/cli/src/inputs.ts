import { extname } from 'node:path';
import {
  type Geometry,
  type ModelCard,
  npyToFloat32,
  preprocess,
  readNpy,
  seedCard,
} from '@camflow/imaging';
import { readBytes } from './model-source.js';
import { UsageError } from './usage.js';

/** One image ready for the engine. */
export interface InputItem {
  /** The path as given. */
  input: string;
  /** Position inside a multi-image .npy (0 otherwise). */
  index: number;
  data: Float32Array;
  /** [C, H, W] */
  dims: number[];
  /** The original file, for overlays (images only). */
  image?: { bytes: Uint8Array; geometry: Geometry };
  /** Images in the same file (a multi-image .npy has several). */
  count: number;
}

/** Loads .npy arrays (already preprocessed) and image files (preprocessed by the card). */
export async function loadInputs(
  paths: string[],
  card: ModelCard | undefined,
): Promise<InputItem[]> {
  if (paths.length === 0) throw new UsageError('no input files given');
  const items: InputItem[] = [];
  for (const path of paths) {
    const bytes = await readBytes(path, 'input');
    if (extname(path).toLowerCase() === '.npy') items.push(...npyItems(path, bytes));
    else items.push(await imageItem(path, bytes, card));
  }
  return items;
}

function npyItems(path: string, bytes: Uint8Array): InputItem[] {
  let arr: ReturnType<typeof readNpy>;
  try {
    arr = readNpy(bytes);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (arr.shape.length !== 4) {
    throw new UsageError(
      `${path}: expected a float32 array [N, C, H, W], got shape [${arr.shape.join(', ')}]`,
    );
  }
  const { data } = npyToFloat32(arr);
  const [n, ...chw] = arr.shape;
  const per = chw.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => ({
    input: path,
    index: i,
    count: n,
    data: data.subarray(i * per, (i + 1) * per),
    dims: chw,
  }));
}

async function imageItem(
  path: string,
  bytes: Uint8Array,
  card: ModelCard | undefined,
): Promise<InputItem> {
  try {
    const p = await preprocess(bytes, card ?? seedCard);
    return {
      input: path,
      index: 0,
      count: 1,
      data: p.tensor,
      dims: p.shape,
      image: { bytes, geometry: p.geometry },
    };
  } catch (err) {
    throw new UsageError(`cannot use ${path}: ${(err as Error).message}`);
  }
}

/** Groups items of equal shape (in order) so each group runs as one batch. */
export function groupByShape(items: InputItem[]): InputItem[][] {
  const groups = new Map<string, InputItem[]>();
  for (const it of items) {
    const key = it.dims.join('x');
    const g = groups.get(key);
    if (g) g.push(it);
    else groups.set(key, [it]);
  }
  return [...groups.values()];
}

/** Stacks items into one batch. */
export function stack(items: InputItem[]): { data: Float32Array; dims: number[] } {
  const per = items[0].data.length;
  const data = new Float32Array(per * items.length);
  items.forEach((it, i) => {
    data.set(it.data, i * per);
  });
  return { data, dims: [items.length, ...items[0].dims] };
}

import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { type ModelCard, parseCard } from '@camflow/imaging';
import { UsageError } from './usage.js';

export interface ModelSource {
  path: string;
  bytes: Uint8Array;
  card?: ModelCard;
  /** The card's name, else the file's stem. */
  name: string;
}

/**
 * `--model` is a .onnx file or a directory holding model.onnx (+ model.json). The card is
 * `--card`, else model.json beside the model, else `<stem>.json` beside it, else none.
 */
export async function loadModelSource(
  model: string | undefined,
  cardPath?: string,
): Promise<ModelSource> {
  if (!model) throw new UsageError('--model is required');
  let path = model;
  if ((await stat(model).catch(() => undefined))?.isDirectory()) path = join(model, 'model.onnx');
  const bytes = await readBytes(path, 'model');
  const candidates = cardPath
    ? [cardPath]
    : [
        join(dirname(path), 'model.json'),
        join(dirname(path), `${basename(path, extname(path))}.json`),
      ];
  let card: ModelCard | undefined;
  for (const c of candidates) {
    const text = await readFile(c, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (cardPath) throw new UsageError(`cannot read card ${c}: ${err.code ?? err.message}`);
      return undefined;
    });
    if (text === undefined) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`card ${c} is not valid JSON: ${(err as Error).message}`);
    }
    try {
      card = parseCard(json);
    } catch (err) {
      throw new UsageError(`card ${c}: ${(err as Error).message}`);
    }
    break;
  }
  const stem = basename(path, extname(path));
  // model.onnx inside a model directory is named after the directory.
  const fileName = stem === 'model' ? basename(dirname(path)) || stem : stem;
  return { path, bytes, card, name: card ? `${card.name}@${card.version}` : fileName };
}

/** Reads a file, turning a missing or unreadable file into a UsageError. */
export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (err as Error).message;
    throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  }
}

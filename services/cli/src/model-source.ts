import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { cardModelIssues, type ModelCard, modelIO, parseCard } from '@camflow/imaging';
import { decodeModel, OnnxFormatError } from '@camflow/onnx';
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
  if (looksLikeJson(path, bytes))
    throw new UsageError(
      `${path} is a model card (JSON), not an ONNX model: pass --model <model.onnx> or the directory holding model.onnx and model.json (a card elsewhere: --card ${path})`,
    );
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
    checkFits(card, bytes, c, path);
    break;
  }
  const stem = basename(path, extname(path));
  // model.onnx inside a model directory is named after the directory.
  const fileName = stem === 'model' ? basename(dirname(path)) || stem : stem;
  return { path, bytes, card, name: card ? `${card.name}@${card.version}` : fileName };
}

/** A .json file, or one that starts with "{": in protobuf that byte opens a group, which ONNX never uses. */
function looksLikeJson(path: string, bytes: Uint8Array): boolean {
  if (extname(path).toLowerCase() === '.json') return true;
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  return first === 0x7b;
}

/**
 * The card against the graph (input channels, size, layout; classes; activation): a card that
 * does not fit its model is refused here, in one line naming both sides, rather than failing
 * every image with a shape error or giving wrong answers.
 */
function checkFits(card: ModelCard, bytes: Uint8Array, cardPath: string, modelPath: string) {
  let graph: ReturnType<typeof decodeModel>['graph'];
  try {
    graph = decodeModel(bytes).graph;
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new UsageError(`${modelPath}: ${err.message}`);
    throw err;
  }
  if (!graph) return;
  const issues = cardModelIssues(card, modelIO(graph));
  if (issues.length)
    throw new UsageError(`card ${cardPath} does not fit ${modelPath}: ${issues.join('; ')}`);
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

import { readFile } from 'node:fs/promises';
import type { Config } from '@camflow/config';
import { modelKeys, parseModelRef } from '@camflow/contracts';
import { type ModelCard, ModelCardError, parseCard } from '@camflow/imaging';
import { decodeModel, GraphIndex, resolveLayer } from '@camflow/onnx';
import type { ObjectStore } from '@camflow/storage';

/** Files and address of a model push. */
export interface PushModelOptions {
  onnxPath: string;
  cardPath: string;
  name: string;
  version: string;
}

/** Where a pushed model went. */
export interface PushedModel {
  bucket: string;
  onnxKey: string;
  cardKey: string;
  bytes: number;
  card: ModelCard;
}

/**
 * `camflow models push`: validates the card (parseCard), that the ONNX file decodes and that the
 * card's layer exists in it, then uploads both to `modelKeys` in the model bucket. The ONNX goes
 * first and the card last: ingest treats the card as the "model exists" marker, so a half-done
 * push is never visible. The stored card's name and version are those pushed (its address).
 */
export async function pushModel(
  store: ObjectStore,
  config: Pick<Config, 'CAMFLOW_MODEL_BUCKET'>,
  opts: PushModelOptions,
): Promise<PushedModel> {
  const ref = parseModelRef(`${opts.name}@${opts.version}`);
  const [onnx, cardText] = await Promise.all([
    readFile(opts.onnxPath),
    readFile(opts.cardPath, 'utf8'),
  ]);
  let raw: unknown;
  try {
    raw = JSON.parse(cardText);
  } catch (err) {
    throw new ModelCardError(`${opts.cardPath}: not JSON: ${(err as Error).message}`);
  }
  parseCard(raw);
  const stored = { ...(raw as object), name: ref.name, version: ref.version };
  const card = parseCard(stored);
  const graph = decodeModel(onnx).graph!;
  if (card.layer) resolveLayer(new GraphIndex(graph), card.layer);

  const bucket = config.CAMFLOW_MODEL_BUCKET;
  const keys = modelKeys(ref);
  await store.ensureBucket(bucket);
  await store.put(bucket, keys.onnx, onnx, 'application/octet-stream');
  await store.put(bucket, keys.card, `${JSON.stringify(stored, null, 2)}\n`, 'application/json');
  return { bucket, onnxKey: keys.onnx, cardKey: keys.card, bytes: onnx.byteLength, card };
}
